package blocks

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/closure"
)

// GateView is one manual gate's thread message (DESIGN §2 item 6, §4).
type GateView struct {
	RequestID string
	Version   uint64
	// State is the request's: the Re-check and attestation buttons show
	// only where the domain accepts them (closure.Offers).
	State    closure.State
	GateID   string
	Kind     closure.GateKind
	Step     int
	Assignee string // keep_slack_user: who must act
	ETA      time.Time
	OpenedAt time.Time
	// SatisfiedAt is set once the re-check passed.
	SatisfiedAt  time.Time
	Stuck        bool
	RecheckEvery time.Duration
	LastChecked  time.Time

	// Instruction is what to do, in the domain's words with the gate's
	// params filled in (closure.InstructionFor): the one source of gate
	// texts. Plain text that may carry Graph's words and names; it is
	// escaped here.
	Instruction closure.Instruction

	// Attest lists the sentence ids (closure.Sentences) this gate needs;
	// Attested those already pressed.
	Attest   []string
	Attested []AttestationView

	// Seq and MAC are the audit event this edit mirrors.
	Seq uint64
	MAC string
}

// AttestationView is one recorded attestation.
type AttestationView struct {
	Sentence string // closure.Sentences id
	By       string // Slack user id
	At       time.Time
}

// linkSupport is where a stuck gate sends people (our constant).
const linkSupport = "https://admin.microsoft.com/#/support"

func link(url, label string) string { return "<" + url + "|" + label + ">" }

// unfilled matches a {param} the domain had no value for.
var unfilled = regexp.MustCompile(`\{[a-z_]+\}`)

// gateStepsBudget is the runes the numbered instructions may take in their
// section, leaving room for the link and the "done when" line.
const gateStepsBudget = 2400

// GateInstructions returns a gate's title and its instruction lines
// (mrkdwn, escaped), from the domain's Instruction; a generic text when the
// domain has none for the gate.
func GateInstructions(v GateView) (title string, lines []string) {
	in := v.Instruction
	if in.Title == "" || len(in.Steps) == 0 {
		return "Manual action needed", []string{"Gate " + escClip(string(v.Kind), 100) + ": closebot has no instructions for it; see the audit log."}
	}
	steps := make([]string, len(in.Steps))
	lens := make([]int, len(in.Steps))
	for i, s := range in.Steps {
		steps[i] = unfilled.ReplaceAllString(s, "(unknown)")
		lens[i] = utf8.RuneCountInString(Escape(steps[i]))
	}
	for i, n := range fairShares(lens, gateStepsBudget) {
		lines = append(lines, escClip(steps[i], n))
	}
	return clip(in.Title, 120), lines
}

// fairShares splits budget over items of the given lengths: short items
// get what they need, the rest is shared evenly by the long ones (a step
// with PowerShell lines may take what the short steps leave).
func fairShares(lens []int, budget int) []int {
	order := make([]int, len(lens))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lens[order[a]] < lens[order[b]] })
	out := make([]int, len(lens))
	left := budget
	for k, i := range order {
		fair := left / (len(order) - k)
		out[i] = min(lens[i], fair)
		left -= out[i]
	}
	return out
}

// gateWhereDone is the instruction's link and what the re-check looks for,
// as unnumbered mrkdwn lines.
func gateWhereDone(in closure.Instruction) string {
	var out []string
	if u, err := url.Parse(in.Link); err == nil && u.Scheme == "https" && u.Host != "" && !strings.ContainsAny(in.Link, "<>| \n") {
		out = append(out, "Where: "+link(strings.ReplaceAll(in.Link, "&", "&amp;"), Escape(u.Host)))
	}
	if in.Done != "" {
		out = append(out, "Done when: "+escClip(unfilled.ReplaceAllString(in.Done, "(unknown)"), 300)+".")
	}
	return strings.Join(out, "\n")
}

// Gate renders a manual gate's thread message.
func Gate(v GateView) Message {
	title, lines := GateInstructions(v)
	open := v.SatisfiedAt.IsZero()
	status := "open"
	switch {
	case !open:
		status = "done " + Date(v.SatisfiedAt)
	case v.Stuck:
		status = "stuck"
	}
	bs := []slack.Block{section(BlockGateTitle, fmt.Sprintf("*Step %d · %s*: %s", v.Step, Escape(title), status))}
	if open {
		who := "The kept admin must act."
		if v.Assignee != "" {
			who = Mention(v.Assignee) + " must act."
		}
		bs = append(bs, section(BlockGateWho, who))
	}
	var b strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&b, "%d. %s\n", i+1, l)
	}
	if wd := gateWhereDone(v.Instruction); wd != "" {
		b.WriteString(wd)
	}
	bs = append(bs, section(BlockGateSteps, strings.TrimSuffix(b.String(), "\n")))
	if open {
		bs = append(bs, contextBlock(BlockGateETA, gateETA(v)))
	}
	if len(v.Attested) > 0 {
		bs = append(bs, section(BlockGateAttest, attestedLines(v.Attested)))
	}
	if open && v.Stuck {
		bs = append(bs, section(BlockGateStuck, "*Stuck*: this gate is long past its ETA. Open a Microsoft support case in the "+
			link(linkSupport, "Microsoft 365 admin center → Support")+" and attach the audit export: `closebot audit export "+Escape(v.RequestID)+"`."))
	}
	if open {
		val := Value{Request: v.RequestID, Version: v.Version, Gate: v.GateID}
		if closure.Offers(closure.ActRecheck, v.State) {
			bs = append(bs, actions(BlockGateActions, button(ActionRecheck, LabelRecheck, val)))
		}
		for _, id := range missingSentences(v) {
			if !closure.Offers(closure.ActAttest, v.State) {
				break
			}
			sv := val
			sv.Sentence = id
			bs = append(bs, actions(BlockGateAttestButton+id, button(ActionAttest, closure.Sentences[id], sv).WithStyle(slack.StylePrimary)))
		}
	}
	if ref := auditRef(v.Seq, v.MAC); ref != "" {
		bs = append(bs, contextBlock(BlockGateAudit, v.RequestID+" · "+ref))
	}
	text := fmt.Sprintf("%s · step %d gate: %s (%s)", Escape(v.RequestID), v.Step, Escape(title), map[bool]string{true: "open", false: "done"}[open])
	return newMessage(text, bs...)
}

// BlockGateAttestButton prefixes the block of each attestation button
// (one block per sentence, so each carries the stable ActionAttest).
const BlockGateAttestButton = "gate_attest_btn_"

func missingSentences(v GateView) []string {
	done := map[string]bool{}
	for _, a := range v.Attested {
		done[a.Sentence] = true
	}
	var out []string
	for _, id := range v.Attest {
		if _, known := closure.Sentences[id]; known && !done[id] {
			out = append(out, id)
		}
	}
	return out
}

func gateETA(v GateView) string {
	var parts []string
	if !v.ETA.IsZero() {
		parts = append(parts, "ETA "+Date(v.ETA)+" (from Graph's nextLifecycleDateTime)")
	} else {
		parts = append(parts, "No ETA from Graph")
	}
	if v.RecheckEvery > 0 {
		parts = append(parts, "closebot re-checks every "+duration(v.RecheckEvery)+" and reminds daily")
	}
	if !v.LastChecked.IsZero() {
		parts = append(parts, "last checked "+Date(v.LastChecked))
	}
	if !v.OpenedAt.IsZero() {
		parts = append(parts, "opened "+Date(v.OpenedAt))
	}
	return strings.Join(parts, " · ")
}

func attestedLines(as []AttestationView) string {
	var lines []string
	for _, a := range as {
		s, ok := closure.Sentences[a.Sentence]
		if !ok {
			s = a.Sentence
		}
		lines = append(lines, fmt.Sprintf("Attested “%s” by %s %s", Escape(s), Mention(a.By), Date(a.At)))
	}
	return strings.Join(lines, "\n")
}
