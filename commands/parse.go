package commands

import (
	"strings"
	"unicode/utf8"
)

// noLookup answers for a nil Lookup: nothing is configured, nothing exists.
type noLookup struct{}

func (noLookup) Tenant(string) (Tenant, bool) { return Tenant{}, false }
func (noLookup) RequestExists(string) bool    { return false }

// Parse parses the text of a /close-tenant command. Empty text is Help, not
// an error. Every error is an *Error whose Message tells the user what to
// type instead; the caller shows it with Usage.
func Parse(text string, l Lookup) (Command, error) {
	c, err := parse(text, l)
	if err != nil {
		return Command{}, err
	}
	return c, nil
}

func parse(text string, l Lookup) (Command, *Error) {
	if l == nil {
		l = noLookup{}
	}
	if err := checkText(text); err != nil {
		return Command{}, err
	}
	text = strings.TrimSpace(text)
	first, end, ok, err := nextWord(text, 0)
	if err != nil {
		return Command{}, err
	}
	if !ok {
		return Command{Kind: Help}, nil
	}
	if k, isVerb := verbKind(first); isVerb {
		if k == Help {
			return Command{Kind: Help}, nil // "help <anything>" is still a request for help
		}
		args, err := words(text[end:])
		if err != nil {
			return Command{}, err
		}
		return verbCommand(k, args, l)
	}
	if looksLikeTenant(first) {
		return open(first, strings.TrimSpace(text[end:]), l)
	}
	return Command{}, unknownVerb(first)
}

// buttonOnly are actions that exist only as buttons (DESIGN §2): approving
// needs the modal, and the others act on a message.
var buttonOnly = map[string]bool{"approve": true, "reject": true, "cancel": true, "retry": true, "restore": true, "re-check": true, "recheck": true, "purge": true}

func unknownVerb(w string) *Error {
	if lw := asciiLower(w); buttonOnly[lw] {
		return errorf(UnknownVerb, "", "%s is not a command: use the button on the request's message in the channel. The commands are plan, status, list, pause, resume, abort and help.", echo(lw))
	}
	if s := suggestVerb(w); s != "" {
		return errorf(UnknownVerb, s, "%s is not a command. Did you mean %s?", echo(w), s)
	}
	return errorf(UnknownVerb, "",
		"%s is neither a command nor a tenant. To open a request, give the tenant and a reason, like: contoso.onmicrosoft.com Company dissolved, ticket OPS-1234. The commands are plan, status, list, pause, resume, abort and help.",
		echo(w))
}

func open(tenantWord, rest string, l Lookup) (Command, *Error) {
	t, err := resolveTenant(tenantWord, l)
	if err != nil {
		return Command{}, err
	}
	reason, err := reasonOf(rest)
	if err != nil {
		return Command{}, err
	}
	if reason == "" {
		return Command{}, errorf(MissingReason, "",
			"A reason is required after the tenant, like: %s Company dissolved, ticket OPS-1234.", t.arg())
	}
	if n := utf8.RuneCountInString(reason); n > MaxReasonLen {
		return Command{}, errorf(ReasonTooLong, "",
			"The reason is %s characters long; the limit is %s. Put the details in the ticket and give its number in the reason.",
			thousands(n), thousands(MaxReasonLen))
	}
	return Command{Kind: Open, Tenant: t, Reason: reason}, nil
}

// reasonOf returns the reason as typed, or, when it is wholly one quoted
// word, that word's value; rest is already trimmed.
func reasonOf(rest string) (string, *Error) {
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return rest, nil
	}
	w, end, _, err := nextWord(rest, 0)
	if err != nil {
		return "", err
	}
	if end != len(rest) {
		return rest, nil // "a" b: quotes are part of the prose
	}
	return strings.TrimSpace(w), nil
}

func resolveTenant(w string, l Lookup) (Tenant, *Error) {
	norm, err := tenantArg(w, func(d string) bool { _, ok := l.Tenant(d); return ok })
	if err != nil {
		return Tenant{}, err
	}
	t, ok := l.Tenant(norm)
	if !ok || t.IsZero() {
		return Tenant{}, unknownTenant(norm)
	}
	return t, nil
}

func verbCommand(k Kind, args []string, l Lookup) (Command, *Error) {
	switch k {
	case List:
		if len(args) > 0 {
			return Command{}, extraArgs("list takes no arguments", args)
		}
		return Command{Kind: List}, nil
	case Plan:
		if len(args) == 0 {
			return Command{}, errorf(MissingTenant, "",
				"plan needs a tenant, like: plan contoso.onmicrosoft.com. %s", tenantForms)
		}
		// The tenant first: a Slack link with a label splits into words.
		t, err := resolveTenant(args[0], l)
		if err != nil {
			return Command{}, err
		}
		if len(args) > 1 {
			return Command{}, extraArgs("plan takes only a tenant (to open a request, leave out the word plan)", args[1:])
		}
		return Command{Kind: Plan, Tenant: t}, nil
	case Status:
		if len(args) == 0 {
			return Command{Kind: Status}, nil
		}
		if len(args) > 1 {
			return Command{}, extraArgs("status takes at most one request id, like CT-12", args[1:])
		}
		id, err := existingRequest(args[0], l)
		if err != nil {
			return Command{}, err
		}
		return Command{Kind: Status, RequestID: id}, nil
	default: // Pause, Resume, Abort
		if len(args) == 0 {
			return Command{}, errorf(MissingRequestID, "",
				"%s needs a request id, like: %s CT-12. The status command lists the open requests.", k, k)
		}
		if len(args) > 1 {
			return Command{}, extraArgs(k.String()+" takes one request id, like CT-12", args[1:])
		}
		id, err := existingRequest(args[0], l)
		if err != nil {
			return Command{}, err
		}
		return Command{Kind: k, RequestID: id}, nil
	}
}

func existingRequest(w string, l Lookup) (string, *Error) {
	id, err := requestID(w)
	if err != nil {
		return "", err
	}
	if !l.RequestExists(id) {
		return "", errorf(UnknownRequest, "",
			"There is no request %s. The status command lists the open requests, and list the recent ones.", id)
	}
	return id, nil
}

func extraArgs(rule string, extra []string) *Error {
	return errorf(ExtraArgs, "", "Unexpected %s: %s.", echo(extra[0]), rule)
}
