package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The database head binds what a request record's MAC cannot: which
// requests exist, where each one's audit chain ends, its Slack refs, the
// tenant locks and the request counter. Without it a request could be
// deleted (record, chain and lock), or replaced by an older copy of itself
// (last night's backup), and every remaining MAC would still verify.
//
//	meta  "head"  → {"counter":n,"acc":hex,"mac":hex}
//	heads "CT-n"  → {"seq":s,"mac":m,"refs":r}  (m: the request's audit head MAC;
//	                                            r: refsDigest of its Slack refs, "" if none)
//
//	leaf(request CT-n) = HMAC(key, "closebot.head.request.v1\n" id "\n" seq "\n" mac "\n" refs)
//	leaf(lock)         = HMAC(key, "closebot.head.lock.v1\n" tenant "\n" holder id)
//	acc                = XOR of the leaves of every heads entry and every tenants entry
//	head mac           = HMAC(key, "closebot.head.v1\n" counter "\n" hex(acc))
//
// Every write that changes a request, its refs, a lock or the counter
// updates its leaf in acc and re-MACs the head in the same transaction, in
// O(1): acc ^= old leaf ^ new leaf. Before it does, it checks the head's
// MAC and that the request's record agrees with its heads entry, so a
// write never re-seals data someone else changed. Whether acc is still the
// XOR of all the leaves (an entry rolled back or removed together with its
// record) costs a pass over every entry: Create, VerifyChain (before every
// resume and purge) and the verify tools make it.
//
// Without the key nobody can produce a head MAC; with XOR of keyed leaves,
// an old head only verifies against exactly the set of entries it was
// computed over. What the head cannot see is the whole file replaced by an
// older whole file: that is what the read-back of the Slack threads is for
// (posted.go).

var (
	bucketHeads = []byte("heads")
	keyHead     = []byte("head")
)

type headRecord struct {
	Counter uint64 `json:"counter"`
	Acc     string `json:"acc"`
	MAC     string `json:"mac"`
}

type headEntry struct {
	Seq  uint64 `json:"seq"`
	MAC  string `json:"mac"`
	Refs string `json:"refs"`
}

type accumulator [sha256.Size]byte

func (a *accumulator) xor(leaf []byte) {
	for i := range a {
		a[i] ^= leaf[i]
	}
}

func requestLeaf(key []byte, id string, e headEntry) []byte {
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "closebot.head.request.v1\n%s\n%d\n%s\n%s", id, e.Seq, e.MAC, e.Refs)
	return h.Sum(nil)
}

func lockLeaf(key []byte, tenant, holder string) []byte {
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "closebot.head.lock.v1\n%s\n%s", tenant, holder)
	return h.Sum(nil)
}

func headMAC(key []byte, counter uint64, acc accumulator) string {
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "closebot.head.v1\n%d\n%s", counter, hex.EncodeToString(acc[:]))
	return hex.EncodeToString(h.Sum(nil))
}

// refsDigest digests a request's Slack refs bucket ("" when it has none):
// SHA-256 over each name and value, length-prefixed, in key order.
func refsDigest(tx *bolt.Tx, id string) string {
	refs := tx.Bucket(bucketSlack).Bucket([]byte(id))
	if refs == nil {
		return ""
	}
	h := sha256.New()
	n := 0
	_ = refs.ForEach(func(k, v []byte) error {
		n++
		h.Write(binary.AppendUvarint(nil, uint64(len(k))))
		h.Write(k)
		h.Write(binary.AppendUvarint(nil, uint64(len(v))))
		h.Write(v)
		return nil
	})
	if n == 0 {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// headFault is a fault of the database as a whole (Request "").
func headFault(reason Reason, format string, args ...any) *Fault {
	return &Fault{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// readHead reads and authenticates the head record (its acc decoded).
func (db *DB) readHead(tx *bolt.Tx) (headRecord, accumulator, *Fault) {
	var (
		rec headRecord
		acc accumulator
	)
	raw := tx.Bucket(bucketMeta).Get(keyHead)
	if raw == nil || tx.Bucket(bucketHeads) == nil {
		return rec, acc, headFault(ReasonMissing, "the database head is missing: it was removed, or the file was written by a closebot older than schema %d", schemaVersion)
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return rec, acc, headFault(ReasonUnparsable, "database head: %v", err)
	}
	b, err := hex.DecodeString(rec.Acc)
	if err != nil || len(b) != len(acc) {
		return rec, acc, headFault(ReasonUnparsable, "database head: accumulator is not %d hex bytes", len(acc))
	}
	copy(acc[:], b)
	if !hmac.Equal([]byte(rec.MAC), []byte(headMAC(db.key, rec.Counter, acc))) {
		return rec, acc, headFault(ReasonHeadMAC, "the database head's MAC does not verify")
	}
	if c := decodeUint(tx.Bucket(bucketMeta).Get(keyRequestCounter)); c != rec.Counter {
		return rec, acc, headFault(ReasonCounter, "the request counter is %d but the database head says %d", c, rec.Counter)
	}
	return rec, acc, nil
}

// entry reads request id's heads entry; ok=false when there is none.
func entry(tx *bolt.Tx, id string) (headEntry, bool, error) {
	var e headEntry
	b := tx.Bucket(bucketHeads)
	if b == nil {
		return e, false, nil
	}
	raw := b.Get([]byte(id))
	if raw == nil {
		return e, false, nil
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, true, &Fault{Request: id, Reason: ReasonUnparsable, Detail: "database head entry: " + err.Error()}
	}
	return e, true, nil
}

// checkIndex recomputes acc from every heads and tenants entry and
// compares it with the authenticated head's: the O(n) check.
func (db *DB) checkIndex(tx *bolt.Tx, want accumulator) *Fault {
	var acc accumulator
	var bad *Fault
	_ = tx.Bucket(bucketHeads).ForEach(func(k, v []byte) error {
		var e headEntry
		if err := json.Unmarshal(v, &e); err != nil {
			bad = &Fault{Request: string(k), Reason: ReasonUnparsable, Detail: "database head entry: " + err.Error()}
			return nil
		}
		acc.xor(requestLeaf(db.key, string(k), e))
		return nil
	})
	if bad != nil {
		return bad
	}
	_ = tx.Bucket(bucketTenants).ForEach(func(k, v []byte) error {
		acc.xor(lockLeaf(db.key, string(k), string(v)))
		return nil
	})
	if acc != want {
		return headFault(ReasonIndex, "the requests, their audit heads, Slack refs and tenant locks in the file are not the set the database head was sealed over: an entry was rolled back, removed or added behind closebot's back")
	}
	return nil
}

// headTx is the head being updated inside one write transaction.
type headTx struct {
	db  *DB
	tx  *bolt.Tx
	rec headRecord
	acc accumulator
}

// beginHead authenticates the head before a write changes it.
func (db *DB) beginHead(tx *bolt.Tx) (*headTx, error) {
	rec, acc, f := db.readHead(tx)
	if f != nil {
		return nil, f
	}
	return &headTx{db: db, tx: tx, rec: rec, acc: acc}, nil
}

// putRequest replaces request id's heads entry (and its leaf in acc).
func (h *headTx) putRequest(id string, e headEntry) error {
	old, ok, err := entry(h.tx, id)
	if err != nil {
		return err
	}
	if ok {
		h.acc.xor(requestLeaf(h.db.key, id, old))
	}
	h.acc.xor(requestLeaf(h.db.key, id, e))
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode head entry %s: %w", id, err)
	}
	if err := h.tx.Bucket(bucketHeads).Put([]byte(id), v); err != nil {
		return fmt.Errorf("store head entry %s: %w", id, err)
	}
	return nil
}

// sealRequest records request id's new audit head (and refs digest), then
// seals the head: the last step of every write to a request.
func (h *headTx) sealRequest(id string, rec *record, refs string) error {
	if err := h.putRequest(id, headEntry{Seq: rec.AuditSeq, MAC: rec.AuditMAC, Refs: refs}); err != nil {
		return err
	}
	return h.commit()
}

// sealRequestKeepRefs is sealRequest with the refs digest the entry had:
// a write that does not touch refs never re-seals refs changed by someone
// else.
func (h *headTx) sealRequestKeepRefs(id string, rec *record) error {
	old, _, err := entry(h.tx, id)
	if err != nil {
		return err
	}
	return h.sealRequest(id, rec, old.Refs)
}

// toggleLock accounts for a tenants entry put or deleted (XOR is its own
// inverse): call it exactly when the tenants bucket changes.
func (h *headTx) toggleLock(tenant, holder string) {
	h.acc.xor(lockLeaf(h.db.key, tenant, holder))
}

// commit seals and writes the head.
func (h *headTx) commit() error {
	h.rec.Acc = hex.EncodeToString(h.acc[:])
	h.rec.MAC = headMAC(h.db.key, h.rec.Counter, h.acc)
	v, err := json.Marshal(h.rec)
	if err != nil {
		return fmt.Errorf("encode database head: %w", err)
	}
	if err := h.tx.Bucket(bucketMeta).Put(keyHead, v); err != nil {
		return fmt.Errorf("store database head: %w", err)
	}
	return nil
}

// buildHead seals a head over the file's current contents: the first open
// of a new file, or of a file written before schema 2 (each request whose
// record verifies gets an entry; one that does not stays faulted). It
// returns how many requests it covered.
func (db *DB) buildHead(tx *bolt.Tx) (int, error) {
	if _, err := tx.CreateBucketIfNotExists(bucketHeads); err != nil {
		return 0, fmt.Errorf("create heads bucket: %w", err)
	}
	h := &headTx{db: db, tx: tx, rec: headRecord{Counter: decodeUint(tx.Bucket(bucketMeta).Get(keyRequestCounter))}}
	n := 0
	err := tx.Bucket(bucketRequests).ForEach(func(k, v []byte) error {
		id := requestID(decodeUint(k))
		rec, _, err := db.decodeRecord(id, v)
		if err != nil {
			return nil // the verify tools name it
		}
		n++
		return h.putRequest(id, headEntry{Seq: rec.AuditSeq, MAC: rec.AuditMAC, Refs: refsDigest(tx, id)})
	})
	if err != nil {
		return 0, err
	}
	err = tx.Bucket(bucketTenants).ForEach(func(k, v []byte) error {
		h.toggleLock(string(k), string(v))
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, h.commit()
}

// checkEntry compares request id's record head with its heads entry.
func checkEntry(tx *bolt.Tx, id string, rec *record) *Fault {
	e, ok, err := entry(tx, id)
	if err != nil {
		f, _ := isFault(err)
		return f
	}
	if !ok {
		return &Fault{Request: id, Reason: ReasonIndex,
			Detail: "the request is not in the database head: its record was added behind closebot's back"}
	}
	if e.Seq == rec.AuditSeq && e.MAC == rec.AuditMAC {
		return nil
	}
	switch {
	case rec.AuditSeq < e.Seq:
		return &Fault{Request: id, Reason: ReasonRolledBack,
			Detail: fmt.Sprintf("its record and chain end at event %d but the database head says %d (mac %s): an older copy was put back", rec.AuditSeq, e.Seq, ShortMAC(e.MAC))}
	case rec.AuditSeq > e.Seq:
		return &Fault{Request: id, Reason: ReasonRolledBack,
			Detail: fmt.Sprintf("its record and chain end at event %d but the database head says %d: the head was rolled back", rec.AuditSeq, e.Seq)}
	default:
		return &Fault{Request: id, Reason: ReasonRolledBack,
			Detail: fmt.Sprintf("event %d has mac %s but the database head says %s: the chain was replaced", rec.AuditSeq, ShortMAC(rec.AuditMAC), ShortMAC(e.MAC))}
	}
}

// checkRefs compares request id's Slack refs with its heads entry.
func checkRefs(tx *bolt.Tx, id string) *Fault {
	e, ok, err := entry(tx, id)
	if err != nil {
		f, _ := isFault(err)
		return f
	}
	if !ok {
		return nil // checkEntry names it
	}
	if got := refsDigest(tx, id); got != e.Refs {
		return &Fault{Request: id, Reason: ReasonRefs, Detail: "its Slack message refs were changed, added or removed behind closebot's back"}
	}
	return nil
}
