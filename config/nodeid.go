package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gopcua/opcua/ua"
)

// nodeIDForms lists the node id forms messages offer.
const nodeIDForms = "ns=<index>;s=<name>, ns=<index>;i=<number>, ns=<index>;g=<guid>, ns=<index>;b=<base64>, nsu=<uri>;s=<name>, nsu=<uri>;i=<number>, i=<number>"

// checkNodeID returns why id is not a node id in OPC UA's string form, or ""
// when it is one. It is stricter than ua.ParseNodeID, which takes any text
// without an identifier type as a string id ("ns=2,s=x" would be node
// "ns=2,s=x" in namespace 0), and it accepts nsu=<uri> without the
// server's namespace array, which only the connection knows.
func checkNodeID(id string) string {
	ident, parseable := id, id
	switch {
	case strings.HasPrefix(id, "nsu="):
		uri, rest, ok := strings.Cut(id[len("nsu="):], ";")
		if !ok || uri == "" {
			return "want nsu=<namespace uri>;<identifier>"
		}
		ident, parseable = rest, "ns=1;"+rest
	case strings.HasPrefix(id, "ns="):
		ns, rest, ok := strings.Cut(id[len("ns="):], ";")
		if !ok || !validNamespace(ns) {
			return "want ns=<namespace index 0–65535>;<identifier>"
		}
		ident = rest
	}
	if len(ident) < 2 || ident[1] != '=' || !strings.ContainsRune("isgb", rune(ident[0])) {
		return "the identifier must start with i=, s=, g= or b="
	}
	if ident == "s=" {
		return "the string identifier is empty"
	}
	if _, err := ua.ParseNodeID(parseable); err != nil {
		return map[byte]string{
			'i': "the numeric identifier must be a number from 0 to 4294967295",
			'g': "the GUID is not valid",
			'b': "the identifier is not valid base64",
		}[ident[0]]
	}
	return ""
}

func validNamespace(ns string) bool {
	if ns == "" || strings.Trim(ns, "0123456789") != "" {
		return false
	}
	n, err := strconv.Atoi(ns)
	return err == nil && n <= 65535
}

// CheckNodeID returns why id is not a node id a node map accepts
// (ns=<index>;…, nsu=<uri>;…, or i=/s=/g=/b= in namespace 0), or nil; for
// tools that write node maps from other sources.
func CheckNodeID(id string) error {
	if why := checkNodeID(id); why != "" {
		return fmt.Errorf("%q is not a node id: %s (valid: %s)", id, why, nodeIDForms)
	}
	return nil
}
