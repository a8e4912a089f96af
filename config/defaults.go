package config

import "path/filepath"

// ApplyDefaults fills every zero field that has a default with its Default*
// constant. Node settings stay zero: Nodes fills them from their server. A
// server's sampling_interval written as "0s" in the file is kept (it means
// as fast as the server can); in a Config built in code, zero means default.
func (c *Config) ApplyDefaults() {
	setDefault(&c.Bridge.DataDir, DefaultDataDir)
	setDefault(&c.Bridge.PKIDir, filepath.Join(c.Bridge.DataDir, DefaultPKIDir))
	c.Buffer.applyDefaults(c.Bridge.DataDir)
	c.HTTP.applyDefaults()
	if c.IoTHub != nil {
		c.IoTHub.applyDefaults()
		c.MQTT.applyPackingDefaults(DefaultIoTHubMaxPayload)
	} else {
		c.MQTT.applyDefaults(c.Bridge.ID)
	}
	for i := range c.Servers {
		c.Servers[i].applyDefaults()
	}
	for i := range c.Lines {
		c.Lines[i].applyOEEDefaults()
	}
	for i := range c.Calendars {
		setDefault(&c.Calendars[i].Zone, DefaultCalendarZone)
	}
}

func (b *Buffer) applyDefaults(dataDir string) {
	setDefault(&b.Path, filepath.Join(dataDir, DefaultBufferFile))
	setDefault(&b.MaxBytes, DefaultBufferMaxBytes)
	setDefault(&b.CommitInterval, Duration(DefaultCommitInterval))
	setDefault(&b.CommitMaxReadings, DefaultCommitMaxReadings)
}

func (m *MQTT) applyDefaults(bridgeID string) {
	setDefault(&m.ClientID, "factorybridge-"+bridgeID)
	setDefault(&m.Topic, DefaultTopic)
	setDefault(&m.OEETopic, DefaultOEETopic)
	setDefault(&m.Protocol, DefaultProtocol)
	setDefault(&m.SessionExpiry, Duration(DefaultSessionExpiry))
	setDefault(&m.ProbeTopic, DefaultProbeTopic)
	setDefault(&m.StatusTopic, DefaultStatusTopic)
	setDefault(&m.EventTopic, DefaultEventTopic)
	m.applyPackingDefaults(DefaultMaxMessageBytes)
}

// applyPackingDefaults fills the settings [iothub] keeps from [mqtt].
func (m *MQTT) applyPackingDefaults(maxMessageBytes int) {
	if m.QoS == nil {
		qos := DefaultQoS
		m.QoS = &qos
	}
	setDefault(&m.MaxMessageBytes, maxMessageBytes)
	setDefault(&m.MaxBatchDelay, Duration(DefaultMaxBatchDelay))
	setDefault(&m.CycleGrace, Duration(DefaultCycleGrace))
	setDefault(&m.MaxInflight, DefaultMaxInflight)
	setDefault(&m.KeepAlive, Duration(DefaultKeepAlive))
	setDefault(&m.ConnectTimeout, Duration(DefaultConnectTimeout))
	setDefault(&m.Encoding, DefaultEncoding)
}

func (s *Server) applyDefaults() {
	setDefault(&s.SecurityPolicy, DefaultSecurityPolicy)
	setDefault(&s.SecurityMode, DefaultSecurityMode)
	setDefault(&s.Auth, DefaultAuth)
	setDefault(&s.HostNameCheck, DefaultHostNameCheck)
	setDefault(&s.PublishingInterval, Duration(DefaultPublishingInterval))
	if !s.samplingSet {
		setDefault(&s.SamplingInterval, Duration(DefaultSamplingInterval))
	}
	setDefault(&s.QueueSize, DefaultQueueSize)
	setDefault(&s.RequestTimeout, Duration(DefaultRequestTimeout))
	s.applyAcquisitionDefaults()
	setDefault(&s.Timestamps, DefaultTimestamps)
	setDefault(&s.ClockCorrection, DefaultClockCorrection)
	setDefault(&s.ClockSkewThreshold, Duration(DefaultClockSkewThreshold))
	setDefault(&s.ClockCheckInterval, Duration(DefaultClockCheckInterval))
}

// defined notes the keys whose presence matters beyond their value.
func (s *Server) defined(key string) {
	if key == "sampling_interval" {
		s.samplingSet = true
	}
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}
