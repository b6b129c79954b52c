package blocks

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Block ids of the sign-in proof DM.
const (
	BlockSignIn     = "signin"
	BlockSignInNote = "signin_note"
)

// SignInView is the kept admin's device-code sign-in DM (DESIGN §2 item 4).
type SignInView struct {
	RequestID       string
	TenantDomain    string
	KeepUser        string // keep_slack_user
	KeepUPN         string
	UserCode        string
	VerificationURL string
	ExpiresOn       time.Time
}

var userCodePattern = regexp.MustCompile(`^[A-Za-z0-9-]{4,32}$`)

// safeLink renders an https URL as a mrkdwn link, or escaped text if it is
// not one (the URL comes from the authority, not from us).
func safeLink(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(raw, "<>|& \n") {
		return escClip(raw, 300)
	}
	return link(raw, escClip(u.Host+u.Path, 200))
}

// SignIn renders the sign-in proof DM.
func SignIn(v SignInView) Message {
	code := escClip(v.UserCode, 40)
	if userCodePattern.MatchString(v.UserCode) {
		code = "`" + v.UserCode + "`"
	}
	text := fmt.Sprintf("%s, before closebot deletes anything in %s (%s), prove you can sign in as the kept admin %s with MFA: open %s and enter %s before %s.",
		Mention(v.KeepUser), escClip(v.TenantDomain, 200), escClip(v.RequestID, 20), escClip(v.KeepUPN, 200),
		safeLink(v.VerificationURL), code, Date(v.ExpiresOn))
	return newMessage(fmt.Sprintf("%s: sign-in proof needed for %s", escClip(v.RequestID, 20), escClip(v.TenantDomain, 200)),
		section(BlockSignIn, text),
		contextBlock(BlockSignInNote, "Sign in only as that account; the token's object id and MFA claim are checked. Nothing is deleted without this proof."))
}
