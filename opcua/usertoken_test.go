package opcua

import (
	"errors"
	"testing"

	"github.com/gopcua/opcua/ua"
)

func TestUserTokenPolicy(t *testing.T) {
	b256 := ua.SecurityPolicyURIBasic256Sha256
	none := ua.SecurityPolicyURINone
	user := func(id, policy string) *ua.UserTokenPolicy {
		return &ua.UserTokenPolicy{PolicyID: id, TokenType: ua.UserTokenTypeUserName, SecurityPolicyURI: policy}
	}
	anon := &ua.UserTokenPolicy{PolicyID: "anon", TokenType: ua.UserTokenTypeAnonymous}
	endpoint := func(mode ua.MessageSecurityMode, tokens ...*ua.UserTokenPolicy) *ua.EndpointDescription {
		policy := b256
		if mode == ua.MessageSecurityModeNone {
			policy = none
		}
		return &ua.EndpointDescription{SecurityPolicyURI: policy, SecurityMode: mode, UserIdentityTokens: tokens}
	}
	sign, enc, plain := ua.MessageSecurityModeSign, ua.MessageSecurityModeSignAndEncrypt, ua.MessageSecurityModeNone
	tests := []struct {
		name    string
		auth    string
		allow   bool
		ep      *ua.EndpointDescription
		want    string // policy id
		wantErr error
		wantMsg string
	}{
		{name: "username over SignAndEncrypt", auth: "username", ep: endpoint(enc, anon, user("u-none", none), user("u-b256", b256)), want: "u-none"},
		{name: "username over Sign takes the encrypting policy", auth: "username", ep: endpoint(sign, user("u-none", none), user("u-b256", b256)), want: "u-b256"},
		{name: "username over Sign, policy from the channel", auth: "username", ep: endpoint(sign, user("u-channel", "")), want: "u-channel"},
		{name: "username over Sign, nothing encrypts", auth: "username", ep: endpoint(sign, user("u-none", none)), wantErr: errPlaintextPassword},
		{name: "username over Sign, plaintext allowed", auth: "username", allow: true, ep: endpoint(sign, user("u-none", none)), want: "u-none"},
		{name: "username over None, token encrypted", auth: "username", ep: endpoint(plain, user("u-b256", b256)), wantErr: errPlaintextPassword},
		{name: "anonymous", ep: endpoint(sign, user("u-none", none), anon), want: "anon"},
		{name: "certificate not offered", auth: "certificate", ep: endpoint(enc, user("u", b256), anon, user("u2", b256)),
			wantMsg: "the server offers no certificate login on endpoint Basic256Sha256/SignAndEncrypt (it offers: anonymous, username)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := userTokenPolicy(&Options{Auth: tt.auth, AllowPlaintextPassword: tt.allow}, tt.ep)
			switch {
			case tt.wantErr != nil || tt.wantMsg != "":
				if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) || tt.wantMsg != "" && err.Error() != tt.wantMsg {
					t.Fatalf("userTokenPolicy = %v, %v; want error %v %q", got, err, tt.wantErr, tt.wantMsg)
				}
			case err != nil:
				t.Fatal(err)
			case got.PolicyID != tt.want:
				t.Errorf("picked %s, want %s", got.PolicyID, tt.want)
			}
		})
	}
}
