package config

import (
	"fmt"
	"os"
	"slices"

	"github.com/closebot/closebot/closure"
)

// Policy is the part of the configuration the domain decides with.
func (c *Config) Policy() closure.Policy {
	p := closure.Policy{
		TeamID:       c.Slack.TeamID,
		Requesters:   slices.Clone(c.Slack.Requesters),
		Approvers:    slices.Clone(c.Slack.Approvers),
		Required:     c.Approval.Required,
		Disjoint:     c.Approval.Disjoint,
		ExpiresAfter: c.Approval.ExpiresAfter,
		AbortWindow:  c.Approval.AbortWindow,
		DriftPercent: c.Approval.DriftPercent,
		StuckAfter:   c.Gates.StuckAfter,
	}
	for _, t := range c.Tenants {
		p.Tenants = append(p.Tenants, closure.TenantPolicy{
			ID: t.ID, Domain: t.Domain, Keep: t.Keep, KeepSlackUser: t.KeepSlackUser, ClientID: t.ClientID,
			WriteAccess: t.WriteAccess,
		})
	}
	return p
}

// warnings are allowed settings that weaken a safeguard or point closebot
// away from Microsoft and Slack.
func warnings(c *Config) []string {
	var w []string
	if c.Approval.AbortWindow == 0 {
		w = append(w, "approval.abort_window is 0s: execution starts the moment the last approval lands, with no window to abort")
	}
	if c.Approval.Required == 1 && !c.Approval.Disjoint {
		w = append(w, "approval.required is 1 and approval.disjoint is false: one approval suffices, from anyone in slack.approvers, including people who may also request; consider required: 2 or disjoint: true")
	}
	if c.Approval.Disjoint {
		for _, id := range c.Slack.Approvers {
			if slices.Contains(c.Slack.Requesters, id) {
				w = append(w, fmt.Sprintf("slack.approvers: %s is also in slack.requesters, so with approval.disjoint its approvals never count", id))
			}
		}
	}
	if c.Graph.BaseURL != DefaultGraphBaseURL {
		w = append(w, fmt.Sprintf("graph.base_url is %s, not Microsoft Graph (an emulator?)", c.Graph.BaseURL))
	}
	if c.Env.SlackAPIURL != "" {
		w = append(w, fmt.Sprintf("%s is %s: Slack calls do not go to Slack (an emulator?)", EnvSlackAPIURL, c.Env.SlackAPIURL))
	}
	if c.Env.AuthorityHost != DefaultAuthorityHost {
		w = append(w, fmt.Sprintf("%s is %s, not Microsoft's sign-in authority (an emulator?)", EnvAuthorityHost, c.Env.AuthorityHost))
	}
	for i, t := range c.Tenants {
		if t.WriteAccess != closure.WriteJustInTime {
			w = append(w, fmt.Sprintf("tenants[%d].write_access is standing: closebot's app holds its write permissions and directory role between closures; write_access: just_in_time has the kept admin grant them for each closure only", i))
		}
		if looseFile(t.ClientCertificateFile) {
			w = append(w, fmt.Sprintf("tenants[%d].client_certificate_file: %s can be read by group or others; chmod 600 it", i, t.ClientCertificateFile))
		}
	}
	return w
}

func countPrincipals(ids []string) (users, groups int) {
	for _, id := range ids {
		if id != "" && id[0] == 'S' {
			groups++
		} else {
			users++
		}
	}
	return users, groups
}

// looseFile reports a file that group or others may read.
func looseFile(path string) bool {
	if path == "" {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().Perm()&0o077 != 0
}

// dedupe drops repeated entries, keeping the first.
func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
