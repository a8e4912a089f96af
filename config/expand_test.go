package config

import (
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	env := func(name string) (string, bool) {
		v, ok := map[string]string{"HOST": "10.0.0.1", "PORT": "4840", "EMPTY": "", "NL": "a\nb"}[name]
		return v, ok
	}
	tests := []struct {
		in, want string
		problems []string
	}{
		{`x = "${HOST}:${PORT}"`, `x = "10.0.0.1:4840"`, nil},
		{`x = "${EMPTY}"`, `x = ""`, nil},
		{`x = "$${HOST}"`, `x = "${HOST}"`, nil},
		{`x = "$HOST"`, `x = "$HOST"`, nil},
		{`x = "${HOST}" # ${NOPE} in a comment`, `x = "10.0.0.1" # ${NOPE} in a comment`, nil},
		{`x = "a#${HOST}"`, `x = "a#10.0.0.1"`, nil},
		{`x = '''` + "\n" + `# ${HOST}` + "\n" + `'''`, `x = '''` + "\n" + `# 10.0.0.1` + "\n" + `'''`, nil},
		{`x = "${NOPE}"`, `x = ""`, []string{"1: ${NOPE}: environment variable is not set"}},
		{"a = 1\nx = \"${NL}\"", "a = 1\nx = \"\"", []string{"2: ${NL}: environment variable contains a line break"}},
		{`x = "${1X}"`, `x = ""`, []string{"1: ${1X}: invalid variable name (valid: letters, digits and _, not starting with a digit)"}},
		{`x = "${HOST"`, `x = "${HOST"`, []string{"1: ${: unterminated variable reference (valid: ${NAME}, or $${ for a literal ${)"}},
	}
	for _, tt := range tests {
		r := &reporter{}
		if got := expand(tt.in, env, r); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
		var problems []string
		for _, p := range r.errs {
			problems = append(problems, p.String())
		}
		if strings.Join(problems, "|") != strings.Join(prefixLine(tt.problems), "|") {
			t.Errorf("expand(%q) problems %q, want %q", tt.in, problems, tt.problems)
		}
	}
}

// prefixLine turns "N: rest" into the way Problem.String shows a line
// without a file: "line N: rest".
func prefixLine(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = "line " + p
	}
	return out
}
