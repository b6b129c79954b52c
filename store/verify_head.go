package store

import (
	"context"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/closebot/closebot/closure"
)

// Report is the outcome of verifying a whole database.
type Report struct {
	// Head is a fault of the database as a whole: the head record, the set
	// of entries it was sealed over, the counter, a lock naming no request.
	// Nil when all of it verifies.
	Head *Fault
	// NoHead: a read-only file of schema 1 has no database head, so
	// deletions and rollbacks inside it cannot be seen.
	NoHead bool
	// Requests: one Result per request, chain without request, or id below
	// the counter whose request is gone, in request-number order.
	Requests []Result
}

// OK reports whether everything verified.
func (r Report) OK() bool {
	if r.Head != nil {
		return false
	}
	for _, x := range r.Requests {
		if x.Fault != nil {
			return false
		}
	}
	return true
}

// VerifyDatabase verifies every request (as Verify does) and the database
// head: its MAC, that it was sealed over exactly the requests, audit heads,
// Slack refs and tenant locks in the file, that no id below the request
// counter is missing (deleted) and none is above it, and that every lock
// belongs to an open request of its tenant and every open request holds its
// tenant's lock.
func (db *DB) VerifyDatabase(ctx context.Context) (Report, error) {
	if err := checkCtx(ctx); err != nil {
		return Report{}, err
	}
	var rep Report
	err := db.bolt.View(func(tx *bolt.Tx) error {
		rep.NoHead = db.noHead
		global := db.verifyHead(tx)
		ids, counter := knownIDs(tx)
		for _, n := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			id := requestID(n)
			k := encodeUint(n)
			hasRecord := tx.Bucket(bucketRequests).Get(k) != nil
			hasChain := tx.Bucket(bucketAudit).Bucket([]byte(id)) != nil
			switch {
			case !hasRecord && !hasChain:
				_, inHead, _ := entry(tx, id)
				detail := fmt.Sprintf("it is below the request counter (%d) but its record and audit chain are gone", counter)
				if inHead {
					detail = "the database head lists it but its record and audit chain are gone"
				}
				rep.Requests = append(rep.Requests, Result{Request: id, Fault: &Fault{Request: id, Reason: ReasonDeleted, Detail: detail}})
				continue
			case n > counter && !db.noHead:
				res := db.verifyRequest(tx, id, nil)
				if res.Fault == nil {
					res.Fault = &Fault{Request: id, Reason: ReasonCounter,
						Detail: fmt.Sprintf("it is above the request counter (%d): added behind closebot's back", counter)}
				}
				rep.Requests = append(rep.Requests, res)
				continue
			}
			rep.Requests = append(rep.Requests, db.verifyRequest(tx, id, nil))
		}
		if global == nil && !db.noHead {
			global = orphanLocks(db, tx)
		}
		rep.Head = global
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("verify database: %w", err)
	}
	return rep, nil
}

// knownIDs lists every request number the file mentions anywhere (record,
// chain, head entry, refs) and every number from 1 to the counter, sorted,
// and returns the counter. A counter far above every number in the file
// (edited: the head's MAC says so) adds only the first missing number.
func knownIDs(tx *bolt.Tx) ([]uint64, uint64) {
	counter := decodeUint(tx.Bucket(bucketMeta).Get(keyRequestCounter))
	seen := map[uint64]bool{}
	_ = tx.Bucket(bucketRequests).ForEach(func(k, _ []byte) error {
		seen[decodeUint(k)] = true
		return nil
	})
	byName := func(name []byte) error {
		if k, ok := requestKey(string(name)); ok {
			seen[decodeUint(k)] = true
		}
		return nil
	}
	_ = tx.Bucket(bucketAudit).ForEachBucket(byName)
	_ = tx.Bucket(bucketSlack).ForEachBucket(byName)
	if heads := tx.Bucket(bucketHeads); heads != nil {
		_ = heads.ForEach(func(k, _ []byte) error { return byName(k) })
	}
	var top uint64
	for n := range seen {
		top = max(top, n)
	}
	for n := uint64(1); n <= min(counter, top+1); n++ {
		seen[n] = true
	}
	out := make([]uint64, 0, len(seen))
	for n := range seen {
		if n > 0 {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, counter
}

// verifyHead checks the database head as a whole: its MAC, the counter,
// and that it was sealed over exactly the entries in the file (O(n)).
// Nil for a read-only schema-1 file, which has none.
func (db *DB) verifyHead(tx *bolt.Tx) *Fault {
	if db.noHead {
		return nil
	}
	_, acc, f := db.readHead(tx)
	if f != nil {
		return f
	}
	return db.checkIndex(tx, acc)
}

// verifyRequest verifies one request: its chain and record (verifyTx),
// then its database-head entry, refs and tenant lock; global is the
// database head's own fault (verifyHead), given to a request that has none
// of its own. A held request (Hold) reports its hold.
func (db *DB) verifyRequest(tx *bolt.Tx, id string, global *Fault) Result {
	res := db.verifyTx(tx, id)
	if res.Fault != nil {
		return res
	}
	if f := db.holdOf(id); f != nil {
		res.Fault = f
		return res
	}
	if db.noHead {
		return res
	}
	k, _ := requestKey(id)
	rec, req, err := db.decodeRecord(id, tx.Bucket(bucketRequests).Get(k))
	if err != nil { // verifyTx would have said so
		res.Fault = &Fault{Request: id, Reason: ReasonUnparsable, Detail: err.Error()}
		return res
	}
	if f := checkEntry(tx, id, rec); f != nil {
		res.Fault = f
		return res
	}
	if f := checkRefs(tx, id); f != nil {
		res.Fault = f
		return res
	}
	if f := checkLock(tx, req); f != nil {
		res.Fault = f
		return res
	}
	res.Fault = global
	return res
}

// checkLock: an open request holds its tenant's lock; any other does not.
func checkLock(tx *bolt.Tx, req *closure.Request) *Fault {
	holder := string(tx.Bucket(bucketTenants).Get([]byte(req.TenantID)))
	switch {
	case req.State.HoldsLock() && holder == "":
		return &Fault{Request: req.ID, Reason: ReasonLock,
			Detail: fmt.Sprintf("it is %s but the lock on tenant %s is gone", req.State, req.TenantID)}
	case req.State.HoldsLock() && holder != req.ID:
		return &Fault{Request: req.ID, Reason: ReasonLock,
			Detail: fmt.Sprintf("it is %s but tenant %s is locked by %s", req.State, req.TenantID, holder)}
	case !req.State.HoldsLock() && holder == req.ID:
		return &Fault{Request: req.ID, Reason: ReasonLock,
			Detail: fmt.Sprintf("it is %s but still holds the lock on tenant %s", req.State, req.TenantID)}
	}
	return nil
}

// orphanLocks finds a tenant lock whose holder is not a request of that
// tenant (the holder's own check covers one that is).
func orphanLocks(db *DB, tx *bolt.Tx) *Fault {
	var bad *Fault
	_ = tx.Bucket(bucketTenants).ForEach(func(k, v []byte) error {
		holder := string(v)
		rk, ok := requestKey(holder)
		var raw []byte
		if ok {
			raw = tx.Bucket(bucketRequests).Get(rk)
		}
		if raw == nil {
			bad = headFault(ReasonLock, "tenant %s is locked by %s, which does not exist", k, holder)
			return nil
		}
		if _, req, err := db.decodeRecord(holder, raw); err == nil && req.TenantID != string(k) {
			bad = headFault(ReasonLock, "tenant %s is locked by %s, a request for tenant %s", k, holder, req.TenantID)
		}
		return nil
	})
	return bad
}
