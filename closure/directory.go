package closure

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Directory is what closure needs from Microsoft Graph and the Entra
// authority for one tenant. closure/msgraph implements it over msgraph-sdk-go
// and azidentity with that tenant's credential; closure's tests use fakes.
//
// Every write is idempotent: deleting what is already gone returns nil. A
// refusal by the service is an *APIError, which a step turns into a gate
// with instructions, never into a silent skip.
type Directory interface {
	// Reads, for preflight, the plan and the steps' checks.
	Organization(ctx context.Context) (Organization, error)
	Domains(ctx context.Context) ([]Domain, error)
	// Users calls fn for every user, page by page ($top=999).
	Users(ctx context.Context, fn func(User) error) error
	// User reads one user by object id or userPrincipalName; an *APIError
	// with Status 404 if there is none.
	User(ctx context.Context, idOrUPN string) (User, error)
	// RoleAssignments are the active directory role assignments as
	// /roleManagement/directory/roleAssignments lists them ($expand=principal):
	// readable on every licence. Without PIM every one is permanent
	// (AssignmentType Assigned, no End); MemberType is Direct.
	RoleAssignments(ctx context.Context) ([]RoleAssignment, error)
	// ActiveSchedules are PIM's role assignment schedule instances (so PIM
	// activations show as Activated, with an End) and EligibleAssignments
	// PIM's role eligibility schedule instances. Both need Microsoft Entra
	// ID P2 or ID Governance: without it an *APIError that IsUnlicensed.
	ActiveSchedules(ctx context.Context) ([]RoleAssignment, error)
	EligibleAssignments(ctx context.Context) ([]RoleAssignment, error)
	AdministrativeUnits(ctx context.Context) ([]AdministrativeUnit, error)
	// AuthenticationMethods lists a user's registered methods by their
	// @odata.type, e.g. "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod".
	AuthenticationMethods(ctx context.Context, userID string) ([]string, error)
	// PerUserMFA reads beta authentication/requirements: enforced, enabled or disabled.
	PerUserMFA(ctx context.Context, userID string) (string, error)
	Subscriptions(ctx context.Context) ([]CompanySubscription, error)
	SecurityDefaultsEnabled(ctx context.Context) (bool, error)
	ConditionalAccessPolicies(ctx context.Context) ([]CAPolicy, error)
	Counts(ctx context.Context) (DataCounts, error)
	// LegalHolds lists, for every eDiscovery (Premium) case, its custodians,
	// its non-custodial data sources and its hold policies with their hold
	// status. Without a licence for eDiscovery (Premium): an *APIError that
	// IsUnlicensed.
	LegalHolds(ctx context.Context) ([]LegalHold, error)
	Applications(ctx context.Context) ([]Application, error)
	ServicePrincipals(ctx context.Context) ([]ServicePrincipal, error)
	// DeletedUsers lists soft-deleted users (directory/deletedItems).
	DeletedUsers(ctx context.Context) ([]User, error)
	// GrantedPermissions returns the application permissions (the roles
	// claim) of an app-only token issued now; the calls after it use that
	// token, so a grant or its removal takes effect at once.
	GrantedPermissions(ctx context.Context) ([]string, error)

	// Writes.
	DisableSync(ctx context.Context, organizationID string) error
	DeleteUser(ctx context.Context, id string) error
	RestoreUser(ctx context.Context, id string) error
	// PurgeDeleted permanently deletes a soft-deleted object.
	PurgeDeleted(ctx context.Context, id string) error
	SetPerUserMFA(ctx context.Context, userID, state string) error
	DeleteApplication(ctx context.Context, id string) error
	DeleteServicePrincipal(ctx context.Context, id string) error
	// DisableServicePrincipal sets accountEnabled=false on a service
	// principal the tenant cannot delete (Microsoft's "Delete a tenant"
	// how-to); already disabled or gone is done.
	DisableServicePrincipal(ctx context.Context, id string) error

	// TenantGone asks the authority's OpenID discovery for the tenant id;
	// true when it answers AADSTS90002 (tenant not found).
	TenantGone(ctx context.Context) (bool, error)
	// ProveSignIn runs a device-code sign-in (the tenant's signin_client_id)
	// for the kept admin, hands the code to show (a Slack DM), waits for the
	// person to finish and returns what the token says.
	ProveSignIn(ctx context.Context, show func(DeviceCode) error) (SignInProof, error)
}

// Organization is the tenant's organization object.
type Organization struct {
	ID          string
	DisplayName string
	TenantType  string // "AAD" for a workforce tenant
	SyncEnabled bool   // onPremisesSyncEnabled
	LastSync    time.Time
}

// Domain is one of the tenant's domains.
type Domain struct {
	ID        string // the name, e.g. contoso.onmicrosoft.com
	Verified  bool
	Initial   bool
	Default   bool
	Federated bool // authenticationType Federated
}

// User is a directory user, with what the steps need to tell kinds apart.
type User struct {
	ID          string
	UPN         string
	DisplayName string
	UserType    string // Member or Guest
	Enabled     bool   // accountEnabled
	Synced      bool   // onPremisesSyncEnabled
	DeletedAt   time.Time
}

// Well-known directory role template ids.
const (
	RoleGlobalAdministrator                   = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedAuthenticationAdministrator = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	RoleHybridIdentityAdministrator           = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"
	RolePrivilegedRoleAdministrator           = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	PrincipalUser                             = "user"
	PrincipalServicePrincipal                 = "servicePrincipal"
	PrincipalGroup                            = "group"
)

// RoleAssignment is an active or eligible directory role assignment.
type RoleAssignment struct {
	ID               string
	RoleDefinitionID string
	PrincipalID      string
	PrincipalType    string    // user, servicePrincipal or group (from @odata.type)
	DirectoryScopeID string    // "/" for the whole directory
	AssignmentType   string    // Assigned or Activated (active ones)
	MemberType       string    // Direct, Group or Inherited
	Start, End       time.Time // End zero: permanent
}

// Permanent reports whether the assignment has no end.
func (a RoleAssignment) Permanent() bool { return a.End.IsZero() }

// AdministrativeUnit is an administrative unit and its member ids.
type AdministrativeUnit struct {
	ID          string
	DisplayName string
	Restricted  bool // isMemberManagementRestricted
	Members     []string
}

// CompanySubscription is a /directory/subscriptions item.
type CompanySubscription struct {
	ID            string
	CommerceID    string // commerceSubscriptionId
	SkuID         string
	SkuPartNumber string
	Status        string // Enabled, Warning, Suspended, LockedOut, Deleted
	OwnerTenantID string // differs from the tenant for CSP (partner-billed)
	OwnerType     string
	IsTrial       bool
	TotalLicenses int
	NextLifecycle time.Time // nextLifecycleDateTime: when the status next changes
	Created       time.Time
	// SelfService marks a self-service sign-up product (bought or signed up
	// for by a user, not an admin): removed under Entra admin center →
	// Licenses → Self-service sign-up products, not under Billing.
	SelfService bool
}

// CAPolicy is a conditional-access policy, with the conditions that decide
// whether it could block the kept admin.
type CAPolicy struct {
	ID            string
	DisplayName   string
	State         string // enabled, disabled, enabledForReportingButNotEnforced
	IncludeUsers  []string
	ExcludeUsers  []string
	IncludeRoles  []string
	ExcludeRoles  []string
	IncludeGroups []string
	ExcludeGroups []string
	GrantControls []string // e.g. mfa, block, compliantDevice
}

// DataCounts are counts of data at stake.
type DataCounts struct {
	Devices       int
	Groups        int
	UnifiedGroups int // Microsoft 365 groups
}

// Where an eDiscovery hold is placed.
const (
	HoldCustodian    = "custodian"    // a custodian's data sources
	HoldNoncustodial = "noncustodial" // a non-custodial data source
	HoldPolicy       = "policy"       // a legal hold policy of the case
)

// LegalHold is one eDiscovery hold: a custodian, a non-custodial data
// source or a hold policy, with its status.
type LegalHold struct {
	CaseID     string
	CaseName   string
	CaseStatus string
	Source     string // HoldCustodian, HoldNoncustodial or HoldPolicy
	Name       string // custodian e-mail, data source or policy name
	// HoldStatus: notApplied, applied, applying, removing, partial; a hold
	// policy reports its status the same way (enabled policies as applied).
	HoldStatus string
}

// Active reports whether the data is held, or its hold is changing
// (applying or removing): either way closing the tenant must wait.
func (h LegalHold) Active() bool {
	switch h.HoldStatus {
	case "applied", "applying", "removing", "partial":
		return true
	}
	return false
}

// Application is an app registration.
type Application struct {
	ID             string
	AppID          string
	DisplayName    string
	SignInAudience string // AzureADMyOrg, AzureADMultipleOrgs, ...
}

// MultiTenant reports whether other tenants may use the app (deleting it breaks them).
func (a Application) MultiTenant() bool {
	return a.SignInAudience != "" && a.SignInAudience != "AzureADMyOrg"
}

// ServicePrincipal is an enterprise application.
type ServicePrincipal struct {
	ID                     string
	AppID                  string
	DisplayName            string
	AppOwnerOrganizationID string
	Type                   string // Application, ManagedIdentity, Legacy, SocialIdp
	AccountEnabled         bool
}

// DeviceCode is what the kept admin needs to sign in.
type DeviceCode struct {
	UserCode        string
	VerificationURL string
	Message         string // the authority's sentence, with both
	ExpiresOn       time.Time
}

// SignInProof is what the proof-of-life token says about the person.
type SignInProof struct {
	ObjectID string   // oid
	TenantID string   // tid
	AMR      []string // authentication methods; must contain "mfa"
}

// HasMFA reports whether the sign-in used multi-factor authentication.
func (p SignInProof) HasMFA() bool {
	for _, m := range p.AMR {
		if m == "mfa" {
			return true
		}
	}
	return false
}

// APIError is a refusal by Graph or the authority, in its own words.
type APIError struct {
	Status     int
	Code       string // Graph error code, e.g. Authorization_RequestDenied
	Message    string
	RetryAfter time.Duration // from Retry-After on 429/503
	Op         string        // what closebot tried, e.g. "delete user 42"
	// ThrottleScope and LimitPercentage are a 429's x-ms-throttle-scope
	// (e.g. "Tenant/Write/{app}/{tenant}") and
	// x-ms-throttle-limit-percentage: the executor's pacer adapts to them
	// (writes are not retried by the adapter; the pacer retries them).
	ThrottleScope   string
	LimitPercentage float64
	// Permission is the least-privileged application permission the call
	// needs, set by the adapter on a 403 Authorization_RequestDenied so the
	// words can name what to grant.
	Permission string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%s: %d %s: %s", e.Op, e.Status, e.Code, e.Message)
	if e.Permission != "" {
		s += " (closebot's app lacks " + e.Permission + " in this tenant)"
	}
	return s
}

// GrantWords says, for a refusal that names a missing grant, what is
// missing and how an administrator grants it; "" for any other error.
func GrantWords(err error) string {
	ae, ok := AsAPIError(err)
	if !ok || ae.Permission == "" {
		return ""
	}
	how := "Entra admin center → App registrations → closebot's app → API permissions → Add a permission → Microsoft Graph → Application permissions → " +
		ae.Permission + ", then Grant admin consent"
	if strings.Contains(ae.Permission, " ") {
		// A directory role (its display name has spaces), not an app role.
		how = "Entra admin center → Roles & admins → " + ae.Permission + " → Add assignments → closebot's app"
	}
	return fmt.Sprintf("Graph refused to %s: closebot's app lacks %s in this tenant. Grant it (%s) and try again.", ae.Op, ae.Permission, how)
}

// AsAPIError returns err's *APIError, if any.
func AsAPIError(err error) (*APIError, bool) {
	var ae *APIError
	ok := errors.As(err, &ae)
	return ae, ok
}

// UnlicensedCodes are the Graph error codes of a read the tenant's
// licences do not include: PIM without Entra ID P2 (400
// AadPremiumLicenseRequired), conditional access without P1 (403
// Authentication_RequestFromNonPremiumTenantOrB2CTenant).
var UnlicensedCodes = []string{"AadPremiumLicenseRequired", "Authentication_RequestFromNonPremiumTenantOrB2CTenant"}

// IsUnlicensed reports whether err is a refusal because the tenant lacks
// the licence a read needs: the read is "not available on this tenant".
func IsUnlicensed(err error) bool {
	ae, ok := AsAPIError(err)
	if !ok {
		return false
	}
	for _, c := range UnlicensedCodes {
		if strings.EqualFold(ae.Code, c) {
			return true
		}
	}
	return false
}

// IsPermissionDenied reports whether err is Graph refusing the call for
// lack of an application permission or directory role.
func IsPermissionDenied(err error) bool {
	ae, ok := AsAPIError(err)
	return ok && ae.Status == 403 && strings.EqualFold(ae.Code, "Authorization_RequestDenied")
}

// permissionOf names the grant a permission refusal says is missing.
func permissionOf(err error) string {
	if ae, ok := AsAPIError(err); ok {
		return ae.Permission
	}
	return ""
}

// IsRefused reports whether the service refused the call (403, or 400 for
// a property it will not set): the step opens a gate instead of failing.
func IsRefused(err error) bool {
	ae, ok := AsAPIError(err)
	return ok && (ae.Status == 403 || ae.Status == 400)
}
