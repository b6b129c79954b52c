// Package msgraph implements closure.Directory over Microsoft Graph
// (msgraph-sdk-go) and the Entra authority (azidentity) for one tenant. It
// is the only production package that imports those SDKs.
package msgraph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"

	"github.com/closebot/closebot/closure"
)

// Defaults from DESIGN §8.
const (
	DefaultGraphBaseURL  = "https://graph.microsoft.com/v1.0"
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	// GraphScope is the token scope whatever the base URL: an emulator
	// accepts Graph's audience, and the real service needs it.
	GraphScope = "https://graph.microsoft.com/.default"
)

// Config is one tenant's connection settings. Exactly one of ClientSecret,
// CertificateFile and WorkloadIdentity selects the credential.
type Config struct {
	TenantID string
	ClientID string
	// ClientSecret is the secret's value, resolved from client_secret_env by the caller.
	ClientSecret string
	// CertificateFile is a PEM file holding the certificate and its private key.
	CertificateFile string
	// WorkloadIdentity uses azidentity's WorkloadIdentityCredential, which
	// reads the assertion from AZURE_FEDERATED_TOKEN_FILE.
	WorkloadIdentity bool
	// SigninClientID is the public client for the kept admin's device-code proof.
	SigninClientID string
	// Keep is the userPrincipalName of the kept admin.
	Keep string
	// GraphBaseURL defaults to DefaultGraphBaseURL; its last segment must be
	// v1.0 (the beta base replaces it with beta).
	GraphBaseURL string
	// AuthorityHost defaults to $AZURE_AUTHORITY_HOST, else DefaultAuthorityHost.
	AuthorityHost string
	// Transport carries every request (Graph and authority); nil means a
	// clone of http.DefaultTransport. Set it e.g. to trust an emulator's certificate.
	Transport http.RoundTripper
	// Logger defaults to slog.Default(). Secrets are never logged.
	Logger *slog.Logger
}

// Directory is closure.Directory for one tenant.
type Directory struct {
	cfg       Config
	log       *slog.Logger
	authority string // https://host/ with trailing slash
	// discoveryOff is DisableInstanceDiscovery: true for a non-Microsoft authority.
	discoveryOff bool
	base, beta   string // Graph base URLs, no trailing slash
	transport    http.RoundTripper
	httpClient   *http.Client // plain client over transport (discovery)

	cred    *renewableCredential
	adapter *msgraphsdk.GraphRequestAdapter
	client  *msgraphsdk.GraphServiceClient

	retry retryPolicy
	now   func() time.Time
}

var _ closure.Directory = (*Directory)(nil)

// New validates cfg, builds the credential and the Graph client. It makes
// no network call.
func New(ctx context.Context, cfg Config) (*Directory, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := &Directory{cfg: cfg, log: cfg.Logger, retry: defaultRetry(), now: time.Now}
	if d.log == nil {
		d.log = slog.Default()
	}
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("msgraph config for tenant %q: %w", cfg.TenantID, err)
	}
	d.transport = cfg.Transport
	if d.transport == nil {
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			d.transport = t.Clone()
		} else {
			d.transport = http.DefaultTransport
		}
	}
	d.httpClient = &http.Client{Transport: d.transport, Timeout: 30 * time.Second}
	cred, err := d.credential()
	if err != nil {
		return nil, fmt.Errorf("msgraph credential for tenant %s: %w", cfg.TenantID, err)
	}
	d.cred = &renewableCredential{inner: cred, make: d.credential}
	if err := d.buildClient(); err != nil {
		return nil, fmt.Errorf("msgraph client for tenant %s: %w", cfg.TenantID, err)
	}
	d.log.Debug("msgraph directory ready", "tenant", cfg.TenantID, "client_id", cfg.ClientID,
		"credential", d.credentialKind(), "keep", cfg.Keep, "graph", d.base, "authority", d.authority, "instance_discovery", !d.discoveryOff)
	return d, nil
}

func (d *Directory) credentialKind() string {
	switch {
	case d.cfg.ClientSecret != "":
		return "client secret"
	case d.cfg.CertificateFile != "":
		return "certificate"
	default:
		return "workload identity"
	}
}

// validate checks cfg and derives the base URLs and the authority.
func (d *Directory) validate() error {
	c := d.cfg
	var errs []error
	if !isGUID(c.TenantID) {
		errs = append(errs, errors.New("tenant id must be a GUID"))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("client id is required"))
	}
	n := 0
	for _, set := range []bool{c.ClientSecret != "", c.CertificateFile != "", c.WorkloadIdentity} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs = append(errs, fmt.Errorf("exactly one credential (client secret, certificate file or workload identity) is required, %d given", n))
	}
	base := c.GraphBaseURL
	if base == "" {
		base = DefaultGraphBaseURL
	}
	base = strings.TrimRight(base, "/")
	bu, err := url.Parse(base)
	switch {
	case err != nil || bu.Host == "":
		errs = append(errs, fmt.Errorf("graph base URL %q is not an absolute URL", base))
	case bu.Scheme != "https" && !isLoopback(bu.Hostname()):
		// kiota refuses non-https except on loopback; say so here, not at the first call.
		errs = append(errs, fmt.Errorf("graph base URL %q must use https", base))
	case !strings.HasSuffix(bu.Path, "/v1.0"):
		errs = append(errs, fmt.Errorf("graph base URL %q must end in /v1.0 (the beta base is derived from it)", base))
	default:
		d.base = base
		d.beta = strings.TrimSuffix(base, "v1.0") + "beta"
	}
	auth := c.AuthorityHost
	if auth == "" {
		auth = os.Getenv("AZURE_AUTHORITY_HOST")
	}
	if auth == "" {
		auth = DefaultAuthorityHost
	}
	au, err := url.Parse(auth)
	switch {
	case err != nil || au.Host == "":
		errs = append(errs, fmt.Errorf("authority host %q is not an absolute URL", auth))
	case au.Scheme != "https":
		errs = append(errs, fmt.Errorf("authority host %q must use https", auth))
	default:
		d.authority = strings.TrimRight(auth, "/") + "/"
		d.discoveryOff = !microsoftAuthority(au.Hostname())
	}
	return errors.Join(errs...)
}

// microsoftAuthority lists the hosts MSAL trusts without instance discovery
// (its known-authority list); any other authority gets discovery turned off,
// because discovery would ask login.microsoftonline.com about it.
func microsoftAuthority(host string) bool {
	switch strings.ToLower(host) {
	case "login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net",
		"login.microsoftonline.us", "login.usgovcloudapi.net", "login.chinacloudapi.cn",
		"login.partner.microsoftonline.cn", "login.microsoftonline.de":
		return true
	}
	return false
}

func isLoopback(host string) bool {
	switch host {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// clientOptions points azidentity at the authority over our transport.
func (d *Directory) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Transport: &http.Client{Transport: d.transport},
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: d.authority},
	}
}

// credential builds the app-only credential cfg names.
func (d *Directory) credential() (azcore.TokenCredential, error) {
	c := d.cfg
	switch {
	case c.ClientSecret != "":
		return azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.ClientSecret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: d.clientOptions(), DisableInstanceDiscovery: d.discoveryOff,
		})
	case c.CertificateFile != "":
		pemData, err := os.ReadFile(c.CertificateFile)
		if err != nil {
			return nil, fmt.Errorf("read certificate file: %w", err)
		}
		certs, key, err := azidentity.ParseCertificates(pemData, nil)
		if err != nil {
			return nil, fmt.Errorf("parse certificate file %s: %w", c.CertificateFile, err)
		}
		return azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions: d.clientOptions(), DisableInstanceDiscovery: d.discoveryOff,
		})
	default:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: d.clientOptions(), DisableInstanceDiscovery: d.discoveryOff,
			TenantID: c.TenantID, ClientID: c.ClientID,
		})
	}
}
