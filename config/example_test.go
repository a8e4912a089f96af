package config_test

import (
	"fmt"

	"factorybridge/config"
)

func ExampleParse() {
	env := func(name string) (string, bool) {
		v, ok := map[string]string{"PLC_HOST": "10.0.0.1"}[name]
		return v, ok
	}
	_, err := config.Parse("bridge.toml", []byte(`
bridge.id = "munich-1"
mqtt.broker = "tcp://127.0.0.1:1883"

[[servers]]
name = "plc"
endpoint = "opc.tcp://${PLC_HOST}:4840"
security_mode = "sign"

[[lines]]
name = "line1"

[[lines.stations]]
name = "assembly"
nodes = [{ name = "Status", id = "ns=2;s=Status", trigers = "status" }]
`), env)
	fmt.Println(err)
	// Output:
	// bridge.toml:8: servers[0].security_mode: "sign" is not a valid security mode (valid: None, Sign, SignAndEncrypt, auto)
	// bridge.toml:15: lines[0].stations[0].nodes[0].trigers: unknown key; did you mean "trigger"?
}

func ExampleConfig_Summary() {
	c, err := config.Parse("bridge.toml", []byte(`
bridge.id = "munich-1"
mqtt.broker = "tcp://127.0.0.1:1883"

[[servers]]
name = "plc"
endpoint = "opc.tcp://127.0.0.1:4840"

[[lines]]
name = "line1"

[[lines.stations]]
name = "assembly"
nodes = [
  { name = "Status", id = "ns=2;s=Status" },
  { name = "Pressure", id = "ns=2;s=Pressure" },
]
`), func(string) (string, bool) { return "", false })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Summary())
	// Output: config ok: bridge munich-1, 1 server, 1 line, 1 station, 2 nodes → mqtt tcp://127.0.0.1:1883
}
