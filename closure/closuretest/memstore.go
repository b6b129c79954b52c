package closuretest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/closebot/closebot/closure"
)

// MemStore is an in-memory closure.Store: compare-and-set under one mutex,
// tenant locks, per-request sequence numbers. Requests are stored as JSON,
// like the real store, so no caller shares memory with it.
type MemStore struct {
	mu       sync.Mutex
	counter  int
	requests map[string][]byte
	tenants  map[string]string // tenant id → request holding it
	events   map[string][]closure.Event
	// Updates counts committed Updates (for tests of retry behaviour).
	Updates int
	// Appends counts committed Append and AppendMany calls (transactions).
	Appends int
	// Conflicts counts Updates refused with ErrConflict.
	Conflicts int
	// Verified counts chains VerifyChain found sound.
	Verified int
	tampered map[string]bool
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{
		requests: map[string][]byte{},
		tenants:  map[string]string{},
		events:   map[string][]closure.Event{},
	}
}

var _ closure.Store = (*MemStore)(nil)

// Create implements closure.Store.
func (m *MemStore) Create(ctx context.Context, req *closure.Request, ev closure.Event) (*closure.Request, closure.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, ev, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if req.State.HoldsLock() {
		if holder, ok := m.tenants[req.TenantID]; ok {
			return nil, ev, fmt.Errorf("%w: %s holds tenant %s", closure.ErrTenantLocked, holder, req.TenantID)
		}
	}
	m.counter++
	r := req.Clone()
	r.ID = "CT-" + strconv.Itoa(m.counter)
	r.Version = 1
	if r.CreatedAt.IsZero() {
		r.CreatedAt = ev.At
	}
	r.UpdatedAt = ev.At
	if r.State.HoldsLock() {
		m.tenants[r.TenantID] = r.ID
	}
	ev.Request, ev.Version, ev.Seq = r.ID, 1, 1
	if ev.To == "" {
		ev.To = r.State
	}
	if err := m.put(r); err != nil {
		return nil, ev, err
	}
	m.events[r.ID] = []closure.Event{ev}
	out, err := m.get(r.ID)
	return out, ev, err
}

// Get implements closure.Store.
func (m *MemStore) Get(ctx context.Context, id string) (*closure.Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.get(id)
}

// List implements closure.Store (limit <= 0: all).
func (m *MemStore) List(ctx context.Context, open bool, limit int) ([]*closure.Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.requests))
	for id := range m.requests {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return num(ids[i]) > num(ids[j]) })
	var out []*closure.Request
	for _, id := range ids {
		if limit > 0 && len(out) >= limit {
			break
		}
		r, err := m.get(id)
		if err != nil {
			return nil, err
		}
		if open && !r.State.HoldsLock() {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// Update implements closure.Store.
func (m *MemStore) Update(ctx context.Context, expect closure.Expect, next *closure.Request, ev closure.Event) (*closure.Request, closure.Event, error) {
	out, evs, err := m.UpdateMany(ctx, expect, next, []closure.Event{ev})
	if err != nil {
		return nil, ev, err
	}
	return out, evs[0], nil
}

// UpdateMany implements closure.Store: one compare-and-set, every event
// carrying the new version.
func (m *MemStore) UpdateMany(ctx context.Context, expect closure.Expect, next *closure.Request, evs []closure.Event) (*closure.Request, []closure.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if next == nil || len(evs) == 0 {
		return nil, nil, fmt.Errorf("update %s: no request or no event", expect.ID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, err := m.get(expect.ID)
	if err != nil {
		return nil, nil, err
	}
	if cur.State != expect.State || cur.Version != expect.Version || cur.PlanDigest != expect.PlanDigest {
		m.Conflicts++
		return nil, nil, fmt.Errorf("%w: %s is %s v%d", closure.ErrConflict, cur.ID, cur.State, cur.Version)
	}
	// As the bbolt store: an empty id or tenant means the stored one;
	// CreatedAt is kept.
	if (next.ID != "" && next.ID != cur.ID) || (next.TenantID != "" && next.TenantID != cur.TenantID) {
		return nil, nil, fmt.Errorf("update %s: id or tenant changed", cur.ID)
	}
	r := next.Clone()
	r.ID, r.TenantID, r.CreatedAt = cur.ID, cur.TenantID, cur.CreatedAt
	r.Version = cur.Version + 1
	r.UpdatedAt = evs[len(evs)-1].At
	// The lock follows the state, as in the bbolt store: a request whose
	// state holds the lock again (a restore) takes it if it is free, and
	// is refused while another request holds it.
	holder, held := m.tenants[r.TenantID]
	if r.State.HoldsLock() && held && holder != r.ID {
		return nil, nil, fmt.Errorf("%w: %s holds tenant %s", closure.ErrTenantLocked, holder, r.TenantID)
	}
	out := make([]closure.Event, len(evs))
	for i, ev := range evs {
		if ev.From == "" && ev.To == "" && cur.State != r.State {
			ev.From, ev.To = cur.State, r.State
		}
		ev.Request, ev.Version = r.ID, r.Version
		ev.Seq = uint64(len(m.events[r.ID]) + i + 1)
		out[i] = ev
	}
	if err := m.put(r); err != nil {
		return nil, nil, err
	}
	switch {
	case r.State.HoldsLock() && !held:
		m.tenants[r.TenantID] = r.ID
	case !r.State.HoldsLock() && held && holder == r.ID:
		delete(m.tenants, r.TenantID)
	}
	m.events[r.ID] = append(m.events[r.ID], out...)
	m.Updates++
	got, err := m.get(r.ID)
	return got, out, err
}

// Append implements closure.Store.
func (m *MemStore) Append(ctx context.Context, ev closure.Event) (closure.Event, error) {
	out, err := m.AppendMany(ctx, []closure.Event{ev})
	if err != nil {
		return ev, err
	}
	return out[0], nil
}

// AppendMany implements closure.Store: all or nothing, in order.
func (m *MemStore) AppendMany(ctx context.Context, evs []closure.Event) ([]closure.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, err := m.get(evs[0].Request)
	if err != nil {
		return nil, err
	}
	out := make([]closure.Event, len(evs))
	for i, ev := range evs {
		if ev.Request != cur.ID {
			return nil, fmt.Errorf("append to %s: an event of %s in the batch", cur.ID, ev.Request)
		}
		ev.Version = cur.Version
		ev.Seq = uint64(len(m.events[cur.ID]) + i + 1)
		out[i] = ev
	}
	m.events[cur.ID] = append(m.events[cur.ID], out...)
	m.Appends++
	return out, nil
}

// Events implements closure.Store.
func (m *MemStore) Events(ctx context.Context, id string) ([]closure.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.requests[id]; !ok {
		return nil, fmt.Errorf("%w: %s", closure.ErrNotFound, id)
	}
	return append([]closure.Event(nil), m.events[id]...), nil
}

// VerifyChain implements closure.Store. MemStore keeps no keyed chain, so
// it checks what it can: the request exists and its events are numbered
// 1..n and name it. Tests that need a tampered chain set Tamper.
func (m *MemStore) VerifyChain(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.requests[id]; !ok {
		return fmt.Errorf("%w: %s", closure.ErrNotFound, id)
	}
	if m.tampered[id] {
		return fmt.Errorf("audit chain of %s marked tampered: %w", id, closure.ErrTampered)
	}
	for i, ev := range m.events[id] {
		if ev.Seq != uint64(i+1) || ev.Request != id {
			return fmt.Errorf("audit chain of %s broken at event %d: %w", id, i+1, closure.ErrTampered)
		}
	}
	m.Verified++
	return nil
}

// Tamper makes VerifyChain of a request fail from now on.
func (m *MemStore) Tamper(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tampered == nil {
		m.tampered = map[string]bool{}
	}
	m.tampered[id] = true
}

// LockHolder returns the request holding a tenant's lock, if any.
func (m *MemStore) LockHolder(tenantID string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.tenants[tenantID]
	return id, ok
}

func (m *MemStore) put(r *closure.Request) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode %s: %w", r.ID, err)
	}
	m.requests[r.ID] = b
	return nil
}

func (m *MemStore) get(id string) (*closure.Request, error) {
	b, ok := m.requests[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", closure.ErrNotFound, id)
	}
	var r closure.Request
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", id, err)
	}
	return &r, nil
}

func num(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "CT-"))
	return n
}
