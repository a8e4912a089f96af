package iothub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Signer computes the HMAC-SHA256 of a SAS token's string to sign: with a
// key held in memory (KeySigner) or by IoT Edge's workload API (Workload).
type Signer interface {
	Sign(ctx context.Context, data []byte) ([]byte, error)
}

// KeySigner signs with a base64 shared access key.
type KeySigner struct{ key []byte }

// NewKeySigner decodes a base64 shared access key.
func NewKeySigner(key string) (*KeySigner, error) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(k) == 0 {
		return nil, fmt.Errorf("shared access key is not valid base64")
	}
	return &KeySigner{key: k}, nil
}

// Sign returns HMAC-SHA256(key, data).
func (s *KeySigner) Sign(_ context.Context, data []byte) ([]byte, error) {
	m := hmac.New(sha256.New, s.key)
	m.Write(data)
	return m.Sum(nil), nil
}

// StringToSign is what a SAS token's signature covers: the URL-encoded
// resource URI, a newline, and the expiry in Unix seconds.
func StringToSign(resourceURI string, expiry time.Time) string {
	return Escape(resourceURI) + "\n" + strconv.FormatInt(expiry.Unix(), 10)
}

// TokenExpiry returns a SAS token's expiry (its se field); ok is false
// when the token has none that parses.
func TokenExpiry(token string) (time.Time, bool) {
	_, fields, _ := strings.Cut(token, " ")
	for f := range strings.SplitSeq(fields, "&") {
		if v, ok := strings.CutPrefix(f, "se="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return time.Unix(n, 0), err == nil
		}
	}
	return time.Time{}, false
}

// Token mints a SAS token for resourceURI valid until expiry. It carries no
// skn: device and module keys are not policy keys.
func Token(ctx context.Context, s Signer, resourceURI string, expiry time.Time) (string, error) {
	sig, err := s.Sign(ctx, []byte(StringToSign(resourceURI, expiry)))
	if err != nil {
		return "", fmt.Errorf("sign SAS token: %w", err)
	}
	return "SharedAccessSignature sr=" + Escape(resourceURI) +
		"&sig=" + Escape(base64.StdEncoding.EncodeToString(sig)) +
		"&se=" + strconv.FormatInt(expiry.Unix(), 10), nil
}
