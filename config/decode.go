package config

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// decoder copies the tree toml.Decode produced into the config structs, by
// their toml tags. It does the typing itself, rather than letting toml
// decode into the structs, so that it can report every type error and every
// unknown key with its full path ("lines[0].stations[2].nodes[4].id"):
// toml stops at the first type error and names keys without array indices.
type decoder struct {
	r *reporter
}

// definer is implemented by structs that need to know which of their keys
// the file wrote, beyond their values.
type definer interface {
	defined(key string)
}

var durationType = reflect.TypeFor[Duration]()

// table decodes the TOML table m at path into the struct rv.
func (d *decoder) table(path string, m map[string]any, rv reflect.Value) {
	fields := tomlFields(rv.Type())
	def, _ := rv.Addr().Interface().(definer)
	for _, k := range sortedKeys(m) {
		kpath := join(path, keyPath(k))
		i, ok := fields[k]
		if !ok {
			d.unknown(kpath, k, m[k], rv.Type())
			continue
		}
		d.value(kpath, m[k], rv.Field(i))
		if def != nil {
			def.defined(k)
		}
	}
}

// value decodes one TOML value v at path into the field fv.
func (d *decoder) value(path string, v any, fv reflect.Value) {
	if fv.Type() == durationType {
		d.duration(path, v, fv)
		return
	}
	switch fv.Kind() {
	case reflect.Pointer:
		p := reflect.New(fv.Type().Elem())
		d.value(path, v, p.Elem())
		fv.Set(p)
	case reflect.Struct:
		d.subTable(path, v, fv)
	case reflect.Map:
		d.stringMap(path, v, fv)
	case reflect.Slice:
		if fv.Type().Elem().Kind() == reflect.Struct {
			d.tables(path, v, fv)
		} else {
			d.list(path, v, fv)
		}
	case reflect.String:
		d.str(path, v, fv)
	case reflect.Int, reflect.Int64, reflect.Uint32:
		d.integer(path, v, fv)
	case reflect.Float64:
		d.float(path, v, fv)
	case reflect.Bool:
		d.boolean(path, v, fv)
	default:
		d.r.add(path, "cannot decode into %s", fv.Type()) // a schema change missed here
	}
}

func (d *decoder) boolean(path string, v any, fv reflect.Value) {
	b, ok := v.(bool)
	if !ok {
		d.r.add(path, "%s is not a boolean (valid: true or false)", describe(v))
		return
	}
	fv.SetBool(b)
}

func (d *decoder) subTable(path string, v any, fv reflect.Value) {
	m, ok := v.(map[string]any)
	if !ok {
		d.r.add(path, "%s is not a table (valid: a [%s] section)", describe(v), path)
		return
	}
	d.table(path, m, fv)
}

// tables decodes an array of tables, [[x]] sections or [{…}, {…}].
func (d *decoder) tables(path string, v any, fv reflect.Value) {
	ms, ok := asTables(v)
	if !ok {
		d.r.add(path, "%s is not an array of tables (valid: [[%s]] sections)", describe(v), lastKey(path))
		return
	}
	fv.Set(reflect.MakeSlice(fv.Type(), len(ms), len(ms)))
	for i, m := range ms {
		d.table(path+"["+strconv.Itoa(i)+"]", m, fv.Index(i))
	}
}

// stringMap decodes a table of strings, such as vars = { db = "DB12" }.
func (d *decoder) stringMap(path string, v any, fv reflect.Value) {
	m, ok := v.(map[string]any)
	if !ok {
		d.r.add(path, "%s is not a table (valid: { key = \"value\", … })", describe(v))
		return
	}
	fv.Set(reflect.MakeMapWithSize(fv.Type(), len(m)))
	for _, k := range sortedKeys(m) {
		e := reflect.New(fv.Type().Elem()).Elem()
		d.value(join(path, keyPath(k)), m[k], e)
		fv.SetMapIndex(reflect.ValueOf(k), e)
	}
}

// list decodes an array of scalars, such as days = ["mon", "tue"].
func (d *decoder) list(path string, v any, fv reflect.Value) {
	es, ok := v.([]any)
	if !ok {
		d.r.add(path, "%s is not an array (valid: [value, …])", describe(v))
		return
	}
	fv.Set(reflect.MakeSlice(fv.Type(), len(es), len(es)))
	for i, e := range es {
		d.value(path+"["+strconv.Itoa(i)+"]", e, fv.Index(i))
	}
}

func asTables(v any) ([]map[string]any, bool) {
	switch v := v.(type) {
	case []map[string]any:
		return v, true
	case []any:
		ms := make([]map[string]any, len(v))
		for i, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			ms[i] = m
		}
		return ms, true
	}
	return nil, false
}

func (d *decoder) str(path string, v any, fv reflect.Value) {
	s, ok := v.(string)
	if !ok {
		d.r.add(path, "%s is not a string (valid: a quoted string)", describe(v))
		return
	}
	fv.SetString(s)
}

func (d *decoder) integer(path string, v any, fv reflect.Value) {
	n, ok := v.(int64)
	if !ok {
		d.r.add(path, "%s is not an integer", describe(v))
		return
	}
	if fv.CanUint() {
		if n < 0 || fv.OverflowUint(uint64(n)) {
			d.r.add(path, "%d is out of range (valid: 0–%d)", n, math.MaxUint32)
			return
		}
		fv.SetUint(uint64(n))
		return
	}
	fv.SetInt(n) // int and int64 are 64 bits wide on the platforms we build for
}

func (d *decoder) float(path string, v any, fv reflect.Value) {
	switch n := v.(type) {
	case float64:
		fv.SetFloat(n)
	case int64:
		fv.SetFloat(float64(n))
	default:
		d.r.add(path, "%s is not a number", describe(v))
	}
}

const validDuration = `(valid: a quoted number with unit ns, us, ms, s, m or h, e.g. "500ms", "1m30s")`

func (d *decoder) duration(path string, v any, fv reflect.Value) {
	s, ok := v.(string)
	if !ok {
		d.r.add(path, "%s is not a duration %s", describe(v), validDuration)
		return
	}
	t, err := time.ParseDuration(s)
	if err != nil {
		d.r.add(path, "%s is not a duration %s", describe(v), validDuration)
		return
	}
	fv.SetInt(int64(t))
}

// describe names a TOML value's type, with the value when it is a scalar.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		if r := []rune(v); len(r) > 40 {
			v = string(r[:40]) + "…"
		}
		return "string " + strconv.Quote(v)
	case int64:
		return "integer " + strconv.FormatInt(v, 10)
	case float64:
		return "float " + strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case map[string]any:
		return "a table"
	case []map[string]any, []any:
		return "an array"
	}
	return "a datetime"
}

// tomlFields maps a struct's toml keys to field indices.
func tomlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if k := tomlKey(t.Field(i)); k != "" {
			m[k] = i
		}
	}
	return m
}

// tomlKey returns the field's toml key, or "" when it has none.
func tomlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if !f.IsExported() || k == "-" || k == "" {
		return ""
	}
	return k
}

func lastKey(path string) string {
	return path[strings.LastIndex(path, ".")+1:]
}

// unknown reports a key of the table of type t that the schema lacks, with
// the nearest known key or else all of them.
func (d *decoder) unknown(path, key string, v any, t reflect.Type) {
	if key == "password" {
		d.r.add(path, "passwords are never written in the configuration file (valid: password_env = name of an environment variable, or password_file = path of a file)")
		return
	}
	var known []string
	for i := range t.NumField() {
		if k := tomlKey(t.Field(i)); k != "" {
			known = append(known, k)
		}
	}
	what := "key"
	if _, ok := asTables(v); ok || describe(v) == "a table" {
		what = "table"
	}
	if near := nearest(key, known); near != "" {
		d.r.add(path, "unknown %s; did you mean %q?", what, near)
		return
	}
	d.r.add(path, "unknown %s (valid: %s)", what, strings.Join(known, ", "))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
