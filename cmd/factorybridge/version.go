package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// gopcuaModule is the OPC UA stack whose version an operator reporting a
// problem with a server needs to tell.
const gopcuaModule = "github.com/gopcua/opcua"

// cmdVersion prints the version and commit stamped by the release build,
// the Go version and gopcua's version (from the module information Go
// embeds in every binary; VCS stamping is off on the build machines, so
// the commit comes from -ldflags).
func cmdVersion(stdout io.Writer) error {
	c := commit
	if c == "" {
		c = "unknown (not a release build: scripts/release.sh stamps it)"
	}
	fmt.Fprintf(stdout, "factorybridge %s\n  commit  %s\n  go      %s\n  gopcua  %s\n", version, c, runtime.Version(), moduleVersion(gopcuaModule))
	return nil
}

// moduleVersion is the version of the module path linked into the binary,
// "unknown" when the binary has no module information.
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range info.Deps {
		if d.Path == path {
			switch {
			case d.Replace != nil && (d.Replace.Version == "" || d.Replace.Version == "(devel)"):
				// A directory: the patched copy (third_party/gopcua/PATCHES.md).
				return d.Version + " with the patches in " + d.Replace.Path
			case d.Replace != nil:
				return d.Replace.Version + " (replaces " + d.Version + ")"
			}
			return d.Version
		}
	}
	return "unknown"
}
