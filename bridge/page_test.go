package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"factorybridge/bridge"
	"factorybridge/internal/demo"
	"factorybridge/internal/testenv"
)

// screenshotEnv names the file the page test saves a screenshot to
// (scripts/screenshot.sh sets it for docs/status-page.png).
const screenshotEnv = "FACTORYBRIDGE_SCREENSHOT"

// chromium returns Debian's chromium (scripts/deps.sh installs it).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Unavailable(t, "no chromium to drive the status page (scripts/deps.sh installs it)")
	return ""
}

// TestStatusPageInChromium runs the demo line, broker and bridge in this
// process, opens the status page in headless Chromium, reads the figures
// from the rendered page, compares them with /api/status read just before
// and just after, and sees them update.
func TestStatusPageInChromium(t *testing.T) {
	chrome := chromium(t)
	url, broker := startDemoBridge(t)
	before := waitStatus(t, url, "readings published and the line's OEE over a shift", func(r bridge.Report) bool {
		return r.Publish.ReadingsAcked > 0 && len(r.OEE) == 4 && r.OEE[0].Rolling != nil && r.OEE[0].Shift != nil
	})

	ctx := browser(t, chrome)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/?refresh=300"),
		chromedp.WaitVisible(`tr[data-server="simulator"] td[data-field="state"]`),
		chromedp.WaitVisible(`tr[data-scope="line1"] td[data-field="rolling-oee"]`)); err != nil {
		t.Fatalf("open the status page: %v", err)
	}
	// The page shows a status it fetched after before and before after.
	before = getStatus(t, url)
	var page pageFigures
	testenv.Wait(t, 10*time.Second, "the page to fetch a newer status", func() bool {
		page = readPage(t, ctx)
		at, err := time.Parse(time.RFC3339Nano, page["at"])
		return err == nil && at.After(before.At)
	})
	after := getStatus(t, url)
	comparePage(t, page, before, after)

	testenv.Wait(t, 20*time.Second, "the page to show more readings published", func() bool {
		return readPage(t, ctx).num(t, "published") > page.num(t, "published")
	})
	if path := os.Getenv(screenshotEnv); path != "" {
		screenshot(t, ctx, path, 30*time.Second) // the charts fill meanwhile
	}
	checkBacklog(t, ctx, url, broker)
}

// checkBacklog stops the broker: the page shows the backlog stalled with
// the readings waiting, then, once the broker is back, drained.
func checkBacklog(t *testing.T, ctx context.Context, url string, broker *demo.Broker) {
	t.Helper()
	addr := strings.TrimPrefix(broker.URL, "tcp://")
	broker.Close()
	var page pageFigures
	testenv.Wait(t, 30*time.Second, "the page to show a stalled backlog", func() bool {
		page = readPage(t, ctx)
		return strings.HasPrefix(page["drain"], "stalled, ")
	})
	st := getStatus(t, url)
	waiting, _ := strconv.ParseUint(strings.ReplaceAll(strings.Fields(page["drain"])[1], ",", ""), 10, 64)
	if !st.Buffer.Drain.Backlog || waiting == 0 || waiting > st.Buffer.Drain.Remaining {
		t.Errorf("page drain %q; /api/status then: %+v", page["drain"], st.Buffer.Drain)
	}
	again, err := demo.StartBroker(addr, nil)
	if err != nil {
		t.Fatalf("restart the broker on %s: %v", addr, err)
	}
	t.Cleanup(func() { again.Close() })
	testenv.Wait(t, 60*time.Second, "the page to show the backlog drained", func() bool {
		return readPage(t, ctx)["drain"] == "no backlog"
	})
}

// startDemoBridge runs the demo line fast, with its broker and bridge, and
// serves the bridge's HTTP endpoint; it returns its URL and the broker.
func startDemoBridge(t *testing.T) (string, *demo.Broker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := demo.StartOPCUAServer(ctx, "127.0.0.1:0", demo.NewLine(7, 20), nil)
	if err != nil {
		t.Fatal(err)
	}
	broker, err := demo.StartBroker("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bridge.New(demo.Config(srv.Endpoint, broker.URL, t.TempDir()),
		bridge.Options{Version: "v1.4.0", Commit: "0123456789abcdef", HTTPListen: "off", SampleInterval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	hs := httptest.NewServer(b.Handler())
	t.Cleanup(func() {
		hs.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		broker.Close()
		srv.Close()
	})
	return hs.URL, broker
}

func getStatus(t *testing.T, url string) bridge.Report {
	t.Helper()
	resp, err := http.Get(url + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r bridge.Report
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func waitStatus(t *testing.T, url, what string, cond func(bridge.Report) bool) bridge.Report {
	t.Helper()
	var r bridge.Report
	testenv.Wait(t, 90*time.Second, what, func() bool { r = getStatus(t, url); return cond(r) })
	return r
}

func browser(t *testing.T, chrome string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 860))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// pageFigures are the texts of the page's figures, by id or
// "scope.field" / "server.field".
type pageFigures map[string]string

// readPageJS collects the rendered text of every figure.
const readPageJS = `(() => {
  const out = {at: document.getElementById("updated").dataset.at || ""};
  for (const id of ["bridge", "version", "config-digest", "publish-state", "published", "buffer-depth", "drain"])
    out[id] = document.getElementById(id).textContent;
  for (const td of document.querySelectorAll("tr[data-server] td[data-field], tr[data-scope] td[data-field]")) {
    const tr = td.parentElement;
    out[(tr.dataset.server || tr.dataset.scope) + "." + td.dataset.field] = td.textContent;
  }
  return out;
})()`

func readPage(t *testing.T, ctx context.Context) pageFigures {
	t.Helper()
	p, err := chromedp.Run(ctx, chromedp.Evaluate[pageFigures](readPageJS))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return p
}

// num parses a figure written with thousands separators.
func (p pageFigures) num(t *testing.T, key string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.ReplaceAll(p[key], ",", ""), 10, 64)
	if err != nil {
		t.Fatalf("page figure %s = %q: %v", key, p[key], err)
	}
	return n
}

func pct(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", *p)
}

// comparePage checks the page's figures against the status read before and
// after it: counters lie between the two, states and OEE equal one of them.
func comparePage(t *testing.T, page pageFigures, before, after bridge.Report) {
	t.Helper()
	between := func(key string, lo, hi uint64) {
		if got := page.num(t, key); got < lo || got > hi {
			t.Errorf("page %s = %d, /api/status had %d then %d", key, got, lo, hi)
		}
	}
	between("published", before.Publish.ReadingsAcked, after.Publish.ReadingsAcked)
	between("simulator.readings", before.Servers[0].Readings, after.Servers[0].Readings)
	oneOf := func(key string, want ...string) {
		for _, w := range want {
			if page[key] == w {
				return
			}
		}
		t.Errorf("page %s = %q, /api/status says %q", key, page[key], want)
	}
	oneOf("bridge", after.Bridge)
	oneOf("version", "v1.4.0 (0123456789ab)")
	oneOf("config-digest", "–") // built in code: no file
	oneOf("publish-state", "connected")
	oneOf("simulator.state", before.Servers[0].State, after.Servers[0].State)
	oneOf("simulator.items-ok", strconv.Itoa(before.Servers[0].ItemsOK), strconv.Itoa(after.Servers[0].ItemsOK))
	for i, o := range after.OEE {
		key := o.Line
		if o.Station != "" {
			key += "/" + o.Station
		}
		b := before.OEE[i]
		oneOf(key+".rolling-oee", pct(b.Rolling.OEE), pct(o.Rolling.OEE))
		oneOf(key+".rolling-availability", pct(b.Rolling.Availability), pct(o.Rolling.Availability))
		oneOf(key+".rolling-quality", pct(b.Rolling.Quality), pct(o.Rolling.Quality))
		oneOf(key+".shift-name", "day "+o.Shift.Day, "day "+b.Shift.Day)
		oneOf(key+".rejects", strconv.FormatInt(b.Rolling.Reject, 10), strconv.FormatInt(o.Rolling.Reject, 10))
	}
	if t.Failed() {
		t.Logf("page: %v", page)
	}
}

func screenshot(t *testing.T, ctx context.Context, path string, after time.Duration) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Sleep(after)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
