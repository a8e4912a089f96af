package publishednodes

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"factorybridge/config"
)

// Why entry fields are not mapped, by lower-case key. The meanings are
// those of OPC Publisher's docs/opc-publisher/readme.md, "Configuration
// Schema", and PublishedNodesEntryModel.cs.
var entryReasons = map[string]string{
	"version":                          "informational only",
	"lastchangedatetime":               "informational only",
	"lastchangetimespan":               "informational only",
	"defaultheartbeatinterval":         "heartbeats are not mapped yet: factorybridge sends a value when it changes",
	"defaultheartbeatintervaltimespan": "heartbeats are not mapped yet: factorybridge sends a value when it changes",
	"defaultheartbeatbehavior":         "heartbeats are not mapped yet: factorybridge sends a value when it changes",
	"usereverseconnect":                "reverse connect is not supported: factorybridge connects to the server",
	"disablesubscriptiontransfer":      "factorybridge creates its subscriptions anew at every connect",
	"republishaftertransfer":           "factorybridge creates its subscriptions anew at every connect",
	"maxkeepalivecount":                "factorybridge sets the keep-alive itself",
	"datasetwriterwatchdogbehavior":    "factorybridge's watchdog rebuilds a silent session (docs/faults.md)",
	"opcnodewatchdogtimespan":          "factorybridge's watchdog rebuilds a silent session (docs/faults.md)",
	"opcnodewatchdogcondition":         "factorybridge's watchdog rebuilds a silent session (docs/faults.md)",
	"encryptedauthusername":            "encrypted by OPC Publisher; set username and password_env on the server",
	"encryptedauthpassword":            "encrypted by OPC Publisher; set password_env or password_file on the server",
	"dumpconnectiondiagnostics":        "factorybridge logs its connections",
	"datasetfetchdisplaynames":         "node names come from DisplayName, DataSetFieldId or the id",
}

// messageFields are OPC Publisher's message, transport and data set
// metadata settings; factorybridge's are [mqtt] or [iothub] and its message
// format (docs/message-format.md).
var messageFields = []string{"MessagingMode", "MessageEncoding", "BatchSize", "BatchTriggerInterval",
	"BatchTriggerIntervalTimespan", "WriterGroupTransport", "WriterGroupQueueName", "WriterGroupQualityOfService",
	"WriterGroupPartitions", "WriterGroupMessageTtlTimepan", "WriterGroupMessageTtlTimespan", "WriterGroupMessageRetention",
	"QueueName", "MetaDataQueueName", "QualityOfService", "MessageTtlTimespan", "MessageRetention", "MetaDataUpdateTime",
	"MetaDataUpdateTimeTimespan", "SendKeepAliveDataSetMessages", "DataSetKeyFrameCount", "DataSetClassId",
	"DataSetDescription", "DataSetExtensionFields", "DataSetRouting", "MetaDataRetention", "MetaDataTtlTimespan",
	"SendKeepAliveAsKeyFrameMessages", "PublisherId", "WriterGroupTransportConfiguration", "WriterGroupProperties",
	"DataSetSourceUri", "DataSetSubject", "DataSetType", "WriterGroupType", "DataSetRootNodeId", "WriterGroupRootNodeId",
	"Priority"}

func init() {
	for _, k := range messageFields {
		entryReasons[strings.ToLower(k)] = "an OPC Publisher message setting; factorybridge's are in [mqtt] or [iothub]"
	}
}

// entryDefaults are what an entry gives its nodes.
type entryDefaults struct {
	publishing, sampling config.Duration
}

// entry converts one published nodes entry: its server, its station and
// its nodes.
func (c *converter) entry(path string, e *value) {
	var comments []string
	defer c.collect(&comments)()
	if e.kind != 'o' {
		c.issue(path, e, "%s is not an entry object: skipped", e.text())
		c.footer = append(c.footer, comments...)
		return
	}
	r := c.reader(path, e)
	srv, ok := c.server(r)
	if !ok {
		c.skipEntry(r, comments)
		return
	}
	st := c.station(r, srv)
	d := c.defaults(r)
	for i, v := range r.arr("OpcNodes") {
		n, ok := c.node(fmt.Sprintf("%s.OpcNodes[%d]", path, i), v, d)
		c.addNode(st, n, ok)
	}
	if legacy := r.get("NodeId"); legacy != nil {
		n, ok := c.legacyNode(path+".NodeId", legacy, d)
		c.addNode(st, n, ok)
	}
	r.rest(entryReasons)
	st.Comments = append(st.Comments, comments...)
}

// skipEntry reports an entry whose server cannot be configured, with its
// nodes, in the footer.
func (c *converter) skipEntry(r *reader, comments []string) {
	n := len(r.arr("OpcNodes"))
	if r.get("NodeId") != nil {
		n++
	}
	c.res.Skipped += n
	c.footer = append(c.footer, fmt.Sprintf("%s: entry skipped with its %d nodes:", r.path, n))
	c.footer = append(c.footer, comments...)
}

// arr returns the elements of an array member; another type is an issue.
func (r *reader) arr(key string) []*value {
	v := r.get(key)
	if v == nil || v.kind == '0' {
		return nil
	}
	if v.kind != 'a' {
		r.note(key, v, "%s is not an array: ignored", v.text())
		return nil
	}
	return v.elems
}

// defaults reads the entry's data set intervals, which its nodes inherit.
func (c *converter) defaults(r *reader) entryDefaults {
	return entryDefaults{
		publishing: r.interval("DataSetPublishingInterval", "DataSetPublishingIntervalTimespan"),
		sampling:   r.interval("DataSetSamplingInterval", "DataSetSamplingIntervalTimespan"),
	}
}

// addNode adds a converted node to its station under a name not used yet.
func (c *converter) addNode(st *station, n config.MapNode, ok bool) {
	if !ok {
		c.res.Skipped++
		n.Name = ""
		st.Nodes = append(st.Nodes, n)
		return
	}
	c.res.Nodes++
	base := n.Name
	for k := 2; st.names[n.Name]; k++ {
		n.Name = fmt.Sprintf("%s_%d", base, k)
	}
	st.names[n.Name] = true
	st.Nodes = append(st.Nodes, n)
}

// station returns the station of the entry's writer (DataSetWriterId,
// else DataSetName, else the server's name) in its writer group's line.
func (c *converter) station(r *reader, server string) *station {
	line := config.SafeName(firstOf(r.str("DataSetWriterGroup"), c.o.Line))
	name := config.SafeName(firstOf(r.str("DataSetWriterId"), r.str("DataSetName"), server))
	k := stationKey{line, name, server}
	if st, ok := c.stations[k]; ok {
		return st
	}
	for _, o := range c.order { // same name in the line, another server
		if o.line == line && o.name == name {
			name = config.SafeName(name + "_" + server)
		}
	}
	st := &station{MapStation: config.MapStation{Name: name, Server: server}, names: map[string]bool{}}
	c.stations[k] = st
	c.order = append(c.order, k)
	return st
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// nodeMap assembles the servers, lines and stations built.
func (c *converter) nodeMap() config.NodeMap {
	m := config.NodeMap{BridgeID: c.o.BridgeID, Broker: c.o.Broker, Servers: c.list}
	lines := map[string]int{}
	for _, k := range c.order {
		st := c.stations[k]
		if !hasNodes(st.Nodes) {
			c.footer = append(c.footer, fmt.Sprintf("station %s of line %s: no node mapped", st.Name, k.line))
			c.footer = append(c.footer, st.Comments...)
			for _, n := range st.Nodes {
				c.footer = append(c.footer, n.Comments...)
			}
			continue
		}
		i, ok := lines[k.line]
		if !ok {
			i = len(m.Lines)
			lines[k.line] = i
			m.Lines = append(m.Lines, config.MapLine{Name: k.line})
		}
		m.Lines[i].Stations = append(m.Lines[i].Stations, st.MapStation)
	}
	if len(c.footer) > 0 {
		m.Footer = append([]string{"Not mapped:"}, c.footer...)
	}
	return m
}

func hasNodes(nodes []config.MapNode) bool {
	for _, n := range nodes {
		if n.Name != "" {
			return true
		}
	}
	return false
}

// endpoint checks an EndpointUrl; a missing port gets OPC UA's 4840.
func endpoint(raw string) (string, string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "opc.tcp" || u.Hostname() == "" {
		return "", "", fmt.Errorf("%q is not an opc.tcp:// endpoint (factorybridge speaks OPC UA binary over TCP only)", raw)
	}
	if u.User != nil {
		return "", "", fmt.Errorf("%q carries a user name: set it as OpcAuthenticationUsername", raw)
	}
	note := ""
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "4840")
		note = "no port in EndpointUrl: OPC UA's default 4840 written"
	}
	return u.String(), note, nil
}
