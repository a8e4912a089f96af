package demo

import (
	"sync"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"
)

// NamespaceURI is the Connected Factory station namespace the demo server
// serves its station variables in.
const NamespaceURI = "http://opcfoundation.org/UA/Station/"

// NodeID returns the string node id of a station variable: "<station>.<variable>".
// The project's C simulator uses the same ids, so one node map serves both.
func NodeID(station, variable string) string { return station + "." + variable }

// valueStore holds the current DataValue of every station variable. The
// variable nodes read it through their value functions: gopcua's
// Node.SetAttribute replaces a node's value without a lock, which races with
// concurrent reads, so values never go through it.
type valueStore struct {
	mu sync.RWMutex
	m  map[string]ua.DataValue
}

func newValueStore() *valueStore { return &valueStore{m: map[string]ua.DataValue{}} }

// set stores a value with its source time; the server time is now.
func (s *valueStore) set(key string, v any, source time.Time) {
	dv := ua.DataValue{
		EncodingMask:    ua.DataValueValue | ua.DataValueServerTimestamp,
		Value:           ua.MustVariant(v),
		ServerTimestamp: time.Now(),
	}
	// gopcua sends DataValues as given and ignores TimestampsToReturn, so the
	// mask bits decide which timestamps reach clients.
	if !source.IsZero() {
		dv.EncodingMask |= ua.DataValueSourceTimestamp
		dv.SourceTimestamp = source
	}
	s.mu.Lock()
	s.m[key] = dv
	s.mu.Unlock()
}

// valueFunc returns the node value function for key. Each call returns a
// fresh copy so no two responses share a DataValue.
func (s *valueStore) valueFunc(key string) server.ValueFunc {
	return func() *ua.DataValue {
		s.mu.RLock()
		dv, ok := s.m[key]
		s.mu.RUnlock()
		if !ok {
			return nil
		}
		return &dv
	}
}

// buildAddressSpace adds the station namespace to srv: one object per
// station under the Objects folder, one read-only variable per station
// variable, every value served from store. It must run before srv.Start:
// gopcua's nodes and references are not safe to change while serving.
func buildAddressSpace(srv *server.Server, snapshot []Change, store *valueStore) *server.NodeNameSpace {
	ns := server.NewNodeNameSpace(srv, NamespaceURI)
	objects := srv.Node(ua.NewNumericNodeID(0, id.ObjectsFolder))
	stations := map[string]*server.Node{}
	for _, c := range snapshot {
		obj := stations[c.Station]
		if obj == nil {
			obj = ns.AddNode(objectNode(ns.ID(), c.Station))
			objects.AddRef(obj, id.Organizes, true)
			stations[c.Station] = obj
		}
		key := NodeID(c.Station, c.Variable)
		store.set(key, c.Value, c.Time)
		v := ns.AddNode(variableNode(ns.ID(), key, c.Variable, dataTypeOf(c.Value), store.valueFunc(key)))
		obj.AddRef(v, id.HasComponent, true)
	}
	return ns
}

func objectNode(ns uint16, name string) *server.Node {
	return server.NewNode(ua.NewStringNodeID(ns, name), server.Attributes{
		// int32, not uint32: gopcua rewrites a uint32 NodeClass in place on
		// every read, a data race when two clients read it at once.
		ua.AttributeIDNodeClass:   server.DataValueFromValue(int32(ua.NodeClassObject)),
		ua.AttributeIDBrowseName:  server.DataValueFromValue(&ua.QualifiedName{NamespaceIndex: ns, Name: name}),
		ua.AttributeIDDisplayName: server.DataValueFromValue(&ua.LocalizedText{EncodingMask: ua.LocalizedTextText, Text: name}),
	}, nil, nil)
}

func variableNode(ns uint16, key, name string, dataType uint32, value server.ValueFunc) *server.Node {
	// Read-only: a client Write would replace the value function (see valueStore).
	access := server.DataValueFromValue(uint8(ua.AccessLevelTypeCurrentRead))
	return server.NewNode(ua.NewStringNodeID(ns, key), server.Attributes{
		ua.AttributeIDNodeClass:       server.DataValueFromValue(int32(ua.NodeClassVariable)),
		ua.AttributeIDBrowseName:      server.DataValueFromValue(&ua.QualifiedName{NamespaceIndex: ns, Name: name}),
		ua.AttributeIDDisplayName:     server.DataValueFromValue(&ua.LocalizedText{EncodingMask: ua.LocalizedTextText, Text: name}),
		ua.AttributeIDDataType:        server.DataValueFromValue(ua.NewNumericNodeID(0, dataType)),
		ua.AttributeIDValueRank:       server.DataValueFromValue(int32(-1)), // scalar
		ua.AttributeIDAccessLevel:     access,
		ua.AttributeIDUserAccessLevel: access,
	}, nil, value)
}

// dataTypeOf maps the Go types Line uses to OPC UA built-in data types.
func dataTypeOf(v any) uint32 {
	switch v.(type) {
	case uint64:
		return id.UInt64
	case int32:
		return id.Int32
	case float64:
		return id.Double
	}
	return id.BaseDataType
}
