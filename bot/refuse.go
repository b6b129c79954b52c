package bot

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/commands"
)

// refusal is a requirement the bot itself checks (not the domain): an
// unconfigured or shared channel, a forged value, a paused bot. Its text
// is shown as it is.
type refusal struct{ text string }

func (r *refusal) Error() string { return r.text }

// The bot's own refusals, in one place.
var (
	errPausedElsewhere = &refusal{"closebot is paused because another instance of it is connected to Slack; " +
		"stop the other instance (closebot acts again when it reconnects alone)."}
	errForged        = &refusal{"That button or form does not match any request closebot drew it for, so nothing was done."}
	errNotConfigured = &refusal{"closebot does not take requests in this conversation; use one of the configured channels."}
	errSharedChannel = &refusal{"This channel is shared with another organisation, so closebot does not act in it."}
	errNoPlan        = &refusal{"This request has no plan summary to approve against; cancel it and open a new one."}
	errNoAppID       = &refusal{"closebot has not finished connecting to Slack yet; try again in a moment."}
)

// explain turns any error from a handler into the one sentence shown to the
// person: typed requirement-not-met errors become their words; anything
// else is an internal error, logged in full under an id that the sentence
// names (the log never gets secrets: handlers wrap no tokens into errors).
func explain(log *slog.Logger, err error, attrs ...any) string {
	var (
		r  *refusal
		d  *closure.Denied
		pf *closure.PreflightError
		ce *commands.Error
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &r):
		return r.text
	case errors.As(err, &d):
		return closure.Explain(d)
	case errors.As(err, &pf):
		return preflightWords(pf)
	case errors.As(err, &ce):
		return commandWords(ce)
	case errors.Is(err, closure.ErrTenantLocked), errors.Is(err, closure.ErrNotFound), errors.Is(err, closure.ErrConflict):
		return closure.Explain(err)
	case closure.GrantWords(err) != "":
		// A missing Graph permission or directory role is the operator's to
		// grant: say which, and where.
		log.Warn("graph permission missing", append([]any{"err", err}, attrs...)...)
		return closure.GrantWords(err)
	case errors.Is(err, closure.ErrTampered):
		// The database does not match its audit chain or what closebot
		// posted to Slack: nothing is decided on it; the log names why.
		log.Error("refused on stored data that does not verify", append([]any{"err", err}, attrs...)...)
		return "closebot's stored record of this request does not verify (its database was changed or restored from an older copy), so it decides nothing on it; the operators have the details in its log and `closebot audit verify`."
	}
	id := incidentID()
	log.Error("internal error", append([]any{"incident", id, "err", err}, attrs...)...)
	return "closebot hit an internal error; it is logged as " + id + "."
}

// preflightWords lists every item preflight refused, each with its fix.
func preflightWords(pf *closure.PreflightError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "closebot cannot close this tenant yet; fix %s first:", plural(len(pf.Items), "this", "these"))
	for i, it := range pf.Items {
		fmt.Fprintf(&b, "\n%d. %s. Fix: %s", i+1, strings.TrimRight(it.Problem, "."), it.Fix)
	}
	return b.String()
}

// commandWords is a parse error's message with its did-you-mean.
func commandWords(ce *commands.Error) string {
	msg := ce.Message
	if ce.Suggestion != "" && !strings.Contains(msg, ce.Suggestion) {
		msg += " Did you mean `" + ce.Suggestion + "`?"
	}
	return msg + " Type `/close-tenant help` for usage."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// incidentID names an internal error in the log and in Slack.
func incidentID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "E-" + hex.EncodeToString(b[:])
}
