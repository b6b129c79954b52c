package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/closebot/closebot/closure"
)

var _ closure.Store = (*DB)(nil)

// record is the stored form of a request: the domain's whole Request as JSON
// (new domain fields need no store change), the head of its audit chain, and
// a MAC over both. Without the key nobody can edit a request (add an approval,
// move its state) or cut events off the end of its chain unnoticed.
type record struct {
	Request  json.RawMessage `json:"request"`
	AuditSeq uint64          `json:"audit_seq"`
	AuditMAC string          `json:"audit_mac"`
	MAC      string          `json:"mac"`
}

// recordMAC = hex(HMAC-SHA256(key, "closebot.record.v1\n" id "\n" seq "\n"
// audit_mac "\n" request JSON)). The prefix keeps it apart from event MACs,
// whose input starts with hex or '{'.
func recordMAC(key []byte, id string, rec *record) string {
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "closebot.record.v1\n%s\n%d\n%s\n", id, rec.AuditSeq, rec.AuditMAC)
	h.Write(rec.Request)
	return hex.EncodeToString(h.Sum(nil))
}

// requestKey maps "CT-n" to its bbolt key (n big-endian, so the bucket is in
// creation order); ok=false for anything that is not a request id.
func requestKey(id string) ([]byte, bool) {
	digits, ok := strings.CutPrefix(id, "CT-")
	if !ok || digits == "" || digits[0] == '0' {
		return nil, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return nil, false
	}
	return encodeUint(n), true
}

func requestID(n uint64) string { return "CT-" + strconv.FormatUint(n, 10) }

// loadRecord reads and authenticates request id: its record's MAC, and
// that its audit head is the one the database head holds for it (an older
// copy of the record and chain put back is refused here, on every read).
// A request held by Hold is refused with its fault.
func (db *DB) loadRecord(tx *bolt.Tx, id string) (*record, *closure.Request, error) {
	k, ok := requestKey(id)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", closure.ErrNotFound, id)
	}
	v := tx.Bucket(bucketRequests).Get(k)
	if v == nil {
		return nil, nil, fmt.Errorf("%w: %s", closure.ErrNotFound, id)
	}
	return db.decodeChecked(tx, id, v)
}

// decodeChecked is decodeRecord plus the hold and the database-head entry.
func (db *DB) decodeChecked(tx *bolt.Tx, id string, v []byte) (*record, *closure.Request, error) {
	if f := db.holdOf(id); f != nil {
		return nil, nil, f
	}
	rec, req, err := db.decodeRecord(id, v)
	if err != nil {
		return nil, nil, err
	}
	if !db.noHead {
		if f := checkEntry(tx, id, rec); f != nil {
			return nil, nil, f
		}
	}
	return rec, req, nil
}

func (db *DB) decodeRecord(id string, v []byte) (*record, *closure.Request, error) {
	var rec record
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, nil, &Fault{Request: id, Reason: ReasonUnparsable, Detail: "request record: " + err.Error()}
	}
	if !hmac.Equal([]byte(rec.MAC), []byte(recordMAC(db.key, id, &rec))) {
		return nil, nil, &Fault{Request: id, Reason: ReasonRecordMAC}
	}
	var req closure.Request
	if err := json.Unmarshal(rec.Request, &req); err != nil {
		return nil, nil, &Fault{Request: id, Reason: ReasonUnparsable, Detail: "request: " + err.Error()}
	}
	if req.ID != id {
		return nil, nil, &Fault{Request: id, Reason: ReasonRecordMAC, Detail: fmt.Sprintf("record names %q", req.ID)}
	}
	return &rec, &req, nil
}

// putRecord encodes req into rec, seals rec and writes it. It returns a fresh
// decoded copy of req so callers never share maps or slices with the store.
func (db *DB) putRecord(tx *bolt.Tx, rec *record, req *closure.Request) (*closure.Request, error) {
	raw, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request %s: %w", req.ID, err)
	}
	rec.Request = raw
	rec.MAC = recordMAC(db.key, req.ID, rec)
	v, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode request record %s: %w", req.ID, err)
	}
	k, _ := requestKey(req.ID)
	if err := tx.Bucket(bucketRequests).Put(k, v); err != nil {
		return nil, fmt.Errorf("store request %s: %w", req.ID, err)
	}
	var out closure.Request
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode request %s: %w", req.ID, err)
	}
	return &out, nil
}

// Create assigns CT-n (n from meta's counter, from 1), sets Version to 1,
// takes the tenant lock and stores req with ev as event 1, in one
// transaction. CreatedAt defaults to ev.At, UpdatedAt is ev.At.
func (db *DB) Create(ctx context.Context, req *closure.Request, ev closure.Event) (*closure.Request, closure.Event, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, ev, err
	}
	if req == nil || req.TenantID == "" || req.State == "" {
		return nil, ev, fmt.Errorf("create request: %w: tenant id and state are required", ErrInvalid)
	}
	if ev.At.IsZero() {
		ev.At = db.now()
	}
	var out *closure.Request
	var sealed closure.Event
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		// A new request is rare: check the whole database head first, so
		// a request deleted with its lock does not free its tenant.
		h, err := db.beginHead(tx)
		if err != nil {
			return err
		}
		if f := db.checkIndex(tx, h.acc); f != nil {
			return f
		}
		meta := tx.Bucket(bucketMeta)
		n := decodeUint(meta.Get(keyRequestCounter)) + 1
		id := requestID(n)
		if k, _ := requestKey(id); tx.Bucket(bucketRequests).Get(k) != nil {
			return fmt.Errorf("request counter at %d but %s exists", n-1, id)
		}
		if _, ok, _ := entry(tx, id); ok || tx.Bucket(bucketAudit).Bucket([]byte(id)) != nil {
			return headFault(ReasonCounter, "request counter at %d but %s already has a chain or a database head entry", n-1, id)
		}
		tenants := tx.Bucket(bucketTenants)
		if req.State.HoldsLock() {
			if holder := tenants.Get([]byte(req.TenantID)); holder != nil {
				return fmt.Errorf("%w: %s holds tenant %s", closure.ErrTenantLocked, holder, req.TenantID)
			}
			if err := tenants.Put([]byte(req.TenantID), []byte(id)); err != nil {
				return fmt.Errorf("lock tenant %s: %w", req.TenantID, err)
			}
			h.toggleLock(req.TenantID, id)
		}
		if err := meta.Put(keyRequestCounter, encodeUint(n)); err != nil {
			return fmt.Errorf("advance request counter: %w", err)
		}
		h.rec.Counter = n
		r := *req
		r.ID, r.Version = id, 1
		if r.CreatedAt.IsZero() {
			r.CreatedAt = ev.At
		}
		r.UpdatedAt = ev.At
		if ev.To == "" {
			ev.To = r.State
		}
		ev.Version = 1
		rec := &record{}
		if sealed, err = db.appendEvent(tx, id, rec, ev); err != nil {
			return err
		}
		if out, err = db.putRecord(tx, rec, &r); err != nil {
			return err
		}
		return h.sealRequest(id, rec, "")
	})
	if err != nil {
		return nil, ev, fmt.Errorf("create request: %w", err)
	}
	return out, sealed, nil
}

// Get returns request id, authenticated against its record MAC.
func (db *DB) Get(ctx context.Context, id string) (*closure.Request, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	var req *closure.Request
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		_, req, err = db.loadRecord(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get request: %w", err)
	}
	return req, nil
}

// List returns requests newest first (by number), at most limit of them
// (limit <= 0: all); open keeps only those whose state holds the tenant lock.
// A record that fails its MAC is left out: that request alone stops.
func (db *DB) List(ctx context.Context, open bool, limit int) ([]*closure.Request, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	var out []*closure.Request
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRequests).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if limit > 0 && len(out) >= limit {
				return nil
			}
			_, req, err := db.decodeChecked(tx, requestID(decodeUint(k)), v)
			if errors.Is(err, ErrTampered) {
				// A record that does not verify stops work on that request
				// only (DESIGN §7): Get refuses it, VerifyAll names it, and
				// its tenant lock stays held. The others go on.
				continue
			}
			if err != nil {
				return err
			}
			if open && !req.State.HoldsLock() {
				continue
			}
			out = append(out, req)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return out, nil
}

// Update is the compare-and-set of closure.Store: if request expect.ID still
// has expect's (State, Version, PlanDigest), it stores next with Version+1 and
// UpdatedAt = ev.At, appends ev, and takes or releases the tenant lock per
// next.State.HoldsLock() — all in one transaction. Otherwise
// closure.ErrConflict and nothing is written. ID, TenantID and CreatedAt are
// kept from the stored request.
func (db *DB) Update(ctx context.Context, expect closure.Expect, next *closure.Request, ev closure.Event) (*closure.Request, closure.Event, error) {
	out, sealed, err := db.UpdateMany(ctx, expect, next, []closure.Event{ev})
	if err != nil {
		return nil, ev, err
	}
	return out, sealed[0], nil
}

// UpdateMany is Update with several events in one transaction (group
// commit): one compare-and-set, Version+1 carried by every event, the
// events appended in order; UpdatedAt is the last event's At.
func (db *DB) UpdateMany(ctx context.Context, expect closure.Expect, next *closure.Request, evs []closure.Event) (*closure.Request, []closure.Event, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, nil, err
	}
	if next == nil || len(evs) == 0 {
		return nil, nil, fmt.Errorf("update request: %w: no request or no event", ErrInvalid)
	}
	if next.ID != "" && next.ID != expect.ID {
		return nil, nil, fmt.Errorf("update request: %w: request %s under expectation for %s", ErrInvalid, next.ID, expect.ID)
	}
	evs = slices.Clone(evs)
	for i := range evs {
		if evs[i].At.IsZero() {
			evs[i].At = db.now()
		}
	}
	var out *closure.Request
	sealed := make([]closure.Event, len(evs))
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, cur, err := db.loadRecord(tx, expect.ID)
		if err != nil {
			return err
		}
		if cur.State != expect.State || cur.Version != expect.Version || cur.PlanDigest != expect.PlanDigest {
			return fmt.Errorf("%w: %s is %s v%d digest %s, expected %s v%d digest %s", closure.ErrConflict,
				cur.ID, cur.State, cur.Version, short(cur.PlanDigest), expect.State, expect.Version, short(expect.PlanDigest))
		}
		if next.TenantID != "" && next.TenantID != cur.TenantID {
			return fmt.Errorf("%w: %s cannot move from tenant %s to %s", ErrInvalid, cur.ID, cur.TenantID, next.TenantID)
		}
		r := *next
		r.ID, r.TenantID, r.CreatedAt = cur.ID, cur.TenantID, cur.CreatedAt
		r.Version = cur.Version + 1
		r.UpdatedAt = evs[len(evs)-1].At
		h, err := db.beginHead(tx)
		if err != nil {
			return err
		}
		if err := lockTenant(tx, h, &r); err != nil {
			return err
		}
		for i, ev := range evs {
			if ev.From == "" && ev.To == "" && cur.State != r.State {
				ev.From, ev.To = cur.State, r.State
			}
			ev.Version = r.Version
			if sealed[i], err = db.appendEvent(tx, r.ID, rec, ev); err != nil {
				return err
			}
		}
		if out, err = db.putRecord(tx, rec, &r); err != nil {
			return err
		}
		return h.sealRequestKeepRefs(r.ID, rec)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("update request %s: %w", expect.ID, err)
	}
	return out, sealed, nil
}

// lockTenant makes the tenants bucket agree with r's state: held by r while
// its state holds the lock, released by r otherwise. A lock held by another
// request (r left it and came back, e.g. a restore) is ErrTenantLocked.
// Every change to the bucket is accounted for in the database head h.
func lockTenant(tx *bolt.Tx, h *headTx, r *closure.Request) error {
	tenants := tx.Bucket(bucketTenants)
	holder := tenants.Get([]byte(r.TenantID))
	switch {
	case r.State.HoldsLock() && holder == nil:
		if err := tenants.Put([]byte(r.TenantID), []byte(r.ID)); err != nil {
			return fmt.Errorf("lock tenant %s: %w", r.TenantID, err)
		}
		h.toggleLock(r.TenantID, r.ID)
	case r.State.HoldsLock() && string(holder) != r.ID:
		return fmt.Errorf("%w: %s holds tenant %s", closure.ErrTenantLocked, holder, r.TenantID)
	case !r.State.HoldsLock() && string(holder) == r.ID:
		if err := tenants.Delete([]byte(r.TenantID)); err != nil {
			return fmt.Errorf("release tenant %s: %w", r.TenantID, err)
		}
		h.toggleLock(r.TenantID, r.ID)
	}
	return nil
}

// Append adds an event that changes no state; its Version is the request's
// current version.
func (db *DB) Append(ctx context.Context, ev closure.Event) (closure.Event, error) {
	sealed, err := db.AppendMany(ctx, []closure.Event{ev})
	if err != nil {
		return ev, err
	}
	return sealed[0], nil
}

// AppendMany adds events that change no state to one request's chain in
// one transaction (group commit), each with the request's current version.
func (db *DB) AppendMany(ctx context.Context, evs []closure.Event) ([]closure.Event, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, nil
	}
	id := evs[0].Request
	evs = slices.Clone(evs)
	for i := range evs {
		if evs[i].Request != id {
			return nil, fmt.Errorf("append audit events: %w: events of %s and %s in one batch", ErrInvalid, id, evs[i].Request)
		}
		if evs[i].At.IsZero() {
			evs[i].At = db.now()
		}
	}
	sealed := make([]closure.Event, len(evs))
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, cur, err := db.loadRecord(tx, id)
		if err != nil {
			return err
		}
		h, err := db.beginHead(tx)
		if err != nil {
			return err
		}
		for i, ev := range evs {
			ev.Version = cur.Version
			if sealed[i], err = db.appendEvent(tx, cur.ID, rec, ev); err != nil {
				return err
			}
		}
		if _, err = db.putRecord(tx, rec, cur); err != nil {
			return err
		}
		return h.sealRequestKeepRefs(cur.ID, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("append audit event to %s: %w", id, err)
	}
	return sealed, nil
}

// Events returns request id's audit chain in order, as stored (Verify checks it).
func (db *DB) Events(ctx context.Context, id string) ([]closure.Event, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	var out []closure.Event
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if _, _, err := db.loadRecord(tx, id); err != nil {
			return err
		}
		chain := tx.Bucket(bucketAudit).Bucket([]byte(id))
		if chain == nil {
			return nil
		}
		return chain.ForEach(func(k, v []byte) error {
			var ev closure.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return &Fault{Request: id, Seq: decodeUint(k), Reason: ReasonUnparsable, Detail: err.Error()}
			}
			out = append(out, ev)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("audit events of %s: %w", id, err)
	}
	return out, nil
}

// short abbreviates a digest for messages.
func short(d string) string {
	if d == "" {
		return `""`
	}
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// isFault reports whether err carries a *Fault.
func isFault(err error) (*Fault, bool) {
	var f *Fault
	ok := errors.As(err, &f)
	return f, ok
}
