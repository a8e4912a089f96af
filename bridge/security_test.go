package bridge

import (
	"os"
	"path/filepath"
	"testing"

	"factorybridge/config"
	"factorybridge/internal/testenv"
	"factorybridge/pki"
)

// TestWarnReadableKeys: the application certificate's private key (in
// <pki_dir>/own, or a server's own key file) is a secret like the user
// keys: readable by every user, it is warned about.
func TestWarnReadableKeys(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{Bridge: config.Bridge{PKIDir: filepath.Join(dir, "pki")}}
	own := filepath.Join(cfg.Bridge.PKIDir, pki.OwnDir, pki.OwnKeyFile)
	srvKey, private := filepath.Join(dir, "plc.key"), filepath.Join(dir, "plc2.key")
	for path, mode := range map[string]os.FileMode{own: 0o644, srvKey: 0o644, private: 0o600} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("key"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // not subject to the umask
			t.Fatal(err)
		}
	}
	cfg.Servers = []config.Server{{Name: "plc", Key: srvKey}, {Name: "plc2", Key: private}}
	var logs testenv.Logs
	warnReadableSecrets(cfg, logs.Logger())
	recs := logs.Records("private key file is readable by every user; restrict it (chmod 600, or 640 with the bridge's group)")
	got := map[string]string{}
	for _, r := range recs {
		got[r["setting"].(string)] = r["file"].(string)
	}
	want := map[string]string{"bridge.pki_dir (application key)": own, "servers[0].key": srvKey}
	if len(got) != len(want) || got["servers[0].key"] != srvKey || got["bridge.pki_dir (application key)"] != own {
		t.Errorf("warned about %v, want %v", got, want)
	}
}
