package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"factorybridge/config"
)

func cmdHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("health", "[-addr HOST:PORT | -config FILE]",
		"Asks a running bridge's /healthz and exits 0 when it answers 200, 1 otherwise:\n"+
			"the health check of a container image that has no curl. The address is\n"+
			"-addr, or [http].listen of -config; an address on all interfaces\n"+
			"(0.0.0.0, ::) is asked on loopback.", stderr)
	addr := fs.String("addr", "", "the bridge's HTTP address (default [http].listen of -config, or "+config.DefaultHTTPListen+")")
	path := fs.String("config", "", "config file whose [http].listen to ask")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	target, err := healthAddr(*addr, *path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return checkHealth(ctx, "http://"+target+"/healthz", stdout)
}

// healthAddr is the address to ask: -addr, or the config's [http].listen
// with an unspecified host replaced by loopback.
func healthAddr(addr, path string) (string, error) {
	if addr == "" && path != "" {
		cfg, err := loadConfig(path)
		if err != nil {
			return "", err
		}
		if addr = cfg.HTTPListen(); addr == "" {
			return "", fmt.Errorf("%s: [http] is off; nothing to ask", path)
		}
	}
	if addr == "" {
		addr = config.DefaultHTTPListen
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("health address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port), nil
}

func checkHealth(ctx context.Context, url string, stdout io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "%s: %s\n", url, strings.TrimSpace(string(body)))
	return nil
}
