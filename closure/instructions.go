package closure

import (
	"sort"
	"strings"
)

// Instruction is what a gate asks a person to do, as plain data: the Slack
// layer renders it. {name} placeholders in Steps take the gate's Params.
type Instruction struct {
	Title string   `json:"title"`
	Steps []string `json:"steps"`
	Link  string   `json:"link,omitempty"`
	// Done says what the re-check looks for.
	Done string `json:"done"`
}

// Instructions are the gate texts per case (DESIGN §4), keyed by
// Gate.Instructions (the gate kind's name).
var Instructions = map[string]Instruction{
	string(GateSyncOff): {
		Title: "Turn off directory synchronization",
		Steps: []string{
			"Graph refused closebot's request to turn sync off ({error}).",
			"As a Hybrid Identity Administrator, run in PowerShell (Microsoft Entra PowerShell): `Connect-Entra -Scopes 'OnPremDirectorySynchronization.ReadWrite.All','Organization.ReadWrite.All'` then `Set-EntraDirSyncEnabled -EnableDirSync $false -Force`.",
			"Synced users turn cloud-only within 72 hours; closebot deletes them as they do. Sync cannot be turned back on for 72 hours.",
		},
		Link: "https://learn.microsoft.com/microsoft-365/enterprise/turn-off-directory-synchronization",
		Done: "organization.onPremisesSyncEnabled is false",
	},
	string(GateRestrictedAdminUnit): {
		Title: "Remove users from restricted administrative units",
		Steps: []string{
			"These users are members of restricted-management administrative units ({units}), so closebot may not delete them: {users}.",
			"In the Entra admin center → Identity → Roles & admins → Admin units → the unit → Users, remove them (or delete them yourself as an administrator scoped to that unit).",
			"Re-check: closebot retries their deletion.",
		},
		Link: "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/AdminUnitsListBlade",
		Done: "every listed user is deleted",
	},
	string(GateUserRefused): {
		Title: "Users Graph refused to delete",
		Steps: []string{
			"Graph refused to delete these users ({error}): {users}.",
			"Users holding admin roles can only be deleted by an app holding Privileged Authentication Administrator: assign that role to closebot's app, or delete the users in the Microsoft 365 admin center → Users → Active users.",
			"Re-check: closebot retries their deletion.",
		},
		Link: "https://admin.microsoft.com/#/users",
		Done: "every listed user is deleted",
	},
	string(GateSubscriptionDirect): {
		Title: "Cancel subscriptions bought from Microsoft",
		Steps: []string{
			"Subscriptions to cancel: {subscriptions}.",
			"Bought directly: Microsoft 365 admin center → Billing → Your products → the subscription → Cancel subscription.",
			"No Cancel button? Past the cancellation window (a few days after purchase or renewal) or under a Microsoft Customer Agreement (Graph cannot tell these apart), turn off recurring billing on the same page and wait for the term to end (ETA {eta}).",
			"Bought through an Enterprise Agreement or Volume Licensing: the admin center offers no cancellation; ask your Microsoft account team or licensing partner to end it, and closebot re-checks until it shows as disabled.",
		},
		Link: "https://admin.microsoft.com/#/subscriptions",
		Done: "no subscription of this channel is Enabled or Warning",
	},
	string(GateSubscriptionCSP): {
		Title: "Ask the partner to cancel subscriptions",
		Steps: []string{
			"These subscriptions are billed by a Cloud Solution Provider (owner tenant {partners}): {subscriptions}.",
			"Only the partner can cancel them: ask them to cancel in Partner Center → Customers → this tenant → Subscriptions (new-commerce cancellations only within the cancellation window).",
		},
		Link: "https://partner.microsoft.com/dashboard/commerce2/customers",
		Done: "no partner subscription is Enabled or Warning",
	},
	string(GateSubscriptionMCA): {
		Title: "Let Microsoft Customer Agreement subscriptions end",
		Steps: []string{
			"Subscriptions under a Microsoft Customer Agreement: {subscriptions}.",
			"Turn off recurring billing in the Microsoft 365 admin center → Billing → Your products; they end at term end (ETA {eta}).",
		},
		Link: "https://admin.microsoft.com/#/subscriptions",
		Done: "no such subscription is Enabled or Warning",
	},
	string(GateSelfService): {
		Title: "Remove self-service sign-up products",
		Steps: []string{
			"Users of this tenant signed up for these products themselves: {subscriptions}.",
			"They are not in the Microsoft 365 admin center's Billing: in the Entra admin center → Licenses → Self-service sign-up products, select each one and delete it.",
			"Re-check: closebot waits until each is deleted or gone.",
		},
		Link: "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/LicensesMenuBlade/~/SelfServiceSignUps",
		Done: "no self-service sign-up product is left",
	},
	string(GateAzure): {
		Title: "Azure subscriptions",
		Steps: []string{
			"Graph cannot see Azure subscriptions. In the Azure portal → Subscriptions (directory: this tenant), cancel every subscription, or move it to another directory.",
			"Then attest: \"" + Sentences[SentenceNoAzure] + "\".",
		},
		Link: "https://portal.azure.com/#view/Microsoft_Azure_Billing/SubscriptionsBladeV2",
		Done: "attested",
	},
	string(GateDeleteSubscriptions): {
		Title: "Delete disabled subscriptions",
		Steps: []string{
			"Subscriptions not yet deleted: {subscriptions}.",
			"Microsoft 365 admin center → Billing → Your products → filter Disabled → the subscription → Delete subscription. Under a Microsoft Customer Agreement they end at term end instead.",
			"Deprovisioning takes up to 72 hours after deletion (ETA {eta}).",
		},
		Link: "https://admin.microsoft.com/#/subscriptions",
		Done: "every subscription is Deleted or gone",
	},
	string(GatePerUserMFA): {
		Title: "Turn off per-user MFA",
		Steps: []string{
			"Graph refused to turn per-user MFA off for: {users} ({error}).",
			"Entra admin center → Identity → Users → All users → Per-user MFA → select them → Disable MFA.",
			"Leave security defaults, conditional access and the kept admin's MFA alone: they protect the last admin.",
		},
		Link: "https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserManagementMenuBlade/~/AllUsers",
		Done: "no account other than the kept admin has per-user MFA enforced or enabled",
	},
	string(GateLegacyMFA): {
		Title: "Legacy MFA providers",
		Steps: []string{
			"Graph cannot see legacy MFA providers (Azure portal → Multi-Factor Authentication → Providers). Delete any provider linked to this tenant.",
			"Then attest: \"" + Sentences[SentenceNoLegacyMFA] + "\".",
		},
		Link: "https://portal.azure.com/#view/Microsoft_AAD_IAM/MultifactorAuthenticationMenuBlade",
		Done: "attested",
	},
	string(GateDeleteTenant): {
		Title: "Delete the tenant",
		Steps: []string{
			"{keep}: sign in to the Entra admin center as the kept admin.",
			"Remove closebot's app last: Identity → Applications → App registrations → app id {closebot_app} → Delete (closebot can no longer act on this tenant afterwards; it still checks that the tenant is gone).",
			"Then Identity → Overview → Manage tenants → select {tenant} → Delete, and fix anything the portal's checklist still names: a linked Azure subscription (Azure portal → Subscriptions), a self-service sign-up product (Entra admin center → Licenses → Self-service sign-up products), an enterprise application closebot could only disable ({disabled} disabled; refused: {refused}). \"Purge deleted objects\" removes this request's deleted objects for good.",
		},
		Link: "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/DirectorySwitchBlade",
		Done: "the authority answers AADSTS90002 (tenant not found) {confirmations} times over {span}",
	},
	string(GateGrantWriteAccess): {
		Title: "Grant closebot write access for this closure",
		Steps: []string{
			"closebot's app only reads between closures (write_access: just_in_time). Before step 1's first write it needs, until step 5's last write, what is missing now: {missing}.",
			"Application permissions: Entra admin center → Identity → Applications → App registrations → All applications → app id {closebot_app} → API permissions → Add a permission → Microsoft Graph → Application permissions → tick {permissions} → Add permissions → Grant admin consent.",
			"Directory role: Identity → Roles & admins → Roles & admins → {role} → Add assignments → select closebot's app ({closebot_app}) → Next → Active, permanently assigned → Assign.",
			"Or in Microsoft Graph PowerShell, after `Connect-MgGraph -Scopes 'Application.Read.All','AppRoleAssignment.ReadWrite.All','RoleManagement.ReadWrite.Directory'`:\n```{powershell}```",
		},
		Link: "https://learn.microsoft.com/graph/permissions-reference",
		Done: "a token issued now carries every listed application permission and closebot's app holds {role}; then step 1 writes",
	},
	string(GateRemoveWriteAccess): {
		Title: "Remove closebot's write access",
		Steps: []string{
			"closebot made its last write on this tenant. Remove what it was granted for this closure: {held}. Keep the read-only permissions it checks the deletion with ({read_at_rest}).",
			"Application permissions: App registrations → app id {closebot_app} → API permissions → for each of {permissions}: … → Revoke admin consent, then Remove permission.",
			"Directory role: Identity → Roles & admins → Roles & admins → {role} → closebot's app → Remove assignment.",
			"Or in Microsoft Graph PowerShell, after `Connect-MgGraph -Scopes 'Application.Read.All','AppRoleAssignment.ReadWrite.All','RoleManagement.ReadWrite.Directory'`:\n```{powershell}```",
			"Then closebot posts the tenant deletion's instructions.",
		},
		Link: "https://learn.microsoft.com/graph/permissions-reference",
		Done: "a token issued now carries none of the write permissions and closebot's app no longer holds {role}",
	},
}

// InstructionFor returns a gate's instruction with its params filled in.
func InstructionFor(g Gate) Instruction {
	in, ok := Instructions[g.Instructions]
	if !ok {
		in = Instructions[string(g.Kind)]
	}
	keys := make([]string, 0, len(g.Params))
	for k := range g.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		pairs = append(pairs, "{"+k+"}", g.Params[k])
	}
	r := strings.NewReplacer(pairs...)
	out := in
	out.Steps = make([]string, len(in.Steps))
	for i, s := range in.Steps {
		out.Steps[i] = r.Replace(s)
	}
	out.Done = r.Replace(in.Done)
	return out
}
