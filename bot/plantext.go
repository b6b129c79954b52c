package bot

import "github.com/closebot/closebot/closure"

// PlanText is the plan in counts, in the words `/close-tenant plan <tenant>`
// answers in Slack (`closebot plan` prints the same).
func PlanText(domain string, p *closure.Plan) string { return planWords(domain, p) }

// PreflightText lists every item preflight refused, each with its fix, in
// the words Slack's refusal uses.
func PreflightText(pf *closure.PreflightError) string { return preflightWords(pf) }
