package opcua

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gopcua/opcua/ua"
)

// Auto is the security_policy and security_mode value that leaves the
// choice to the server's offer: the strongest endpoint it has.
const Auto = "auto"

// policyRank orders the policies from weakest to strongest.
var policyRank = map[string]int{
	"None": 0, "Basic128Rsa15": 1, "Basic256": 2, "Basic256Sha256": 3,
	"Aes128_Sha256_RsaOaep": 4, "Aes256_Sha256_RsaPss": 5,
}

// deprecated policies use SHA-1 and are withdrawn by the OPC UA specification.
var deprecated = map[string]bool{"Basic128Rsa15": true, "Basic256": true}

// shortPolicy is the policy name of a policy URI ("Basic256Sha256").
func shortPolicy(uri string) string { return strings.TrimPrefix(uri, ua.SecurityPolicyURIPrefix) }

// strength scores an endpoint: any current policy beats a deprecated one,
// then encryption beats signing alone, then the newer policy wins.
func strength(ep *ua.EndpointDescription) int {
	p := shortPolicy(ep.SecurityPolicyURI)
	rank, ok := policyRank[p]
	if !ok {
		return -1 // a policy gopcua does not implement
	}
	score := 10*modeRank(ep.SecurityMode) + rank
	if p != "None" && !deprecated[p] {
		score += 100
	}
	return score
}

// modeName is the configuration's name of a mode ("SignAndEncrypt").
func modeName(m ua.MessageSecurityMode) string {
	switch m {
	case ua.MessageSecurityModeNone:
		return "None"
	case ua.MessageSecurityModeSign:
		return "Sign"
	case ua.MessageSecurityModeSignAndEncrypt:
		return "SignAndEncrypt"
	}
	return fmt.Sprint(uint32(m))
}

func modeRank(m ua.MessageSecurityMode) int {
	switch m {
	case ua.MessageSecurityModeSign:
		return 1
	case ua.MessageSecurityModeSignAndEncrypt:
		return 2
	}
	return 0
}

// pickEndpoint returns the strongest endpoint matching policy and mode,
// either of which may be Auto. Auto never selects security None (policy or
// mode): the endpoint list comes unauthenticated, and an attacker who
// strips the secured endpoints from it must meet a refusal, not a session
// without any certificate check.
func pickEndpoint(eps []*ua.EndpointDescription, policy, mode string) (*ua.EndpointDescription, error) {
	var best *ua.EndpointDescription
	for _, ep := range eps {
		if !matches(ep, policy, mode) || strength(ep) < 0 {
			continue
		}
		if policy == Auto && shortPolicy(ep.SecurityPolicyURI) == "None" || mode == Auto && ep.SecurityMode == ua.MessageSecurityModeNone {
			continue
		}
		if best == nil || strength(ep) > strength(best) {
			best = ep
		}
	}
	if best == nil {
		return nil, fmt.Errorf("select endpoint: the server offers no endpoint with security_policy %s and security_mode %s (it offers %s)",
			policy, mode, offered(eps))
	}
	return best, nil
}

func matches(ep *ua.EndpointDescription, policy, mode string) bool {
	if policy != Auto && shortPolicy(ep.SecurityPolicyURI) != policy {
		return false
	}
	return mode == Auto || ep.SecurityMode == securityModes[mode]
}

// offered lists the policy/mode pairs of eps, for messages.
func offered(eps []*ua.EndpointDescription) string {
	var s []string
	for _, ep := range eps {
		s = append(s, shortPolicy(ep.SecurityPolicyURI)+"/"+modeName(ep.SecurityMode))
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ", ")
}

// weaker returns the strongest endpoint of eps when ep is deprecated or
// unsecured and the server offers something stronger; nil otherwise.
func weaker(ep *ua.EndpointDescription, eps []*ua.EndpointDescription) *ua.EndpointDescription {
	p := shortPolicy(ep.SecurityPolicyURI)
	if !deprecated[p] && p != "None" && ep.SecurityMode != ua.MessageSecurityModeNone {
		return nil
	}
	best, err := pickEndpoint(eps, Auto, Auto)
	if err != nil || strength(best) <= strength(ep) {
		return nil
	}
	return best
}
