package store

import (
	"fmt"

	"github.com/closebot/closebot/closure"
)

// What closebot posted in Slack is the copy of the audit heads the
// database cannot roll back: each thread message mirroring an event shows
// its seq and the first 8 hex of its MAC (DESIGN §7). At start-up the bot
// reads its own messages back from every open request's thread and asks
// ComparePosted whether the stored chain still contains them; a database
// restored from last night's backup, or rewritten, does not.

// Posted is one "#seq · mac xxxxxxxx" closebot showed in a request's Slack
// thread.
type Posted struct {
	Seq  uint64
	MAC8 string // the first 8 lowercase hex characters of the event's MAC
	TS   string // the Slack message that showed it (for the log)
}

func (p Posted) String() string { return fmt.Sprintf("#%d · mac %s", p.Seq, p.MAC8) }

// ComparePosted checks what closebot posted for request id against its
// stored chain (in order, as Events returns it). Every posted event must be
// in the chain with the MAC prefix Slack shows: a posted seq beyond the
// chain's end means the database is behind Slack (rolled back); a different
// MAC means the chain was rewritten from that event on. It returns a Fault
// about the highest posted event that does not match (nil when all match):
// Seq is that event, Detail names what Slack shows and the stored head.
// Pure: no Slack, no database.
func ComparePosted(id string, chain []closure.Event, posted []Posted) *Fault {
	var worst *Posted
	var why string
	head := closure.Event{}
	if len(chain) > 0 {
		head = chain[len(chain)-1]
	}
	for i := range posted {
		p := posted[i]
		var reason string
		switch {
		case p.Seq == 0:
			continue
		case p.Seq > uint64(len(chain)):
			reason = "the stored chain has no such event"
		case chain[p.Seq-1].Seq != p.Seq:
			reason = "the stored chain is out of order"
		case ShortMAC(chain[p.Seq-1].MAC) != p.MAC8:
			reason = fmt.Sprintf("the stored event %d has mac %s", p.Seq, ShortMAC(chain[p.Seq-1].MAC))
		default:
			continue
		}
		if worst == nil || p.Seq > worst.Seq {
			worst, why = &posted[i], reason
		}
	}
	if worst == nil {
		return nil
	}
	stored := "the stored chain is empty"
	if head.Seq > 0 {
		stored = fmt.Sprintf("the stored chain ends at #%d · mac %s", head.Seq, ShortMAC(head.MAC))
	}
	return &Fault{Request: id, Seq: worst.Seq, Reason: ReasonBehindSlack,
		Detail: fmt.Sprintf("closebot posted %s in Slack (message %s) but %s; %s", worst, worst.TS, why, stored)}
}

// Hold refuses request id, for as long as this DB is open, with fault f:
// Get, Update, Append, SetRef and VerifyChain fail with it and List leaves
// the request out, as for a record that does not verify, so nothing acts
// on it. The start-up read-back holds a request whose database is behind
// what Slack shows; nothing is written to the file (a rolled-back file is
// no place to keep it), so the next start-up reads Slack again.
func (db *DB) Hold(id string, f *Fault) {
	if f == nil {
		return
	}
	db.holdMu.Lock()
	defer db.holdMu.Unlock()
	if db.held == nil {
		db.held = map[string]*Fault{}
	}
	db.held[id] = f
}

// Held returns the fault request id is held with, or nil.
func (db *DB) Held(id string) *Fault { return db.holdOf(id) }

func (db *DB) holdOf(id string) *Fault {
	db.holdMu.Lock()
	defer db.holdMu.Unlock()
	return db.held[id]
}
