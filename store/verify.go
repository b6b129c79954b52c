package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"

	"github.com/closebot/closebot/closure"
)

// Reason says why stored audit data does not verify.
type Reason string

// Reasons of a Fault.
const (
	ReasonMACMismatch  Reason = "mac mismatch"        // event MAC is not HMAC(key, prev || canonical)
	ReasonSeqGap       Reason = "seq gap"             // key or seq not the next number
	ReasonUnparsable   Reason = "unparsable"          // stored bytes are not an event / record
	ReasonNotCanonical Reason = "not canonical"       // decodes, but is not the bytes that were sealed
	ReasonWrongRequest Reason = "wrong request"       // event names another request
	ReasonHeadMismatch Reason = "head mismatch"       // chain end differs from the request record's head (cut or extended)
	ReasonRecordMAC    Reason = "record mac mismatch" // request record edited
	ReasonMissing      Reason = "missing"             // a request without chain or a chain without request; no database head

	// Faults the database head finds (head.go).
	ReasonDeleted    Reason = "deleted"                    // an id below the request counter without its record
	ReasonRolledBack Reason = "rolled back"                // record and chain differ from the request's database head entry
	ReasonIndex      Reason = "database head mismatch"     // entries differ from the set the head was sealed over
	ReasonHeadMAC    Reason = "database head mac mismatch" // the head record itself was edited
	ReasonCounter    Reason = "request counter mismatch"   // counter edited, or a request above it
	ReasonLock       Reason = "tenant lock mismatch"       // a lock without its open request, or an open request without its lock
	ReasonRefs       Reason = "slack refs mismatch"        // Slack message refs changed behind closebot's back

	// ReasonBehindSlack: what closebot posted in the request's Slack thread
	// is not in the stored chain (posted.go): the database was restored
	// from an older copy or rewritten.
	ReasonBehindSlack Reason = "behind slack"
	// ReasonUnchecked: the request's Slack thread could not be read back at
	// start-up, so it is not resumed until it can be (next start-up).
	ReasonUnchecked Reason = "not checked against slack"
)

// Fault names the first place where stored audit data fails verification.
// Seq is the event's sequence number, or 0 for the request record itself.
// Request is "" for a fault of the database as a whole (its head), which
// stops work on every request. errors.Is(fault, ErrTampered) holds.
type Fault struct {
	Request string
	Seq     uint64
	Reason  Reason
	Detail  string
}

func (f *Fault) Error() string {
	where := fmt.Sprintf("audit chain of %s broken at event %d", f.Request, f.Seq)
	switch {
	case f.Request == "":
		where = "the database head does not verify"
	case f.Seq == 0:
		where = fmt.Sprintf("request record of %s does not verify", f.Request)
	}
	if f.Detail != "" {
		return fmt.Sprintf("%s: %s (%s)", where, f.Reason, f.Detail)
	}
	return fmt.Sprintf("%s: %s", where, f.Reason)
}

// Unwrap makes errors.Is(f, ErrTampered) true.
func (f *Fault) Unwrap() error { return ErrTampered }

// Result is the outcome of verifying one request's chain.
type Result struct {
	Request string
	Events  int    // events read
	Fault   *Fault // nil when the chain and record verify
}

// OK reports whether the request verified.
func (r Result) OK() bool { return r.Fault == nil }

// Err is the Fault as an error, or nil.
func (r Result) Err() error {
	if r.Fault == nil {
		return nil
	}
	return r.Fault
}

// Verify checks request id: every event's MAC against the key and its
// predecessor, seq without gaps, exact stored bytes, then the request
// record's MAC and that its head is the chain's last event, then that the
// request's audit head, Slack refs and tenant lock are those the database
// head holds, and that the database head itself verifies. The returned
// Result names the first fault; error is only for not found or I/O.
func (db *DB) Verify(ctx context.Context, id string) (Result, error) {
	if err := checkCtx(ctx); err != nil {
		return Result{}, err
	}
	var res Result
	err := db.bolt.View(func(tx *bolt.Tx) error {
		k, ok := requestKey(id)
		if !ok {
			return fmt.Errorf("%w: %q", closure.ErrNotFound, id)
		}
		hasRecord := tx.Bucket(bucketRequests).Get(k) != nil
		if !hasRecord && tx.Bucket(bucketAudit).Bucket([]byte(id)) == nil {
			if _, inHead, _ := entry(tx, id); inHead {
				res = Result{Request: id, Fault: &Fault{Request: id, Reason: ReasonDeleted,
					Detail: "the database head lists it but its record and chain are gone"}}
				return nil
			}
			return fmt.Errorf("%w: %s", closure.ErrNotFound, id)
		}
		res = db.verifyRequest(tx, id, db.verifyHead(tx))
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("verify %s: %w", id, err)
	}
	return res, nil
}

// VerifyChain implements closure.Store: nil when request id's chain
// and record verify, else its *Fault (errors.Is ErrTampered). Get only
// checks the record and its head; an event edited inside the chain shows
// only here (and in Verify).
func (db *DB) VerifyChain(ctx context.Context, id string) error {
	res, err := db.Verify(ctx, id)
	if err != nil {
		return err
	}
	return res.Err()
}

// VerifyAll verifies every request, every chain left without a request,
// and every id below the request counter (a missing one was deleted), in
// request-number order. A fault of the database head is given to every
// request that has none of its own: it stops work on all of them.
func (db *DB) VerifyAll(ctx context.Context) ([]Result, error) {
	rep, err := db.VerifyDatabase(ctx)
	if err != nil {
		return nil, err
	}
	out := rep.Requests
	if rep.Head != nil {
		for i := range out {
			if out[i].Fault == nil {
				out[i].Fault = rep.Head
			}
		}
	}
	return out, nil
}

// verifyTx verifies one request inside a read transaction.
func (db *DB) verifyTx(tx *bolt.Tx, id string) Result {
	res := Result{Request: id}
	var (
		lastSeq uint64
		lastMAC string
	)
	if chain := tx.Bucket(bucketAudit).Bucket([]byte(id)); chain != nil {
		v := newChainVerifier(db.key, id)
		c := chain.Cursor()
		for k, val := c.First(); k != nil; k, val = c.Next() {
			res.Events++
			if len(k) != 8 || decodeUint(k) != v.seq+1 {
				res.Fault = &Fault{Request: id, Seq: v.seq + 1, Reason: ReasonSeqGap,
					Detail: fmt.Sprintf("key %x after event %d", k, v.seq)}
				return res
			}
			if f := v.next(val); f != nil {
				res.Fault = f
				return res
			}
		}
		lastSeq, lastMAC = v.seq, v.prev
	}
	k, _ := requestKey(id)
	raw := tx.Bucket(bucketRequests).Get(k)
	if raw == nil {
		res.Fault = &Fault{Request: id, Reason: ReasonMissing, Detail: "audit chain without request record"}
		return res
	}
	if res.Events == 0 {
		res.Fault = &Fault{Request: id, Seq: 1, Reason: ReasonMissing, Detail: "request without audit chain"}
		return res
	}
	rec, _, err := db.decodeRecord(id, raw)
	if err != nil {
		if f, ok := isFault(err); ok {
			res.Fault = f
		} else {
			res.Fault = &Fault{Request: id, Reason: ReasonUnparsable, Detail: err.Error()}
		}
		return res
	}
	if rec.AuditSeq != lastSeq || rec.AuditMAC != lastMAC {
		res.Fault = &Fault{Request: id, Seq: min(rec.AuditSeq, lastSeq) + 1, Reason: ReasonHeadMismatch,
			Detail: fmt.Sprintf("chain ends at event %d, request record expects %d", lastSeq, rec.AuditSeq)}
	}
	return res
}

// chainVerifier checks events one after another.
type chainVerifier struct {
	key  []byte
	id   string
	seq  uint64 // last verified seq
	prev string // last verified MAC
}

func newChainVerifier(key []byte, id string) *chainVerifier {
	return &chainVerifier{key: key, id: id}
}

// next verifies the stored bytes of event seq+1 and advances.
func (v *chainVerifier) next(stored []byte) *Fault {
	want := v.seq + 1
	var ev closure.Event
	if err := json.Unmarshal(stored, &ev); err != nil {
		return &Fault{Request: v.id, Seq: want, Reason: ReasonUnparsable, Detail: err.Error()}
	}
	if ev.Seq != want {
		return &Fault{Request: v.id, Seq: want, Reason: ReasonSeqGap, Detail: fmt.Sprintf("event says seq %d", ev.Seq)}
	}
	if ev.Request != v.id {
		return &Fault{Request: v.id, Seq: want, Reason: ReasonWrongRequest, Detail: fmt.Sprintf("event names %q", ev.Request)}
	}
	canon, err := canonical(ev)
	if err != nil {
		return &Fault{Request: v.id, Seq: want, Reason: ReasonUnparsable, Detail: err.Error()}
	}
	if !hmac.Equal([]byte(ev.MAC), []byte(chainMAC(v.key, v.prev, canon))) {
		return &Fault{Request: v.id, Seq: want, Reason: ReasonMACMismatch}
	}
	// The MAC covers the decoded event; the bytes must also be exactly the
	// sealed ones (see audit.go).
	if again, err := json.Marshal(ev); err != nil || !bytes.Equal(again, stored) {
		return &Fault{Request: v.id, Seq: want, Reason: ReasonNotCanonical}
	}
	v.seq, v.prev = want, ev.MAC
	return nil
}

// Export writes request id's audit chain as JSON Lines: one event per line,
// the exact stored bytes (MAC included), in seq order.
func (db *DB) Export(ctx context.Context, id string, w io.Writer) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	var lines [][]byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		chain := tx.Bucket(bucketAudit).Bucket([]byte(id))
		if chain == nil {
			return fmt.Errorf("%w: %s", closure.ErrNotFound, id)
		}
		return chain.ForEach(func(_, v []byte) error {
			lines = append(lines, bytes.Clone(v)) // v is only valid inside the transaction
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", id, err)
	}
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		bw.Write(l)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export %s: %w", id, err)
	}
	return nil
}

// VerifyExport verifies a chain exported by Export (JSON Lines) with key,
// outside any database. Only the chain is checked: an export carries no
// request record, so a cut-off tail shows only against Slack's mirror.
func VerifyExport(key []byte, r io.Reader) (Result, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	var (
		res Result
		v   *chainVerifier
	)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if v == nil {
			var head struct {
				Request string `json:"request"`
			}
			_ = json.Unmarshal(line, &head) // a bad first line is reported by next
			res.Request = head.Request
			v = newChainVerifier(key, head.Request)
		}
		res.Events++
		if f := v.next(line); f != nil {
			res.Fault = f
			return res, nil
		}
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("read export: %w", err)
	}
	if v == nil {
		return res, errors.New("read export: no events")
	}
	return res, nil
}
