package opcua

import (
	"time"

	"github.com/gopcua/opcua/ua"
)

// outage tracks, in Run's goroutine, what is logged once per state change:
// the ERROR when the server goes down and the INFO when it is back.
type outage struct {
	down     bool
	since    time.Time
	attempts int  // connection attempts since the outage began, the successful one included
	ever     bool // a session was established at least once
}

// failed records a failed session or connection attempt. Only the first
// failure of an outage is logged as an error; retries log at debug level.
func (c *Client) failed(err error) {
	c.stats.update(func(s *Stats) { s.State = StateDown })
	o := &c.outage
	if o.down {
		c.log.Debug("reconnect attempt failed", "attempts", o.attempts, "err", err)
		return
	}
	*o = outage{down: true, since: c.now(), ever: o.ever}
	c.log.Error("server down", "err", err)
	c.tellState(false, o.since)
}

// connecting counts an attempt of the current outage.
func (c *Client) connecting() {
	if c.outage.down {
		c.outage.attempts++
	}
}

// established records a session whose subscriptions exist, logs how many
// monitored items are back, tells OnState when tell is set (else gapsKnown
// will), and returns the time it came up.
func (c *Client) established(ok, failed int, tell bool) time.Time {
	o := &c.outage
	reconnect := o.ever
	c.stats.update(func(s *Stats) {
		s.State = StateConnected
		s.ItemsOK += ok // the drain may have moved items to failed already
		s.ItemsFailed += failed
		if reconnect {
			s.Reconnects++
		}
	})
	switch {
	case o.down:
		c.log.Info("server back", "outage", c.now().Sub(o.since), "attempts", o.attempts, "security", c.security)
	default:
		c.log.Info("connected", "endpoint", c.opts.Endpoint, "security", c.security)
	}
	c.log.Info("monitored items", "items_ok", ok, "items_failed", failed, "subscriptions", len(c.groups)+len(c.eventGroups))
	*o = outage{ever: true}
	at := c.now()
	if tell {
		c.tellState(true, at)
	}
	return at
}

// itemResult logs a node's create result when it differs from the last one
// logged, so a bad node is reported once, not at every reconnect.
func (c *Client) itemResult(i int, status ua.StatusCode, reason string) {
	c.logItemStatus(c.itemStatus, i, status, reason)
}

// logItemStatus logs node i's status when it differs from last[i].
func (c *Client) logItemStatus(last []ua.StatusCode, i int, status ua.StatusCode, reason string) {
	if last[i] == status {
		return
	}
	last[i] = status
	n := &c.nodes[i]
	if status == ua.StatusOK {
		c.log.Info("monitored item recovered", "node", n.spec.Name, n.spec.refKey(), n.spec.ref())
		return
	}
	c.log.Warn("monitored item failed", "node", n.spec.Name, n.spec.refKey(), n.spec.ref(),
		"status", statusString(status), "reason", reason)
}

// tellState calls Options.OnState, if set.
func (c *Client) tellState(connected bool, at time.Time) {
	if c.opts.OnState != nil {
		c.opts.OnState(c.opts.Name, connected, at)
	}
}
