package graphtest

// Assumptions switch behaviours FIDELITY.md marks as assumed: each field is a
// guess about the real service that the first closure of a trial tenant
// should confirm (DESIGN §11). The zero value is the emulator's best guess;
// setting a field picks the alternative. Both engineers add fields here; the
// authority's and the throttler's come first.
type Assumptions struct {
	// --- authority (FIDELITY.md part 1) ---

	// FederatedSkipSignature accepts a federated workload-identity assertion
	// whose issuer and subject match a registration without checking its
	// signature (real Entra fetches the issuer's JWKS; the emulator checks
	// against the key given to RegisterFederatedCredential).
	FederatedSkipSignature bool
	// NoExpiredTokenChallenge answers an expired bearer token from a
	// CAE-capable client (xms_cc CP1) with a plain 401 instead of a
	// WWW-Authenticate claims challenge; with the challenge, kiota asks
	// azidentity once for a fresh token, bypassing its cache.
	NoExpiredTokenChallenge bool
	// AccessTokenLifetime overrides the lifetime of issued access tokens
	// (default 3599 s, the documented sample's expires_in).
	AccessTokenLifetime int // seconds; 0 means 3599

	// --- throttling (FIDELITY.md part 1) ---

	// UsersDetailCostsTwo charges 2 RU for every GET under /users/{id}
	// (the documented "GET users 2" read as any user read); by default only
	// the /users collection and /users/{id} cost 2, deeper paths 1.
	UsersDetailCostsTwo bool
	// CAChargesIdentityBuckets also charges conditional-access calls to the
	// identity write/RU buckets besides the 1 request/s CA limit.
	CAChargesIdentityBuckets bool

	// --- directory (FIDELITY.md; the directory engineer's fields, added here
	// as its routes use them; their meaning is documented in FIDELITY.md) ---

	// SyncedUserDeletable lets DELETE /users/{id} succeed for a user still
	// mastered on-premises (default: 400 Request_BadRequest).
	SyncedUserDeletable bool
	// RestrictedAUMembersDeletable lets an app delete members of a
	// restricted-management administrative unit (default: 403).
	RestrictedAUMembersDeletable bool
	// AdminDeleteWithoutPrivilegedRole lets an app without Global Admin or
	// Privileged Authentication Admin delete role holders (default: 403).
	AdminDeleteWithoutPrivilegedRole bool
	// V1SyncReadOnly refuses onPremisesSyncEnabled on v1.0 PATCH /organization
	// with "Property ... is read-only" (default: accepted on both versions).
	V1SyncReadOnly bool
	// FirstPartySPsDeletable lets Microsoft's own service principals be
	// deleted (default: 400 Request_BadRequest).
	FirstPartySPsDeletable bool
	// SyncFilterNeedsAdvancedQuery refuses $filter on onPremisesSyncEnabled
	// unless ConsistencyLevel: eventual and $count=true are sent (graph-wire
	// §1.1: "may need advanced-query headers — unverified"; default: plain
	// eq works).
	SyncFilterNeedsAdvancedQuery bool
	// GzipRequestsUnsupported answers a gzip-encoded request body with 415,
	// as if Graph did not accept compressed bodies; kiota then resends the
	// body uncompressed (default: gzip bodies are accepted).
	GzipRequestsUnsupported bool

	// --- licences, replication, blockers (FIDELITY.md part 3) ---

	// EDiscoveryWithoutPremium lets the eDiscovery routes answer on a tenant
	// without an eDiscovery (Premium) service plan (default: 403 Forbidden,
	// itself assumed: no source gives the refusal; Microsoft's 2026 docs
	// change says entitlement is decided service-side and standard cases
	// are reached through Graph, which argues for this alternative).
	EDiscoveryWithoutPremium bool
	// ReplicationLagByID makes by-id reads (GET /users/{id},
	// /applications/{id}, /servicePrincipals/{id}) lag like listings under
	// Options.ReplicationLag (default: a by-id read of a deleted object
	// answers 404 at once).
	ReplicationLagByID bool
	// UndeletableSPsDeletable lets seeded third-party service principals
	// marked undeletable be deleted (default: 403 Authorization_RequestDenied,
	// so the product must disable them instead).
	UndeletableSPsDeletable bool
}
