package config

import (
	"strconv"
	"strings"
)

// lexer follows just enough of TOML's lexical structure, line by line, to
// tell comments, strings and values that span lines apart. It never fails:
// the real decoder reports malformed input.
type lexer struct {
	ml    string // delimiter of the multi-line string open at line end, or ""
	depth int    // '[' and '{' of a value still open at line end
}

// line scans s from offset i and returns where its comment starts, or
// len(s). brace, when not nil, is called for each '{' with the depth of
// brackets around it.
func (lx *lexer) line(s string, i int, brace func(depth int)) int {
	for i < len(s) {
		if lx.ml != "" {
			i = lx.closeMultiline(s, i)
			continue
		}
		switch c := s[i]; c {
		case '#':
			return i
		case '"', '\'':
			if strings.HasPrefix(s[i:], strings.Repeat(string(c), 3)) {
				lx.ml = s[i : i+3]
				i += 3
				continue
			}
			i = closeString(s, i+1, c)
			continue
		case '{':
			if brace != nil {
				brace(lx.depth)
			}
			lx.depth++
		case '[':
			lx.depth++
		case ']', '}':
			lx.depth = max(lx.depth-1, 0)
		}
		i++
	}
	return len(s)
}

// closeMultiline returns the offset after the open multi-line string's
// closing delimiter, clearing lx.ml, or len(s) when it does not close on s.
func (lx *lexer) closeMultiline(s string, i int) int {
	for ; i < len(s); i++ {
		if s[i] == '\\' && lx.ml == `"""` {
			i++
			continue
		}
		if strings.HasPrefix(s[i:], lx.ml) {
			lx.ml = ""
			return i + 3
		}
	}
	return len(s)
}

// closeString returns the offset after the one-line string that started
// before i with quote q, or len(s) when it is unterminated.
func closeString(s string, i int, q byte) int {
	for ; i < len(s); i++ {
		switch {
		case s[i] == '\\' && q == '"':
			i++
		case s[i] == q:
			return i + 1
		}
	}
	return len(s)
}

// parseKey reads a possibly dotted key of bare and quoted parts from the
// start of s and returns the parts and what follows. ok is false when s does
// not start with a key.
func parseKey(s string) (keys []string, rest string, ok bool) {
	for {
		s = strings.TrimLeft(s, " \t")
		part, n := keyPart(s)
		if n == 0 {
			return nil, s, false
		}
		keys = append(keys, part)
		s = strings.TrimLeft(s[n:], " \t")
		if !strings.HasPrefix(s, ".") {
			return keys, s, true
		}
		s = s[1:]
	}
}

// keyPart returns the first bare or quoted key part of s and its length in s.
func keyPart(s string) (string, int) {
	if s == "" {
		return "", 0
	}
	if q := s[0]; q == '"' || q == '\'' {
		n := closeString(s, 1, q)
		if n < 2 || s[n-1] != q {
			return "", 0
		}
		return unquoteKey(s[:n]), n
	}
	n := 0
	for n < len(s) && isBareKeyChar(s[n]) {
		n++
	}
	return s[:n], n
}

func unquoteKey(q string) string {
	inner := q[1 : len(q)-1]
	if q[0] == '"' && strings.Contains(inner, `\`) {
		inner = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(inner)
	}
	return inner
}

func isBareKeyChar(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// keyPath renders one key part the way field paths show it: bare when it
// can be, quoted otherwise.
func keyPath(k string) string {
	for i := 0; i < len(k); i++ {
		if !isBareKeyChar(k[i]) {
			return strconv.Quote(k)
		}
	}
	if k == "" {
		return `""`
	}
	return k
}
