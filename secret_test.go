package factorybridge

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const testSecret = "hunter2-Secr3t"

// TestSecretHidden: every way a Secret commonly reaches a log line, a
// status document or an error hides it.
func TestSecretHidden(t *testing.T) {
	type creds struct {
		User     string
		Password Secret
	}
	c := creds{User: "op", Password: testSecret}
	jsonOut, err := json.Marshal(map[string]any{"creds": c, "ptr": &c.Password})
	if err != nil {
		t.Fatal(err)
	}
	xmlOut, err := xml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("login", "password", c.Password, "creds", c)
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("login", "password", c.Password, "creds", c)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
		"%s": fmt.Sprintf("%s", c.Password), "%q": fmt.Sprintf("%q", c.Password),
		"json": string(jsonOut), "xml": string(xmlOut), "slog json": jsonLog.String(), "slog text": textLog.String(),
	}
	for how, out := range outputs {
		if strings.Contains(out, testSecret) || !strings.Contains(out, "redacted") {
			t.Errorf("%s shows %q, want the secret hidden as [redacted]", how, out)
		}
	}
	if x := fmt.Sprintf("%x", c.Password); strings.Contains(x, fmt.Sprintf("%x", testSecret)) {
		t.Errorf("%%x shows the secret in hex: %s", x)
	}
	if c.Password.Value() != testSecret {
		t.Errorf("Value() = %q, want the secret", c.Password.Value())
	}
}

// TestSecretEmpty: no secret shows as empty, so that "not set" stays visible.
func TestSecretEmpty(t *testing.T) {
	var s Secret
	b, err := json.Marshal(s)
	if err != nil || string(b) != `""` || s.String() != "" || s.LogValue().String() != "" {
		t.Errorf("empty Secret: json %s (%v), String %q, LogValue %q", b, err, s.String(), s.LogValue())
	}
}
