package config

import "factorybridge/opcua"

// OPCUAOptions translates the server named server and its nodes into the
// settings of an opcua.Client; ok is false when no server has that name.
// Call it on a config whose defaults have been applied. The dependencies
// (Sink, Logger, OnState) and the application identity (Certificate,
// PrivateKey, ApplicationURI, VerifyServerCert) are the runtime's to set.
func (c *Config) OPCUAOptions(server string) (opts opcua.Options, ok bool) {
	i := c.serverIndex(server)
	if i < 0 {
		return opcua.Options{}, false
	}
	s := &c.Servers[i]
	opts = opcua.Options{
		Name:                   s.Name,
		Endpoint:               s.Endpoint,
		SecurityPolicy:         s.SecurityPolicy,
		SecurityMode:           s.SecurityMode,
		Auth:                   s.Auth,
		Username:               s.Username,
		Password:               s.Password,
		UserCertificate:        s.UserCertificate,
		UserKey:                s.UserKey,
		CertificateFile:        s.Certificate,
		KeyFile:                s.Key,
		AllowPlaintextPassword: s.AllowPlaintextPassword,
		RequestTimeout:         s.RequestTimeout.D(),
		Backfill:               s.backfillOptions(),
		Events:                 c.eventSources(s.Name),
		Clock: opcua.ClockOptions{Timestamps: s.Timestamps, Correction: s.ClockCorrection,
			SkewThreshold: s.ClockSkewThreshold.D(), CheckInterval: s.ClockCheckInterval.D()},
	}
	for _, ref := range c.Nodes(s.Name) {
		opts.Nodes = append(opts.Nodes, ref.opcuaNode())
	}
	return opts, true
}

// serverIndex returns the index of the server named name, or -1.
func (c *Config) serverIndex(name string) int {
	for i := range c.Servers {
		if c.Servers[i].Name == name {
			return i
		}
	}
	return -1
}

// opcuaNode is the node as the OPC UA client subscribes to it. The sampling
// interval is carried as resolved: zero only when the server's
// sampling_interval was written as "0s", which opcua reads as "as fast as
// the server can", as the file meant.
func (r NodeRef) opcuaNode() opcua.Node {
	n := r.Node
	return opcua.Node{
		Name: r.Name, Server: r.Server, Line: r.Line, Station: r.Station,
		ID:                 n.ID,
		Path:               n.Path,
		PublishingInterval: n.PublishingInterval.D(),
		SamplingInterval:   n.SamplingInterval.D(),
		QueueSize:          n.QueueSize,
		Trigger:            n.Trigger,
		Deadband:           n.Deadband,
		DeadbandValue:      n.DeadbandValue,
		Mode:               n.Mode,
		Heartbeat:          n.heartbeat(),
		SkipFirst:          n.skipFirst(),
		Backfill:           n.backfill(),
		ReadInterval:       n.readInterval(),
		ReadReport:         n.readReport(),
	}
}
