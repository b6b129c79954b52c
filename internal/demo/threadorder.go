package demo

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
)

var (
	seqRef   = regexp.MustCompile(`#(\d+) · mac`)
	stepHead = regexp.MustCompile(`\*Step (\d) of \d`)
)

// ThreadOrderProblems reads a request's thread back from the Slack
// emulator's log of chat.postMessage calls (the order Slack stored the
// replies in) and checks that it reads in audit order: each new post sits
// at the audit event it mirrors (an event line at its own sequence number,
// a step's message at the event that started the step, a gate's at the
// event that opened it, the plan at the request's opening, the summary at
// its closing), and those sequence numbers never go down.
func ThreadOrderProblems(calls []slacktest.Call, channel, cardTS string, events []closure.Event) []string {
	opened := openedAt(events)
	var problems []string
	var last uint64
	lastWhat := "the card"
	for _, c := range calls {
		if c.Error != "" || c.Params.Get("channel") != channel || c.Params.Get("thread_ts") != cardTS {
			continue
		}
		what, seq, ok := mirrored(c.Params.Get("blocks"), opened)
		if !ok {
			continue
		}
		if seq < last {
			problems = append(problems, fmt.Sprintf("%s (#%d) comes after %s (#%d)", what, seq, lastWhat, last))
		}
		last, lastWhat = seq, what
	}
	return problems
}

// ThreadPosts counts the thread's new posts by what they mirror ("step 2's
// message", "event #14", "gate 1.sync_off's message", "the plan", "the
// summary"): more than one is a message posted again (after a crash
// between the post and its recorded ref).
func ThreadPosts(calls []slacktest.Call, channel, cardTS string, events []closure.Event) map[string]int {
	opened := openedAt(events)
	n := map[string]int{}
	for _, c := range calls {
		if c.Error != "" || c.Params.Get("channel") != channel || c.Params.Get("thread_ts") != cardTS {
			continue
		}
		if what, _, ok := mirrored(c.Params.Get("blocks"), opened); ok {
			n[what]++
		}
	}
	return n
}

// openedAt maps "step.N" / "gate.ID" / "summary" to the sequence number of
// the audit event that started it.
func openedAt(events []closure.Event) map[string]uint64 {
	opened := map[string]uint64{}
	for _, ev := range events {
		switch ev.Action {
		case closure.EvStepsStart:
			opened["step.1"] = ev.Seq
		case closure.EvStepDone:
			if n, err := strconv.Atoi(ev.Detail["step"]); err == nil {
				opened["step."+strconv.Itoa(n+1)] = ev.Seq
			}
		case closure.EvGateOpen:
			opened["gate."+ev.Detail["gate"]] = ev.Seq
		case closure.EvClosed:
			opened["summary"] = ev.Seq
		}
	}
	return opened
}

// mirrored says which audit event a thread post mirrors.
func mirrored(raw string, opened map[string]uint64) (string, uint64, bool) {
	var bs []struct {
		BlockID string `json:"block_id"`
		Text    struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Text  string `json:"text"`
			Value string `json:"value"`
		} `json:"elements"`
	}
	if json.Unmarshal([]byte(raw), &bs) != nil {
		return "", 0, false
	}
	for _, b := range bs {
		switch {
		case b.BlockID == "event_audit" && len(b.Elements) > 0:
			if m := seqRef.FindStringSubmatch(b.Elements[0].Text); m != nil {
				n, _ := strconv.ParseUint(m[1], 10, 64)
				return "event #" + m[1], n, true
			}
		case b.BlockID == blocks.BlockStepStatus:
			if m := stepHead.FindStringSubmatch(b.Text.Text); m != nil {
				seq, ok := opened["step."+m[1]]
				return "step " + m[1] + "'s message", seq, ok
			}
		case strings.HasPrefix(b.BlockID, blocks.BlockPlanDetail):
			return "the plan", 1, true
		case b.BlockID == blocks.BlockSummaryHead:
			seq, ok := opened["summary"]
			return "the summary", seq, ok
		case b.BlockID == blocks.BlockGateActions:
			for _, e := range b.Elements {
				if v, err := blocks.ParseValue(e.Value); err == nil && v.Gate != "" {
					seq, ok := opened["gate."+v.Gate]
					return "gate " + v.Gate + "'s message", seq, ok
				}
			}
		}
	}
	return "", 0, false
}

// ThreadGaps lists the audit events that should be mirrored in a
// request's thread and are not: every event with a thread line (an
// approval, a pause, a gate's stuck notice…) must appear, at its own
// sequence number, among the replies Slack stored under one of the
// request's cards (more than one when the card was deleted and posted
// again), and so must each step's message and the summary.
func ThreadGaps(calls []slacktest.Call, channel string, cardTSs []string, events []closure.Event) []string {
	under := map[string]bool{}
	for _, ts := range cardTSs {
		under[ts] = true
	}
	posted := map[uint64]bool{}
	var steps [6]bool
	summary := false
	for _, c := range calls {
		if c.Error != "" || c.Params.Get("channel") != channel || !under[c.Params.Get("thread_ts")] {
			continue
		}
		raw := c.Params.Get("blocks")
		for _, m := range seqRef.FindAllStringSubmatch(raw, -1) {
			if n, err := strconv.ParseUint(m[1], 10, 64); err == nil {
				posted[n] = true
			}
		}
		for _, m := range stepHead.FindAllStringSubmatch(raw, -1) {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 && n <= 5 {
				steps[n] = true
			}
		}
		summary = summary || strings.Contains(raw, `"block_id":"`+blocks.BlockSummaryHead+`"`)
	}
	var gaps []string
	closed := false
	for _, ev := range events {
		closed = closed || ev.Action == closure.EvClosed
		if _, mirrored := blocks.EventLine(blocks.EventView{Action: ev.Action, Detail: ev.Detail}); mirrored && !posted[ev.Seq] {
			gaps = append(gaps, fmt.Sprintf("event #%d (%s) has no thread reply", ev.Seq, ev.Action))
		}
	}
	if closed {
		for n := 1; n <= 5; n++ {
			if !steps[n] {
				gaps = append(gaps, fmt.Sprintf("step %d's message is missing", n))
			}
		}
		if !summary {
			gaps = append(gaps, "the summary is missing")
		}
	}
	return gaps
}
