package outbound

import (
	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
)

// PlanGroups is the full plan as the request's thread shows it, group by
// group (`closebot plan` prints the same items).
func PlanGroups(p *closure.Plan) []blocks.ItemGroup { return planGroups(p) }
