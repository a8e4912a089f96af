package config

import "testing"

func TestCheckNodeID(t *testing.T) {
	valid := []string{
		"ns=2;s=assembly.Status",
		"ns=0;i=2258",
		"i=2258",
		"s=plain",
		"ns=65535;s=x",
		"ns=1;i=4294967295",
		"ns=3;g=09087e75-8e5e-499b-954f-f2a9603db28a",
		"ns=3;b=M/RbKBsRVkePCePcx24oRA==",
		"nsu=http://opcfoundation.org/UA/Station/;s=assembly.Status",
		"nsu=urn:x;i=5",
		"ns=2;s=a;b=c", // everything after s= is the name
	}
	for _, id := range valid {
		if why := checkNodeID(id); why != "" {
			t.Errorf("checkNodeID(%q) = %q, want valid", id, why)
		}
	}
	invalid := map[string]string{
		"ns=2,s=x":             "want ns=<namespace index 0–65535>;<identifier>",
		"ns=65536;s=x":         "want ns=<namespace index 0–65535>;<identifier>",
		"ns=-1;s=x":            "want ns=<namespace index 0–65535>;<identifier>",
		"ns=+1;s=x":            "want ns=<namespace index 0–65535>;<identifier>",
		"ns=;s=x":              "want ns=<namespace index 0–65535>;<identifier>",
		"nsu=;s=x":             "want nsu=<namespace uri>;<identifier>",
		"nsu=urn:x":            "want nsu=<namespace uri>;<identifier>",
		"assembly.Status":      "the identifier must start with i=, s=, g= or b=",
		"ns=2;x=1":             "the identifier must start with i=, s=, g= or b=",
		"ns=2;":                "the identifier must start with i=, s=, g= or b=",
		"ns=2;s=":              "the string identifier is empty",
		"ns=2;i=4294967296":    "the numeric identifier must be a number from 0 to 4294967295",
		"ns=2;i=abc":           "the numeric identifier must be a number from 0 to 4294967295",
		"ns=2;i=-1":            "the numeric identifier must be a number from 0 to 4294967295",
		"ns=2;g=not-a-guid":    "the GUID is not valid",
		"ns=2;b=!!":            "the identifier is not valid base64",
		"nsu=urn:x;g=12":       "the GUID is not valid",
		"ns=2;ns=3;s=x":        "the identifier must start with i=, s=, g= or b=",
		"i=1;s=x":              "the numeric identifier must be a number from 0 to 4294967295",
		"nsu=urn:x;ns=2;s=abc": "the identifier must start with i=, s=, g= or b=",
	}
	for id, want := range invalid {
		if got := checkNodeID(id); got != want {
			t.Errorf("checkNodeID(%q) = %q, want %q", id, got, want)
		}
	}
}
