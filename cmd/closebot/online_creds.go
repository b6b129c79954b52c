package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/msgraph"
	"github.com/closebot/closebot/config"
)

// checkLicences says which of the licence-dependent reads the tenant
// answers, and what that changes for a closure (README, "Licences").
func checkLicences(ctx context.Context, d *msgraph.Directory, name string, r *onlineReport) {
	_, err := d.ActiveSchedules(ctx)
	switch {
	case err == nil:
		r.say("%s: Microsoft Entra ID P2 (or ID Governance) present: PIM is read, so eligible admins are in the plan and activations show with their end", name)
	case closure.IsUnlicensed(err):
		r.say("%s: Microsoft Entra ID P2 absent: no PIM reads; role assignments are read from roleAssignments, every one permanent, none eligible", name)
	default:
		r.problem("%s: cannot tell whether the tenant has Microsoft Entra ID P2: %v", name, err)
	}
	_, err = d.ConditionalAccessPolicies(ctx)
	switch {
	case err == nil:
		r.say("%s: Microsoft Entra ID P1 present: conditional-access policies are shown in the plan", name)
	case closure.IsUnlicensed(err):
		r.say("%s: Microsoft Entra ID P1 absent: the plan shows conditional access as \"not available on this tenant\" (display only)", name)
	default:
		r.problem("%s: cannot tell whether the tenant has Microsoft Entra ID P1: %v", name, err)
	}
}

// checkCredentialExpiry checks when the tenant's credential ends.
func checkCredentialExpiry(ctx context.Context, d *msgraph.Directory, name string, t config.Tenant, granted []string, deps onlineDeps, r *onlineReport) {
	switch {
	case t.ClientCertificateFile != "":
		checkCertificate(name, t, deps, r)
	case t.WorkloadIdentity:
		r.say("%s: workload identity: a federated credential has no secret to expire", name)
	default:
		checkSecret(ctx, d, name, t, granted, deps, r)
	}
}

// checkSecret reads the client secret's end from the app registration.
// That read needs a permission that reads applications; closebot's table
// has one (Application.ReadWrite.All) for step 5, but where it is granted
// only during a closure the check says where to look instead of asking for
// a standing permission just for this.
func checkSecret(ctx context.Context, d *msgraph.Directory, name string, t config.Tenant, granted []string, deps onlineDeps, r *onlineReport) {
	manual := "Entra admin center → App registrations → closebot → Certificates & secrets → Client secrets → Expires"
	if !msgraph.CanReadOwnApp(granted) {
		r.say("%s: cannot see when the client secret expires (the token has no permission that reads app registrations): check %s", name, manual)
		return
	}
	secrets, err := d.OwnClientSecrets(ctx)
	if err != nil {
		r.problem("%s: cannot read the app registration's client secrets: %v; check %s", name, err, manual)
		return
	}
	// Graph shows each secret's first three characters (hint), never the
	// value: the configured secret is among those that begin alike.
	value := t.ClientSecret.Reveal()
	var end time.Time
	var label string
	n := 0
	for _, s := range secrets {
		if s.Hint == "" || !strings.HasPrefix(value, s.Hint) {
			continue
		}
		n++
		if n == 1 || (!s.End.IsZero() && (end.IsZero() || s.End.Before(end))) {
			end, label = s.End, fmt.Sprintf("%q (id %s)", s.DisplayName, s.KeyID)
		}
	}
	switch {
	case n == 0:
		r.problem("%s: none of the app registration's %d client secrets begins like $%s: is client_id the app whose secret it holds? Check %s",
			name, len(secrets), t.ClientSecretEnv, manual)
		return
	case n > 1:
		label += fmt.Sprintf(", the soonest to end of %d secrets that begin alike", n)
	}
	expiry(name, "client secret "+label, end, deps.Now(),
		"add a new client secret (Certificates & secrets → New client secret), put its Value in $"+t.ClientSecretEnv+", restart closebot, then delete the old secret", r)
}

// checkCertificate reads the certificate file's NotAfter.
func checkCertificate(name string, t config.Tenant, deps onlineDeps, r *onlineReport) {
	if t.ClientCertificateFile == "" {
		return
	}
	raw, err := os.ReadFile(t.ClientCertificateFile)
	if err != nil {
		r.problem("%s: read the certificate: %v", name, err)
		return
	}
	var cert *x509.Certificate
	for block, rest := pem.Decode(raw); block != nil && cert == nil; block, rest = pem.Decode(rest) {
		if block.Type == "CERTIFICATE" {
			cert, err = x509.ParseCertificate(block.Bytes)
			if err != nil {
				r.problem("%s: parse the certificate in %s: %v", name, t.ClientCertificateFile, err)
				return
			}
		}
	}
	if cert == nil {
		r.problem("%s: %s holds no PEM CERTIFICATE block", name, t.ClientCertificateFile)
		return
	}
	expiry(name, "certificate "+t.ClientCertificateFile+" ("+cert.Subject.String()+")", cert.NotAfter, deps.Now(),
		"make a new certificate, upload its public part (Certificates & secrets → Certificates → Upload certificate), point client_certificate_file at it with its key, restart closebot, then delete the old one", r)
}

// expiry judges a credential's end: expired or within expiryWarning is a problem.
func expiry(name, what string, end, now time.Time, renew string, r *onlineReport) {
	if end.IsZero() {
		r.say("%s: %s has no end date", name, what)
		return
	}
	left := end.Sub(now)
	day := end.UTC().Format("2006-01-02")
	switch {
	case left <= 0:
		r.problem("%s: %s expired on %s: %s", name, what, day, renew)
	case left < expiryWarning:
		r.problem("%s: %s expires on %s, in %s (less than %d days): %s", name, what, day, daysLeft(left), int(expiryWarning.Hours()/24), renew)
	default:
		r.say("%s: %s expires on %s, in %s", name, what, day, daysLeft(left))
	}
}

func daysLeft(d time.Duration) string {
	n := int(d.Hours() / 24)
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

var aadsts = regexp.MustCompile(`AADSTS(\d+)`)

// tokenHint turns the authority's refusal into what to correct.
func tokenHint(err error, t config.Tenant) string {
	code := ""
	if m := aadsts.FindStringSubmatch(err.Error()); m != nil {
		code = m[1]
	}
	switch code {
	case "90002":
		return fmt.Sprintf("Entra knows no tenant %s (AADSTS90002): correct tenants[].id (Entra admin center → Overview → Tenant ID)", t.ID)
	case "700016":
		return fmt.Sprintf("no application %s in tenant %s (AADSTS700016): correct tenants[].client_id (App registrations → closebot → Application (client) ID), or tenants[].id if the app is registered in another tenant", t.ClientID, t.ID)
	case "7000215":
		return fmt.Sprintf("the client secret is not one of the app's (AADSTS7000215): put the secret's Value, not its Secret ID, in $%s", t.ClientSecretEnv)
	case "7000222":
		return fmt.Sprintf("the client secret has expired (AADSTS7000222): add a new client secret (App registrations → closebot → Certificates & secrets) and put its Value in $%s", t.ClientSecretEnv)
	case "700027":
		return "the certificate is not registered on the app (AADSTS700027): upload its public part under App registrations → closebot → Certificates & secrets → Certificates"
	case "70021":
		return "no federated credential of the app matches the workload's token (AADSTS70021): add one under App registrations → closebot → Certificates & secrets → Federated credentials with the service account's issuer and subject"
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(msg) > 400 {
		msg = msg[:400] + "…"
	}
	return msg
}

// statMode is the permission bits of the file at path.
func statMode(path string) (os.FileMode, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Mode().Perm(), nil
}
