package hubsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the api-version the stand-in expects clients to send;
// MinAPIVersion is the oldest it accepts (the first with the MQTT twin and
// method topics as they are now).
const (
	APIVersion    = "2021-04-12"
	MinAPIVersion = "2018-06-30"
)

// sasToken is a SharedAccessSignature as the hub reads it (after Microsoft's
// SharedAccessSignatureParser): sr exactly as sent, because that is the
// string that was signed; the other fields form-decoded, so an unencoded '+'
// in sig becomes a space; a value ends at its second '=', so an unencoded
// base64 padding '=' is lost. Both make a careless token fail, as they do on
// the real hub.
type sasToken struct {
	sr, sig, skn string
	se           int64
}

func parseSAS(s string) (sasToken, error) {
	scheme, rest, ok := strings.Cut(s, " ")
	if !ok || scheme != "SharedAccessSignature" || strings.ContainsAny(rest, " \t\r\n") {
		return sasToken{}, errors.New(`not "SharedAccessSignature <fields>"`)
	}
	fields, err := sasFields(rest)
	if err != nil {
		return sasToken{}, err
	}
	for _, name := range []string{"sr", "sig", "se"} {
		if _, ok := fields[name]; !ok {
			return sasToken{}, fmt.Errorf("missing field %s", name)
		}
	}
	tok := sasToken{sr: fields["sr"], skn: fields["skn"]}
	if tok.sig, err = url.QueryUnescape(fields["sig"]); err != nil {
		return sasToken{}, fmt.Errorf("decode sig: %w", err)
	}
	se, err := url.QueryUnescape(fields["se"])
	if err == nil {
		tok.se, err = strconv.ParseInt(se, 10, 64)
	}
	if err != nil {
		return sasToken{}, fmt.Errorf("parse se %q: %w", fields["se"], err)
	}
	return tok, nil
}

// sasFields splits "a=b&c=d" with the hub parser's quirks: names are
// case-insensitive, duplicates are errors, empty fields are skipped.
func sasFields(s string) (map[string]string, error) {
	fields := map[string]string{}
	for _, f := range strings.Split(s, "&") {
		if f == "" {
			continue
		}
		parts := strings.Split(f, "=")
		if len(parts) < 2 {
			return nil, fmt.Errorf("field %q has no value", f)
		}
		name := strings.ToLower(parts[0])
		if _, dup := fields[name]; dup {
			return nil, fmt.Errorf("duplicate field %s", name)
		}
		fields[name] = parts[1]
	}
	return fields, nil
}

// sign is the SAS signature: HMAC-SHA256 over the sr value as sent, a
// newline and the expiry.
func sign(key []byte, sr string, se int64) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(sr + "\n" + strconv.FormatInt(se, 10)))
	return mac.Sum(nil)
}

// checkSAS verifies tok for resource (host/devices/id[/modules/mid]) and the
// device or module key at now; it returns the refusal reason and why.
func checkSAS(tok sasToken, key []byte, resource string, now time.Time) (Reason, error) {
	if tok.skn != "" {
		return ReasonBadToken, fmt.Errorf("skn=%s: a device or module key token has no key name", tok.skn)
	}
	sr, err := url.QueryUnescape(tok.sr)
	if err != nil {
		return ReasonBadToken, fmt.Errorf("decode sr: %w", err)
	}
	if !strings.EqualFold(sr, resource) {
		return ReasonBadResource, fmt.Errorf("sr %q is not %q", sr, resource)
	}
	if exp := time.Unix(tok.se, 0); !exp.After(now) {
		return ReasonTokenExpired, fmt.Errorf("token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	got, err := base64.StdEncoding.DecodeString(tok.sig)
	if err != nil || !hmac.Equal(got, sign(key, tok.sr, tok.se)) {
		return ReasonBadSignature, fmt.Errorf("signature %q does not match sr %q and se %d", tok.sig, tok.sr, tok.se)
	}
	return "", nil
}

// resourceURI is what a device or module token must be scoped to.
func resourceURI(host string, id identityKey) string {
	if id.module == "" {
		return host + "/devices/" + id.device
	}
	return host + "/devices/" + id.device + "/modules/" + id.module
}

// checkUsername wants "{host}/{clientID}/?api-version=…" with an api-version
// no older than MinAPIVersion; other parameters (DeviceClientType, model-id)
// are allowed, as on the hub.
func checkUsername(username, host, clientID string) error {
	prefix := host + "/" + clientID + "/?"
	rest, ok := strings.CutPrefix(username, prefix)
	if !ok {
		return fmt.Errorf("username %q does not start with %q", username, prefix)
	}
	q, err := url.ParseQuery(rest)
	if err != nil {
		return fmt.Errorf("username query %q: %w", rest, err)
	}
	v := q["api-version"]
	if len(v) != 1 {
		return fmt.Errorf("username %q needs exactly one api-version", username)
	}
	if _, err := time.Parse(time.DateOnly, v[0]); err != nil || v[0] < MinAPIVersion {
		return fmt.Errorf("api-version %q: want a date no older than %s", v[0], MinAPIVersion)
	}
	return nil
}
