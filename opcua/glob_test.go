package opcua

import (
	"strings"
	"testing"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pat, path     string
		match, deeper bool
	}{
		{"Objects/Line/*/Status", "Objects/Line/a/Status", true, false},
		{"Objects/Line/*/Status", "Objects/Line/a", false, true},
		{"Objects/Line/*/Status", "Objects/Other", false, false},
		{"Objects/Load/*", "Objects/Load/load.1", true, false},
		{"**/Status", "Objects/a/b/Status", true, true},
		{"**/Status", "Objects/a", false, true},
		{"Objects/**", "Objects", true, true},
		{"Objects/**", "Objects/x/y", true, true},
		{"Objects/Temp?", "Objects/Temp1", true, false},
		{"Objects/Temp?", "Objects/Temp12", false, false},
		{"Objects/**/x/**/y", "Objects/a/x/b/c/y", true, true},
	}
	for _, tt := range tests {
		pat, names := splitGlob(tt.pat), strings.Split(tt.path, "/")
		if got := matchGlob(pat, names, false); got != tt.match {
			t.Errorf("match(%s, %s) = %v", tt.pat, tt.path, got)
		}
		if got := matchGlob(pat, names, true); got != tt.deeper {
			t.Errorf("deeper(%s, %s) = %v", tt.pat, tt.path, got)
		}
	}
	if err := checkGlob("Objects/[a"); err == nil {
		t.Error("checkGlob accepted [a")
	}
}
