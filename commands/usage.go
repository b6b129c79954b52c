package commands

// Usage is the help text, plain (the Slack layer renders and escapes it; it
// holds '<' and '>').
func Usage() string {
	return `Usage: /close-tenant <tenant> <reason…>
  /close-tenant <tenant> <reason…>   open a closure request, for example:
                                     /close-tenant contoso.onmicrosoft.com Company dissolved, ticket OPS-1234
  /close-tenant plan <tenant>        preflight and plan only: no request, no changes
  /close-tenant status [CT-n]        one request in detail, or the open ones
  /close-tenant list                 recent requests
  /close-tenant pause CT-n           pause a running closure at the next safe point
  /close-tenant resume CT-n          resume a paused closure
  /close-tenant abort CT-n           abort a closure
  /close-tenant help                 this text
A tenant is its initial domain (contoso.onmicrosoft.com) or its tenant id (00000000-0000-0000-0000-000000000000).
The reason is required; quotes around it are optional. Request ids look like CT-12.
Slash commands do not work in threads: use the buttons on the request's messages there.`
}
