package bridge

import (
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"factorybridge/oee"
	"factorybridge/opcua"
)

// ackLatencyBuckets span a broker on the same host (milliseconds) to a
// hub across a congested uplink (the ack timeout is tens of seconds).
var ackLatencyBuckets = []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// metrics is the bridge's Prometheus registry. Nearly everything is read
// from the components' own counters when scraped (collector), so the data
// path pays nothing for it; only the publish latency is observed as it
// happens, once per acknowledged message.
type metrics struct {
	reg        *prometheus.Registry
	ackLatency prometheus.Histogram
}

func newMetrics(b *Bridge) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.ackLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "factorybridge_publish_ack_latency_seconds",
		Help:    "Time from sending a message to the broker's or hub's acknowledgement.",
		Buckets: ackLatencyBuckets,
	})
	m.reg.MustRegister(m.ackLatency, &collector{b: b},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observeAck(d time.Duration) { m.ackLatency.Observe(d.Seconds()) }

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("factorybridge_"+name, help, labels, nil)
}

var (
	descBuild     = desc("build_info", "The bridge's version and build; always 1.", "version", "commit", "goversion")
	descStart     = desc("start_time_seconds", "When the bridge started, in Unix seconds.")
	descReceived  = desc("readings_received_total", "Readings the OPC UA client handed to the buffer (OEE records are not readings).", "server", "line")
	descCommitted = desc("readings_committed_total", "Readings committed to the buffer.", "server", "line")
	descPublished = desc("readings_published_total", "Readings the publisher read from the buffer to send (again after a reconnect).", "server", "line")
	descAcked     = desc("readings_acked_total", "Readings acknowledged by the broker or hub, and so deleted from the buffer.", "server", "line")

	descDepth     = desc("buffer_readings", "Readings in the buffer: committed, not yet acknowledged.")
	descBytes     = desc("buffer_bytes", "Encoded size of the readings in the buffer.")
	descMaxBytes  = desc("buffer_max_bytes", "The buffer's cap (buffer.max_bytes); beyond it the oldest readings are dropped.")
	descOldest    = desc("buffer_oldest_age_seconds", "Age of the oldest reading in the buffer, since its commit.")
	descDropped   = desc("buffer_dropped_total", "Readings dropped because the buffer was full.")
	descBufCommit = desc("buffer_committed_total", "Entries committed to the buffer (readings and OEE records).")
	descBufAcked  = desc("buffer_acked_total", "Entries acknowledged and deleted from the buffer.")
	descDrainETA  = desc("buffer_drain_eta_seconds", "Estimated time to empty a backlog at the current net drain rate; absent without a backlog that shrinks.")

	descUAState    = desc("opcua_state", "The OPC UA connection's state: 1 for the current one.", "server", "state")
	descUAUp       = desc("opcua_connected", "1 while the OPC UA session is up with its subscriptions.", "server")
	descUARecon    = desc("opcua_reconnects_total", "OPC UA sessions established after the first.", "server")
	descUAItems    = desc("opcua_monitored_items", "Monitored items of the current session that deliver values (ok) and that do not (failed).", "server", "status")
	descUANotif    = desc("opcua_notifications_total", "DataChangeNotifications received.", "server")
	descUAOverflow = desc("opcua_queue_overflows_total", "Values the server flagged as sent after its queue for the node overflowed: values before them were discarded at the server (raise queue_size).", "server")
	descUAGaps     = desc("opcua_data_gaps_total", "Gaps in the data closed after a reconnect.", "server")
	descUALastData = desc("opcua_last_data_timestamp_seconds", "When the last data arrived, in Unix seconds.", "server")

	descPubUp       = desc("publish_connected", "1 while the broker or hub connection is up.")
	descPubMsgSent  = desc("publish_messages_sent_total", "Messages sent, resends included.")
	descPubMsgAcked = desc("publish_messages_acked_total", "Messages acknowledged.")
	descPubSent     = desc("publish_readings_sent_total", "Readings in sent messages, resends included.")
	descPubAcked    = desc("publish_readings_acked_total", "Readings in acknowledged messages.")
	descPubRejected = desc("publish_readings_rejected_total", "Readings too large for a message even alone, skipped.")
	descPubBytes    = desc("publish_bytes_sent_total", "Payload bytes sent.")
	descPubRecon    = desc("publish_reconnects_total", "Connections made after the first, credential renewals excepted.")
	descPubRenew    = desc("publish_token_renewals_total", "Reconnections made to renew expiring credentials (IoT Hub SAS tokens).")
	descPubInflight = desc("publish_in_flight_messages", "Messages sent and not yet acknowledged.")
	descPubBillable = desc("publish_billable_units_total", "Estimated billed units of the messages sent (IoT Hub's 4 KB units; 0 for a plain broker).")
	descPubLastAck  = desc("publish_last_ack_timestamp_seconds", "When a message was last acknowledged, in Unix seconds.")

	descOEE         = desc("oee_ratio", "OEE (availability × performance × quality), 0 to 1; absent while undefined.", "line", "station", "window")
	descOEEAvail    = desc("oee_availability_ratio", "Availability, 0 to 1; absent while undefined.", "line", "station", "window")
	descOEEPerf     = desc("oee_performance_ratio", "Performance, 0 to 1 (above 1: the ideal cycle time is likely wrong); absent while undefined.", "line", "station", "window")
	descOEEQual     = desc("oee_quality_ratio", "Quality, 0 to 1; absent while undefined.", "line", "station", "window")
	descOEEUnplan   = desc("oee_unplanned_stop_seconds", "Unplanned stop time in the window.", "line", "station", "window")
	descOEESmall    = desc("oee_small_stop_seconds", "Small stop time in the window.", "line", "station", "window")
	descOEEGood     = desc("oee_good_parts", "Good parts in the window.", "line", "station", "window")
	descOEEReject   = desc("oee_reject_parts", "Rejected parts in the window.", "line", "station", "window")
	descOEERecordAt = desc("oee_record_end_timestamp_seconds", "End of the record the figures come from, in Unix seconds.", "line", "station", "window")
)

// collector reads the bridge's counters when scraped.
type collector struct{ b *Bridge }

// Describe is left empty: the collector is unchecked, its series depend
// on which lines and stations have a record yet.
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect sends every metric's current value.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	b := c.b
	ch <- gauge(descBuild, 1, b.opts.Version, b.opts.Commit, runtime.Version())
	ch <- gauge(descStart, float64(b.started.Unix()))
	for _, l := range b.lines.Load().all {
		ch <- counter(descReceived, l.received.Load(), l.server, l.line)
		ch <- counter(descCommitted, l.committed.Load(), l.server, l.line)
		ch <- counter(descPublished, l.published.Load(), l.server, l.line)
		ch <- counter(descAcked, l.acked.Load(), l.server, l.line)
	}
	c.buffer(ch)
	for _, s := range b.servers() {
		c.server(ch, s.name, s.client.Stats())
	}
	c.publisher(ch)
	if b.oee != nil {
		c.oee(ch, b.oee.Current(), "rolling")
		c.oee(ch, b.oee.Shift(), "shift")
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v uint64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func (c *collector) buffer(ch chan<- prometheus.Metric) {
	st := c.b.buf.Stats()
	ch <- gauge(descDepth, float64(st.Depth))
	ch <- gauge(descBytes, float64(st.Bytes))
	ch <- gauge(descMaxBytes, float64(c.b.config().Buffer.MaxBytes))
	ch <- gauge(descOldest, st.OldestAge.Seconds())
	ch <- counter(descDropped, st.Dropped)
	ch <- counter(descBufCommit, st.Committed)
	ch <- counter(descBufAcked, st.Acked)
	if d := c.b.hist.drain(st); d.ETA > 0 {
		ch <- gauge(descDrainETA, d.ETA.Seconds())
	}
}

func (c *collector) server(ch chan<- prometheus.Metric, name string, st opcua.Stats) {
	for _, s := range []opcua.State{opcua.StateConnecting, opcua.StateConnected, opcua.StateDown} {
		ch <- gauge(descUAState, b2f(st.State == s), name, s.String())
	}
	ch <- gauge(descUAUp, b2f(st.State == opcua.StateConnected), name)
	ch <- counter(descUARecon, st.Reconnects, name)
	ch <- gauge(descUAItems, float64(st.ItemsOK), name, "ok")
	ch <- gauge(descUAItems, float64(st.ItemsFailed), name, "failed")
	ch <- counter(descUANotif, st.Notifications, name)
	ch <- counter(descUAOverflow, st.QueueOverflows, name)
	ch <- counter(descUAGaps, st.Gaps, name)
	ch <- gauge(descUALastData, unixSeconds(st.LastData), name)
}

func (c *collector) publisher(ch chan<- prometheus.Metric) {
	st := c.b.pub.Stats()
	ch <- gauge(descPubUp, b2f(st.Connected))
	ch <- counter(descPubMsgSent, st.MessagesSent)
	ch <- counter(descPubMsgAcked, st.MessagesAcked)
	ch <- counter(descPubSent, st.ReadingsPublished)
	ch <- counter(descPubAcked, st.ReadingsAcked)
	ch <- counter(descPubRejected, st.ReadingsRejected)
	ch <- counter(descPubBytes, st.BytesSent)
	ch <- counter(descPubRecon, st.Reconnects)
	ch <- counter(descPubRenew, st.TokenRenewals)
	ch <- gauge(descPubInflight, float64(st.InFlight))
	ch <- counter(descPubBillable, st.BillableUnits)
	ch <- gauge(descPubLastAck, unixSeconds(st.LastAck))
}

func (c *collector) oee(ch chan<- prometheus.Metric, recs []oee.Record, window string) {
	for _, r := range recs {
		l := []string{r.Line, r.Station, window}
		for _, f := range []struct {
			d *prometheus.Desc
			r oee.Ratio
		}{{descOEE, r.OEE}, {descOEEAvail, r.Availability}, {descOEEPerf, r.Performance}, {descOEEQual, r.Quality}} {
			if f.r.Defined {
				ch <- gauge(f.d, f.r.Value, l...)
			}
		}
		ch <- gauge(descOEEUnplan, r.UnplannedStopS, l...)
		ch <- gauge(descOEESmall, r.SmallStopS, l...)
		ch <- gauge(descOEEGood, float64(r.Good), l...)
		ch <- gauge(descOEEReject, float64(r.Reject), l...)
		ch <- gauge(descOEERecordAt, unixSeconds(r.End), l...)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
