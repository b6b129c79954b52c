package closure

import (
	"math"
	"time"
)

// WriteRate is the sustained Graph write rate closebot plans with: the
// identity write quota of 3,000 requests per 150 s per app and tenant.
const WriteRate = 20.0 // writes per second

// Budget is the number of Graph writes a closure will make and how long
// they take at WriteRate (DESIGN §5, §10). Manual gates are not included:
// they take as long as the people and Microsoft's lifecycles take.
type Budget struct {
	SyncOff           int           `json:"sync_off"`
	Users             int           `json:"users"`
	ServicePrincipals int           `json:"service_principals"`
	Apps              int           `json:"apps"`
	Writes            int           `json:"writes"`
	ETA               time.Duration `json:"eta"`
}

// NewBudget counts the writes of a plan.
func NewBudget(p *Plan) Budget {
	b := Budget{Users: len(p.Users), ServicePrincipals: len(p.ServicePrincipals)}
	if p.SyncEnabled {
		b.SyncOff = 1
	}
	for _, a := range p.Apps {
		if a.Delete {
			b.Apps++
		}
	}
	b.Writes = b.SyncOff + b.Users + b.ServicePrincipals + b.Apps
	b.ETA = WritesETA(b.Writes)
	return b
}

// WritesETA is how long n writes take at WriteRate, rounded up to a second.
func WritesETA(n int) time.Duration {
	return time.Duration(math.Ceil(float64(n)/WriteRate)) * time.Second
}
