package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/closebot/closebot/closure"
)

// The audit chain, exactly (`closebot audit verify`, the Slack mirror and any
// outside verifier depend on every detail):
//
//	canonical(ev) = Go's json.Marshal of closure.Event with MAC = "": field
//	                order of the struct, omitempty as tagged, Detail keys sorted
//	                by encoding/json, HTML characters escaped (\u003c...), At in
//	                UTC (RFC 3339 with nanoseconds, trailing zeros dropped).
//	mac_1 = hex(HMAC-SHA256(key, canonical(ev_1)))
//	mac_n = hex(HMAC-SHA256(key, mac_(n-1) || canonical(ev_n)))
//
// mac_(n-1) enters as its 64 lowercase hex ASCII characters. The first event
// has no predecessor: its prev is empty (no genesis value); the request id and
// seq inside every event bind the chain to its request and position. hex is
// lowercase. Seq runs 1, 2, 3... with no gap; the bbolt key is Seq as 8 bytes
// big-endian. The stored value is json.Marshal(ev) with MAC set (that is,
// canonical plus the "mac" field last) and verification demands those exact
// bytes: encoding/json matches keys case-insensitively and ignores unknown
// fields, so a changed byte could otherwise decode to the same event.
//
// Before sealing, the store normalises an event by one JSON round trip
// (UTC time, invalid UTF-8 replaced) so that decoding and re-encoding the
// stored bytes gives the same bytes again.

// ShortMAC is what a Slack thread message shows next to an event's seq: the
// first 8 hex characters of its MAC.
func ShortMAC(mac string) string {
	if len(mac) < 8 {
		return mac
	}
	return mac[:8]
}

// canonical is the MAC input of ev (see above).
func canonical(ev closure.Event) ([]byte, error) {
	ev.MAC = ""
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode audit event: %w", err)
	}
	return b, nil
}

// chainMAC computes one link of the chain.
func chainMAC(key []byte, prev string, canon []byte) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(prev))
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil))
}

// normalise makes ev a fixed point of JSON encode/decode.
func normalise(ev closure.Event) (closure.Event, error) {
	ev.At = ev.At.UTC()
	b, err := json.Marshal(ev)
	if err != nil {
		return ev, fmt.Errorf("encode audit event: %w", err)
	}
	var out closure.Event
	if err := json.Unmarshal(b, &out); err != nil {
		return ev, fmt.Errorf("decode audit event: %w", err)
	}
	return out, nil
}

// seal normalises ev, gives it its MAC after prev and returns it with the
// bytes to store.
func seal(key []byte, prev string, ev closure.Event) (closure.Event, []byte, error) {
	ev, err := normalise(ev)
	if err != nil {
		return ev, nil, err
	}
	canon, err := canonical(ev)
	if err != nil {
		return ev, nil, err
	}
	ev.MAC = chainMAC(key, prev, canon)
	stored, err := json.Marshal(ev)
	if err != nil {
		return ev, nil, fmt.Errorf("encode audit event: %w", err)
	}
	return ev, stored, nil
}

// appendEvent adds ev to request rec's chain inside tx and advances rec's
// head; the caller writes rec afterwards. Seq and Request are set here.
func (db *DB) appendEvent(tx *bolt.Tx, id string, rec *record, ev closure.Event) (closure.Event, error) {
	chain, err := tx.Bucket(bucketAudit).CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return ev, fmt.Errorf("audit bucket of %s: %w", id, err)
	}
	// The record's head is MAC-protected; the bucket must agree with it.
	lastSeq := uint64(0)
	if k, _ := chain.Cursor().Last(); k != nil {
		lastSeq = decodeUint(k)
	}
	if lastSeq != rec.AuditSeq {
		return ev, &Fault{Request: id, Seq: lastSeq, Reason: ReasonHeadMismatch,
			Detail: fmt.Sprintf("last stored event is %d, request record says %d", lastSeq, rec.AuditSeq)}
	}
	ev.Request = id
	ev.Seq = rec.AuditSeq + 1
	if ev.At.IsZero() {
		ev.At = db.now()
	}
	ev.MAC = ""
	sealed, stored, err := seal(db.key, rec.AuditMAC, ev)
	if err != nil {
		return ev, err
	}
	if err := chain.Put(encodeUint(sealed.Seq), stored); err != nil {
		return ev, fmt.Errorf("store audit event %s #%d: %w", id, sealed.Seq, err)
	}
	rec.AuditSeq, rec.AuditMAC = sealed.Seq, sealed.MAC
	return sealed, nil
}
