package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"factorybridge/config"
	"factorybridge/internal/publishednodes"
)

const importHelp = `Converts OPC Publisher's node file (publishednodes.json) into a factorybridge
config: one [[servers]] entry per endpoint and security, one line per
DataSetWriterGroup, one station per DataSetWriterId, one node per OpcNodes entry
(Id, ExpandedNodeId or BrowsePath; DisplayName as its name; sampling and
publishing intervals, queue size, trigger and deadband).

Nothing is dropped silently: every setting that is not mapped (heartbeats and
skip-first among them, for now; events; cyclic reads; OPC Publisher's message
settings) is listed on stderr as FILE:LINE: path: why, and written as a comment
next to its node in the output. Passwords are never copied: the output names an
environment variable for each (password_env).

  factorybridge import -o plant.toml publishednodes.json
  (edit plant.toml: [mqtt] broker, the password variables, the CHANGE-ME paths)
  factorybridge validate -config plant.toml`

func cmdImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", "[flags] publishednodes.json", importHelp, stderr)
	out := fs.String("o", "", "write to `FILE` instead of stdout")
	o := publishednodes.Options{}
	fs.StringVar(&o.BridgeID, "bridge-id", "factorybridge", "bridge.id of the config written")
	fs.StringVar(&o.Broker, "broker", "tcp://127.0.0.1:1883", "mqtt.broker of the config written")
	fs.StringVar(&o.Line, "line", "line1", "line `name` of entries without a DataSetWriterGroup")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "import: one publishednodes.json file is required")
		fs.Usage()
		return errUsage
	}
	file := fs.Arg(0)
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	res, err := publishednodes.Convert(file, data, o)
	if res != nil {
		for _, is := range res.Issues {
			fmt.Fprintln(stderr, is)
		}
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	res.Map.Header = importHeader(file, res)
	if err := checkImported(res.Map); err != nil {
		return err
	}
	if err := writeNodeMap(*out, stdout, res.Map); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "import: %s mapped, %s skipped, %s not mapped (listed above, and as comments in the output)\n",
		plural(res.Nodes, "node"), plural(res.Skipped, "node"), plural(len(res.Issues), "setting"))
	return nil
}

func importHeader(file string, res *publishednodes.Result) []string {
	return []string{
		fmt.Sprintf("Imported from %s by factorybridge import: %s mapped, %s skipped.", file, plural(res.Nodes, "node"), plural(res.Skipped, "node")),
		"What was not mapped is noted next to the node or station it belonged to.",
		"Set [mqtt] broker, the password variables (password_env) and any CHANGE-ME path,",
		"then check it with factorybridge validate -config <file>.",
	}
}

// checkImported loads the node map as validate would (any password
// variable counts as set), so that a map that would not load is never
// written.
func checkImported(m config.NodeMap) error {
	var b bytes.Buffer
	if err := config.WriteNodeMap(&b, m); err != nil {
		return err
	}
	_, err := config.Parse("imported.toml", b.Bytes(), func(string) (string, bool) { return "set", true })
	if err != nil {
		return fmt.Errorf("import: the node map made does not load (please report this with the file):\n%w", err)
	}
	return nil
}
