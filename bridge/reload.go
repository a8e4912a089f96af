package bridge

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"factorybridge/config"
)

// ErrRestartRequired is returned by Apply for a configuration that differs
// from the running one in what cannot be changed while running.
var ErrRestartRequired = errors.New("the change needs a restart")

// Apply is the seam for applying a new configuration to the running
// system: it compares cfg (loaded and validated) with the running one,
// section by section. A configuration that differs in nothing the bridge
// runs on (a comment, the order of keys) is accepted and nil returned.
// Today no section can be changed while running: any difference returns
// ErrRestartRequired naming the sections, and the running system is left
// as it was. Applying a difference per component (servers, nodes, OEE,
// publisher) is built on this method.
func (b *Bridge) Apply(_ context.Context, cfg *config.Config) error {
	if changed := Changes(b.cfg, cfg); len(changed) > 0 {
		return fmt.Errorf("%w: %s changed", ErrRestartRequired, strings.Join(changed, ", "))
	}
	b.cfg.File = cfg.File
	return nil
}

// Changes returns the sections of the configuration that differ between a
// and b, by their TOML names, in file order.
func Changes(a, b *config.Config) []string {
	sections := []struct {
		name string
		a, b any
	}{
		{"bridge", a.Bridge, b.Bridge},
		{"buffer", a.Buffer, b.Buffer},
		{"mqtt", a.MQTT, b.MQTT},
		{"iothub", a.IoTHub, b.IoTHub},
		{"servers", a.Servers, b.Servers},
		{"lines", a.Lines, b.Lines},
		{"calendars", a.Calendars, b.Calendars},
	}
	var out []string
	for _, s := range sections {
		if !reflect.DeepEqual(s.a, s.b) {
			out = append(out, s.name)
		}
	}
	return out
}
