package closure

import (
	"strconv"
	"strings"
)

// ConfigDigest digests the authorisation part of the configuration for a
// tenant (requesters, approvers, required, disjoint, keep, keep_slack_user;
// DESIGN §3). An approval counts only under the digest it was given under,
// so changing who may approve invalidates approvals already given.
// Entries are sets: reordering the YAML lists does not change the digest.
func (p *Policy) ConfigDigest(tenantID string) string {
	c := newCanon("closebot-config-v1")
	t, _ := p.Tenant(tenantID)
	c.field("tenant", strings.ToLower(tenantID))
	c.set("requesters", p.Requesters)
	c.set("approvers", p.Approvers)
	c.field("required", strconv.Itoa(p.Required))
	c.field("disjoint", strconv.FormatBool(p.Disjoint))
	// UPNs compare case-insensitively in Entra.
	c.field("keep", strings.ToLower(t.Keep))
	c.field("keep_slack_user", t.KeepSlackUser)
	return c.sum()
}
