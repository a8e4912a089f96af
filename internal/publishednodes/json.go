package publishednodes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// value is one JSON value with the byte offset it starts at, so that every
// issue can name its line. Objects keep their members in file order.
type value struct {
	off     int
	kind    byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, '0' null
	members []member
	elems   []*value
	str     string
	num     json.Number
	b       bool
}

type member struct {
	key string
	val *value
}

// get returns the member named key, matched without regard to case as
// OPC Publisher's JSON decoder does, or nil.
func (v *value) get(key string) *value {
	for _, m := range v.members {
		if strings.EqualFold(m.key, key) {
			return m.val
		}
	}
	return nil
}

// text renders a scalar value for messages, short.
func (v *value) text() string {
	switch v.kind {
	case 's':
		s := v.str
		if len(s) > 60 {
			s = s[:60] + "…"
		}
		return fmt.Sprintf("%q", s)
	case 'n':
		return v.num.String()
	case 'b':
		return fmt.Sprint(v.b)
	case '0':
		return "null"
	case 'a':
		return fmt.Sprintf("[%d elements]", len(v.elems))
	}
	return "{…}"
}

// parseJSON decodes data, which may hold // and /* */ comments as OPC
// Publisher's own example files do, into a positioned tree.
func parseJSON(data []byte) (*value, error) {
	clean := stripComments(data)
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.UseNumber()
	p := &jsonParser{dec: dec, data: clean}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &syntaxError{off: p.start(), msg: "more than one JSON value (want one array of entries)"}
	}
	return v, nil
}

// syntaxError is a JSON problem at a byte offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

type jsonParser struct {
	dec  *json.Decoder
	data []byte
}

// start returns the offset of the next value: after the previous token,
// past blanks and the ',' or ':' between.
func (p *jsonParser) start() int {
	i := int(p.dec.InputOffset())
	for i < len(p.data) && strings.IndexByte(" \t\r\n,:", p.data[i]) >= 0 {
		i++
	}
	return i
}

func (p *jsonParser) value() (*value, error) {
	off := p.start()
	tok, err := p.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &syntaxError{off: int(se.Offset), msg: "JSON syntax error: " + se.Error()}
		}
		return nil, &syntaxError{off: off, msg: "JSON: " + err.Error()}
	}
	v := &value{off: off}
	switch t := tok.(type) {
	case json.Delim:
		return v, p.container(v, t)
	case string:
		v.kind, v.str = 's', t
	case json.Number:
		v.kind, v.num = 'n', t
	case bool:
		v.kind, v.b = 'b', t
	case nil:
		v.kind = '0'
	}
	return v, nil
}

func (p *jsonParser) container(v *value, open json.Delim) error {
	v.kind = 'a'
	if open == '{' {
		v.kind = 'o'
	}
	for p.dec.More() {
		if v.kind == 'o' {
			key, err := p.dec.Token()
			if err != nil {
				return &syntaxError{off: p.start(), msg: "JSON syntax error: " + err.Error()}
			}
			val, err := p.value()
			if err != nil {
				return err
			}
			v.members = append(v.members, member{key: key.(string), val: val})
			continue
		}
		e, err := p.value()
		if err != nil {
			return err
		}
		v.elems = append(v.elems, e)
	}
	if _, err := p.dec.Token(); err != nil { // the closing delimiter
		return &syntaxError{off: p.start(), msg: "JSON syntax error: " + err.Error()}
	}
	return nil
}

// stripComments blanks // and /* */ comments outside strings, keeping line
// breaks, so that offsets and lines stay those of the file.
func stripComments(data []byte) []byte {
	out := bytes.Clone(data)
	inString := false
	for i := 0; i < len(out); i++ {
		switch c := out[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for ; i < len(out) && out[i] != '\n'; i++ {
				out[i] = ' '
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			end := bytes.Index(out[i+2:], []byte("*/"))
			stop := len(out)
			if end >= 0 {
				stop = i + 2 + end + 2
			}
			for ; i < stop; i++ {
				if out[i] != '\n' {
					out[i] = ' '
				}
			}
			i--
		}
	}
	return out
}

// lineIndex turns byte offsets into 1-based line numbers.
type lineIndex []int // offsets of the line breaks

func newLineIndex(data []byte) lineIndex {
	var ix lineIndex
	for i, c := range data {
		if c == '\n' {
			ix = append(ix, i)
		}
	}
	return ix
}

func (ix lineIndex) line(off int) int {
	return sort.SearchInts(ix, off) + 1
}
