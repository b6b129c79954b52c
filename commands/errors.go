package commands

import "fmt"

// Code classifies bad input.
type Code int

const (
	_                Code = iota
	TooLong               // whole text over MaxTextLen
	ReasonTooLong         // reason over MaxReasonLen
	BadCharacters         // invalid UTF-8, control or bidi-override characters
	BadQuoting            // unterminated quote or trailing backslash
	UnknownVerb           // first word is neither a verb nor a tenant
	MissingTenant         // "plan" without a tenant
	BadTenantForm         // not a domain or GUID: a Slack "<…>" form, a UPN, a URL…
	UnknownTenant         // well formed, but not configured
	MissingReason         // open without a reason
	MissingRequestID      // pause/resume/abort without an id
	BadRequestID          // not CT-n with n ≥ 1
	UnknownRequest        // well formed, but no such request
	ExtraArgs             // arguments the verb does not take
)

var codeNames = [...]string{
	TooLong:          "too_long",
	ReasonTooLong:    "reason_too_long",
	BadCharacters:    "bad_characters",
	BadQuoting:       "bad_quoting",
	UnknownVerb:      "unknown_verb",
	MissingTenant:    "missing_tenant",
	BadTenantForm:    "bad_tenant_form",
	UnknownTenant:    "unknown_tenant",
	MissingReason:    "missing_reason",
	MissingRequestID: "missing_request_id",
	BadRequestID:     "bad_request_id",
	UnknownRequest:   "unknown_request",
	ExtraArgs:        "extra_args",
}

func (c Code) String() string {
	if c > 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is bad input. Every error Parse returns is an *Error.
type Error struct {
	Code Code
	// Message is one or two plain sentences for the user, naming the
	// expected form. It may quote user input: escape it before mrkdwn.
	Message string
	// Suggestion, when set, is what the user probably meant: a verb
	// ("status"), a request id ("CT-12") or a domain.
	Suggestion string
}

func (e *Error) Error() string { return e.Message }

// Is matches another *Error by Code, so errors.Is(err, &Error{Code: X}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func errorf(code Code, suggestion, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Suggestion: suggestion}
}
