package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"factorybridge/internal/testenv"
)

// instruction is one Dockerfile instruction: its keyword and the rest.
type instruction struct{ cmd, args string }

// stage is the instructions from one FROM to the next.
type stage struct {
	from, name string
	ins        []instruction
}

// parseDockerfile splits a Dockerfile into stages, joining continued lines
// and dropping comments; enough to check the file's parts, not a full parser.
func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	return stages
}

func (s stage) find(cmd string) []string {
	var out []string
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// TestDockerfile: a multi-stage build whose final image holds the static
// release binary as a non-root user, a /data volume, and a health check by
// the binary's own health command (the image has no shell and no curl).
func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, filepath.Join(testenv.RepoRoot(), "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if build.name == "" || !strings.HasPrefix(build.from, "golang:") {
		t.Errorf("first stage FROM %s AS %q, want a named golang build stage", build.from, build.name)
	}
	if runs := strings.Join(build.find("RUN"), "\n"); !strings.Contains(runs, "scripts/release.sh") {
		t.Errorf("the build stage does not build with scripts/release.sh:\n%s", runs)
	}
	if !strings.Contains(final.from, "distroless/static") {
		t.Errorf("final stage FROM %s, want distroless/static (CA certificates and time zones, no libc)", final.from)
	}
	copies := strings.Join(final.find("COPY"), "\n")
	if !strings.Contains(copies, "--from="+build.name) || !strings.Contains(copies, "/usr/local/bin/factorybridge") {
		t.Errorf("the final stage does not copy the binary from %s:\n%s", build.name, copies)
	}
	users := final.find("USER")
	if len(users) == 0 || slices.ContainsFunc(users, func(u string) bool {
		name, _, _ := strings.Cut(u, ":")
		return name == "root" || name == "0"
	}) {
		t.Errorf("USER %q: the final image must run as a non-root user", users)
	}
	if v := strings.Join(final.find("VOLUME"), " "); !strings.Contains(v, `"/data"`) {
		t.Errorf("VOLUME %q, want /data", v)
	}
	hc := strings.Join(final.find("HEALTHCHECK"), " ")
	if !strings.Contains(hc, `CMD ["/usr/local/bin/factorybridge", "health"`) {
		t.Errorf("HEALTHCHECK %q, want the binary's health command in exec form", hc)
	}
	if ep := strings.Join(final.find("ENTRYPOINT"), " "); !strings.Contains(ep, "/usr/local/bin/factorybridge") {
		t.Errorf("ENTRYPOINT %q", ep)
	}
	for _, in := range final.ins {
		if in.cmd == "RUN" || strings.Contains(in.args, "curl") {
			t.Errorf("final stage %s %s: the image has no shell and no curl", in.cmd, in.args)
		}
	}
}

// TestReleaseScriptStamps: the build the Dockerfile runs is static and
// stamps version and commit (VCS stamping is off on the build machines).
func TestReleaseScriptStamps(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "scripts", "release.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-X main.version=$VERSION", "-X main.commit=$COMMIT", "-trimpath"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("scripts/release.sh lacks %q", want)
		}
	}
}
