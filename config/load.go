package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// maxSecretBytes bounds what a password_file may hold, so that pointing it
// at /dev/zero or a log file fails instead of eating memory.
const maxSecretBytes = 64 << 10

// Load reads the configuration file at path and returns it with defaults
// applied and validated; see Parse. An unreadable file is returned as a
// plain error (errors.Is(err, fs.ErrNotExist) works); every problem in a
// readable file is returned together as *Errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse is Load from memory: file names the source in problems, env looks up
// environment variables (os.LookupEnv in production). It expands ${NAME} in
// the text (not in comments; $${ is a literal ${), decodes it, rejects
// unknown keys, resolves password_env and password_file into the Password
// fields, applies defaults and validates. On any problem it returns a nil
// Config and *Errors listing every problem found, sorted by line. Values of
// ${NAME} may appear in messages; secrets belong in password_env or
// password_file, whose values never do. A nil env has no variables.
func Parse(file string, data []byte, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	return parse(file, data, sources{env: env, readFile: readSecretFile})
}

// sources are the two things Parse reads besides the text; tests replace them.
type sources struct {
	env      func(string) (string, bool)
	readFile func(string) ([]byte, error)
}

func parse(file string, data []byte, src sources) (*Config, error) {
	r := &reporter{file: file}
	text := expand(string(bytes.TrimPrefix(data, []byte("\uFEFF"))), src.env, r)
	var tree map[string]any
	if _, err := toml.Decode(text, &tree); err != nil {
		r.syntax(err)
		return nil, r.err()
	}
	r.lines = indexLines(text)
	expandTemplates(tree, r)
	c := &Config{File: file}
	(&decoder{r: r}).table("", tree, reflect.ValueOf(c).Elem())
	c.resolveSecrets(src, r)
	c.ApplyDefaults()
	n := len(r.errs)
	c.validate(r)
	r.dropRepeats(n)
	if err := r.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// syntax records a TOML syntax error; the rest of the file cannot be read.
func (r *reporter) syntax(err error) {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		r.addAt(pe.Position.Line, "", "syntax error: %s", pe.Message)
		return
	}
	r.addAt(0, "", "syntax error: %v", err)
}

// resolveSecrets fills the Password fields from password_env or password_file.
func (c *Config) resolveSecrets(src sources, r *reporter) {
	for i := range c.Servers {
		s := &c.Servers[i]
		s.Password = src.secret(fmt.Sprintf("servers[%d]", i), s.PasswordEnv, s.PasswordFile, r)
	}
	c.MQTT.Password = src.secret("mqtt", c.MQTT.PasswordEnv, c.MQTT.PasswordFile, r)
	if h := c.IoTHub; h != nil {
		h.ConnectionString = src.secretAt("iothub.connection_string_env", "iothub.connection_string_file",
			h.ConnectionStringEnv, h.ConnectionStringFile, r)
	}
}

// secret reads one password from its source. When both sources are set,
// Validate reports it and the variable is used.
func (src sources) secret(path, envName, file string, r *reporter) Secret {
	return src.secretAt(path+".password_env", path+".password_file", envName, file, r)
}

// secretAt reads a secret from the variable envName or the file, reporting
// a problem at envKey or fileKey.
func (src sources) secretAt(envKey, fileKey, envName, file string, r *reporter) Secret {
	switch {
	case envName != "":
		v, ok := src.env(envName)
		if !ok {
			r.add(envKey, "environment variable %s is not set", envName)
		}
		return Secret(v)
	case file != "":
		b, err := src.readFile(file)
		if err != nil {
			r.add(fileKey, "%v", err)
			return ""
		}
		s := strings.TrimSuffix(string(b), "\n")
		return Secret(strings.TrimSuffix(s, "\r"))
	}
	return ""
}

// readSecretFile reads a password file of at most maxSecretBytes. Relative
// paths are relative to the working directory, like every path in the file.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read password file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("read password file %s: %w", path, err)
	case len(b) > maxSecretBytes:
		return nil, fmt.Errorf("read password file %s: larger than %d bytes", path, maxSecretBytes)
	}
	return b, nil
}

// Summary describes a loaded configuration in one line, for the start-up log
// and configuration checks.
func (c *Config) Summary() string {
	stations, nodes := 0, 0
	for _, l := range c.Lines {
		stations += len(l.Stations)
		for _, s := range l.Stations {
			nodes += len(s.Nodes)
		}
	}
	dest := "mqtt " + c.MQTT.Broker
	if c.IoTHub != nil {
		dest = "iothub"
	}
	return fmt.Sprintf("config ok: bridge %s, %s, %s, %s, %s → %s", c.Bridge.ID,
		count(len(c.Servers), "server"), count(len(c.Lines), "line"),
		count(stations, "station"), count(nodes, "node"), dest)
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
