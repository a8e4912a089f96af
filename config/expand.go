package config

import "strings"

// expand replaces every ${NAME} outside comments with env(NAME); "$${"
// stands for a literal "${". A variable that is not set, a malformed
// reference or a value with a line break is a problem at its line and
// expands to "". Values containing line breaks are refused so that line
// numbers stay true and a variable cannot add keys or tables.
func expand(text string, env func(string) (string, bool), r *reporter) string {
	if !strings.Contains(text, "${") {
		return text
	}
	var lx lexer
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		end := lx.line(line, 0, nil)
		lines[i] = expandLine(line[:end], i+1, env, r) + line[end:]
	}
	return strings.Join(lines, "\n")
}

func expandLine(s string, line int, env func(string) (string, bool), r *reporter) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		if i > 0 && s[i-1] == '$' { // $${ is a literal ${
			b.WriteString(s[:i-1] + "${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		n := strings.IndexByte(s[i:], '}')
		if n < 0 {
			r.addAt(line, "${", "unterminated variable reference (valid: ${NAME}, or $${ for a literal ${)")
			return b.String() + s[i:]
		}
		b.WriteString(lookupVar(s[i+2:i+n], line, env, r))
		s = s[i+n+1:]
	}
}

// lookupVar returns the value of the variable name, reporting it when it is
// malformed, not set or multi-line.
func lookupVar(name string, line int, env func(string) (string, bool), r *reporter) string {
	ref := "${" + name + "}"
	if !isVarName(name) {
		r.addAt(line, ref, "invalid variable name (valid: letters, digits and _, not starting with a digit)")
		return ""
	}
	v, ok := env(name)
	switch {
	case !ok:
		r.addAt(line, ref, "environment variable is not set")
	case strings.ContainsAny(v, "\r\n"):
		r.addAt(line, ref, "environment variable contains a line break")
	default:
		return v
	}
	return ""
}

func isVarName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '_' && !(c >= '0' && c <= '9') && !(c|0x20 >= 'a' && c|0x20 <= 'z') {
			return false
		}
	}
	return true
}
