package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

func chainOf(macs ...string) []closure.Event {
	out := make([]closure.Event, len(macs))
	for i, m := range macs {
		out[i] = closure.Event{Request: "CT-1", Seq: uint64(i + 1), MAC: m}
	}
	return out
}

const (
	mac1 = "1111111100000000000000000000000000000000000000000000000000000000"
	mac2 = "2222222200000000000000000000000000000000000000000000000000000000"
	mac3 = "3333333300000000000000000000000000000000000000000000000000000000"
	mac4 = "4444444400000000000000000000000000000000000000000000000000000000"
)

func TestComparePosted(t *testing.T) {
	full := chainOf(mac1, mac2, mac3, mac4)
	for _, c := range []struct {
		name   string
		chain  []closure.Event
		posted []Posted
		seq    uint64 // 0: no fault
		want   []string
	}{
		{name: "nothing posted", chain: full},
		{name: "Slack behind the store (normal: posting lags)", chain: full,
			posted: []Posted{{Seq: 1, MAC8: "11111111"}, {Seq: 3, MAC8: "33333333"}}},
		{name: "Slack at the head", chain: full, posted: []Posted{{Seq: 4, MAC8: "44444444"}}},
		{name: "store rolled back behind Slack", chain: full[:2],
			posted: []Posted{{Seq: 1, MAC8: "11111111"}, {Seq: 4, MAC8: "44444444", TS: "1700000000.000400"}, {Seq: 3, MAC8: "33333333"}},
			seq:    4, want: []string{"closebot posted #4 · mac 44444444 in Slack (message 1700000000.000400)", "no such event", "the stored chain ends at #2 · mac 22222222"}},
		{name: "chain rewritten after a rollback (same length, other MACs)", chain: chainOf(mac1, mac2, mac4, mac3),
			posted: []Posted{{Seq: 3, MAC8: "33333333"}},
			seq:    3, want: []string{"the stored event 3 has mac 44444444", "ends at #4 · mac 33333333"}},
		{name: "empty chain", chain: nil, posted: []Posted{{Seq: 1, MAC8: "11111111"}},
			seq: 1, want: []string{"the stored chain is empty"}},
		{name: "seq 0 ignored", chain: full, posted: []Posted{{Seq: 0, MAC8: "deadbeef"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := ComparePosted("CT-1", c.chain, c.posted)
			if c.seq == 0 {
				assert.Nil(t, f)
				return
			}
			require.NotNil(t, f)
			assert.Equal(t, "CT-1", f.Request)
			assert.Equal(t, c.seq, f.Seq)
			assert.Equal(t, ReasonBehindSlack, f.Reason)
			assert.ErrorIs(t, f, closure.ErrTampered)
			for _, w := range c.want {
				assert.Contains(t, f.Error(), w)
			}
		})
	}
}

// A held request is refused everywhere, as a record that does not verify
// is: nothing resumes it, no click moves it, and VerifyChain says why.
func TestHoldRefusesTheRequest(t *testing.T) {
	db := openAt(t, testPath(t))
	r1 := createOne(t, db, "tenant-a")
	createOne(t, db, "tenant-b")
	evs, err := db.Events(ctx(), r1.ID)
	require.NoError(t, err)
	require.Nil(t, ComparePosted(r1.ID, evs, []Posted{{Seq: 1, MAC8: ShortMAC(evs[0].MAC)}}))
	f := ComparePosted(r1.ID, evs, []Posted{{Seq: 7, MAC8: "0badc0de"}})
	require.NotNil(t, f)

	db.Hold(r1.ID, f)
	assert.Same(t, f, db.Held(r1.ID))
	_, err = db.Get(ctx(), r1.ID)
	assert.ErrorIs(t, err, ErrTampered)
	next := *r1
	next.State = closure.StateApproved
	_, _, err = db.Update(ctx(), expectOf(r1), &next, event("approve"))
	assert.ErrorIs(t, err, ErrTampered)
	assert.ErrorIs(t, db.VerifyChain(ctx(), r1.ID), ErrTampered)
	open, err := db.List(ctx(), true, 0)
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, "CT-2", open[0].ID)
	assert.NoError(t, db.VerifyChain(ctx(), "CT-2"))
}
