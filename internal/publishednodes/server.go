package publishednodes

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"factorybridge/config"
	"factorybridge/opcua"
)

// The enumerations of OPC Publisher's models, in their declaration order:
// a number in the file is an index into them (SecurityMode.cs,
// OpcAuthenticationMode.cs, DataChangeTriggerType.cs, DeadbandType.cs).
var (
	securityModes = []string{"Best", "Sign", "SignAndEncrypt", "None", "NotNone"}
	authModes     = []string{"Anonymous", "UsernamePassword", "Certificate"}
	triggerTypes  = []string{"Status", "StatusValue", "StatusValueTimestamp"}
	deadbandTypes = []string{"Absolute", "Percent"}
)

// enum returns the member key as one of valid (any case, or its index);
// "" when absent or not valid (reported).
func (r *reader) enum(key string, valid []string) string {
	v := r.get(key)
	if v == nil || v.kind == '0' {
		return ""
	}
	if v.kind == 'n' {
		if i, err := strconv.Atoi(v.num.String()); err == nil && i >= 0 && i < len(valid) {
			return valid[i]
		}
	}
	for _, s := range valid {
		if v.kind == 's' && strings.EqualFold(v.str, s) {
			return s
		}
	}
	r.note(key, v, "%s is not one of %s: ignored", v.text(), strings.Join(valid, ", "))
	return ""
}

// serverKey tells servers apart: entries with the same endpoint, security
// and user share one [[servers]] entry (one session), as OPC Publisher's
// writer groups share a session.
type serverKey struct{ endpoint, policy, mode, auth, user string }

// server returns the name of the entry's server, adding it when new; ok
// is false when the entry has no usable endpoint.
func (c *converter) server(r *reader) (name string, ok bool) {
	raw := r.str("EndpointUrl")
	if raw == "" {
		c.issue(r.path, r.obj, "EndpointUrl is required: entry skipped")
		return "", false
	}
	ep, changed, err := endpoint(raw)
	if err != nil {
		r.note("EndpointUrl", r.obj.get("EndpointUrl"), "%v: entry skipped", err)
		return "", false
	}
	if changed != "" {
		r.note("EndpointUrl", r.obj.get("EndpointUrl"), "%s", changed)
	}
	s := config.Server{Endpoint: ep}
	c.security(r, &s)
	c.auth(r, &s)
	k := serverKey{s.Endpoint, s.SecurityPolicy, s.SecurityMode, s.Auth, s.Username}
	if i, ok := c.servers[k]; ok {
		return c.list[i].Name, true
	}
	s.Name = c.serverName(ep)
	comments := []string{"From EndpointUrl " + raw}
	if s.Auth == "username" {
		s.PasswordEnv = "OPCUA_PASSWORD_" + envName(s.Name)
		comments = append(comments, fmt.Sprintf("The password is read from the environment variable %s (or set password_file).", s.PasswordEnv))
	}
	c.servers[k] = len(c.list)
	c.list = append(c.list, config.MapServer{Server: s, Comments: comments})
	return s.Name, true
}

// serverName names a server by its host, made unique.
func (c *converter) serverName(ep string) string {
	u, _ := url.Parse(ep)
	base := config.SafeName(u.Hostname())
	name := base
	for k := 2; slices.ContainsFunc(c.list, func(s config.MapServer) bool { return s.Name == name }); k++ {
		name = base + "_" + strconv.Itoa(k)
	}
	return name
}

func envName(s string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s))
}

// security maps UseSecurity, EndpointSecurityMode and
// EndpointSecurityPolicy. OPC Publisher's mode is EndpointSecurityMode,
// else NotNone when UseSecurity is true, else None
// (PublishedNodesEntryModelEx.ToConnectionModel).
func (c *converter) security(r *reader, s *config.Server) {
	useSecurity := r.flag("UseSecurity")
	mode := r.enum("EndpointSecurityMode", securityModes)
	policy := r.str("EndpointSecurityPolicy")
	if mode == "" {
		mode = "None"
		if useSecurity {
			mode = "NotNone"
		}
	}
	s.SecurityPolicy, s.SecurityMode = opcua.Auto, mode
	switch mode {
	case "None":
		s.SecurityPolicy = "None"
	case "Best":
		s.SecurityMode = opcua.Auto
		r.note("EndpointSecurityMode", r.obj.get("EndpointSecurityMode"),
			"Best written as security_mode = \"auto\": the strongest endpoint the server offers, None when it offers nothing else")
	case "NotNone":
		s.SecurityMode = "SignAndEncrypt"
		r.note("UseSecurity", r.obj.get("UseSecurity"), "signed or encrypted (NotNone) written as security_mode = \"SignAndEncrypt\"; set \"Sign\" for a server that only signs")
	}
	if policy != "" {
		c.policy(r, s, policy)
	}
}

// policy maps EndpointSecurityPolicy, a name or a policy URI.
func (c *converter) policy(r *reader, s *config.Server, policy string) {
	name := policy[strings.LastIndex(policy, "#")+1:]
	v := r.obj.get("EndpointSecurityPolicy")
	switch {
	case !slices.Contains(opcua.SecurityPolicies, name) || name == opcua.Auto:
		r.note("EndpointSecurityPolicy", v, "%q not mapped: not a policy factorybridge knows (%s); security_policy = %q",
			policy, strings.Join(opcua.SecurityPolicies, ", "), s.SecurityPolicy)
	case name == "None" && s.SecurityMode != "None":
		r.note("EndpointSecurityPolicy", v, "None with a secured mode: security_policy = %q kept", s.SecurityPolicy)
	case name != "None" && s.SecurityMode == "None":
		s.SecurityPolicy, s.SecurityMode = name, opcua.Auto
		r.note("EndpointSecurityPolicy", v, "%s without a secured mode: security_mode = \"auto\"", name)
	default:
		s.SecurityPolicy = name
	}
}

// auth maps OpcAuthenticationMode and its credentials. A password is never
// copied into the node map.
func (c *converter) auth(r *reader, s *config.Server) {
	mode := r.enum("OpcAuthenticationMode", authModes)
	user := r.str("OpcAuthenticationUsername")
	pw := r.get("OpcAuthenticationPassword")
	hasPW := pw != nil && pw.kind != '0'
	switch {
	case mode == "UsernamePassword":
		c.userAuth(r, s, user, pw)
	case mode == "Certificate":
		s.Auth, s.UserCertificate, s.UserKey = "certificate", "CHANGE-ME/user-cert.pem", "CHANGE-ME/user-key.pem"
		r.note("OpcAuthenticationMode", r.obj.get("OpcAuthenticationMode"),
			"OPC Publisher takes the user certificate (subject %q) from its certificate store: export it and its key (unencrypted) and set user_certificate and user_key", user)
		if hasPW {
			r.note("OpcAuthenticationPassword", pw, "not mapped: factorybridge reads an unencrypted user key file")
		}
	case user != "" || hasPW:
		r.note("OpcAuthenticationUsername", r.obj.get("OpcAuthenticationUsername"), "credentials ignored: the authentication mode is Anonymous")
	}
}

func (c *converter) userAuth(r *reader, s *config.Server, user string, pw *value) {
	s.Auth, s.Username = "username", user
	if user == "" {
		s.Username = "CHANGE-ME"
		r.note("OpcAuthenticationUsername", nil, "no plain user name (an encrypted one cannot be read): set username")
	}
	if pw != nil && pw.kind != '0' {
		r.note("OpcAuthenticationPassword", pw, "not copied into the node map: passwords go in an environment variable or a file")
	}
	if s.SecurityMode == "None" {
		s.SecurityPolicy, s.SecurityMode = opcua.Auto, opcua.Auto
		r.note("UseSecurity", r.obj.get("UseSecurity"),
			"OPC Publisher would send the password unencrypted; factorybridge does not: security set to auto (the connection is refused if the server offers no encryption)")
	}
}
