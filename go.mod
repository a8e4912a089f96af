module factorybridge

go 1.26

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/eclipse/paho.golang v0.23.0
	github.com/eclipse/paho.mqtt.golang v1.5.1
	github.com/gopcua/opcua v0.9.1
	github.com/gorilla/websocket v1.5.3
	github.com/mochi-mqtt/server/v2 v2.7.9
	go.etcd.io/bbolt v1.5.0
)

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/rs/xid v1.4.0 // indirect
	golang.org/x/net v0.44.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

// gopcua v0.9.1 with the minimal patches a hostile server needs
// (third_party/gopcua/PATCHES.md); v0.9.1 is the newest the module proxy serves.
replace github.com/gopcua/opcua => ./third_party/gopcua
