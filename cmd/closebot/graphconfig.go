package main

import (
	"log/slog"
	"net/http"

	"github.com/closebot/closebot/closure/msgraph"
	"github.com/closebot/closebot/config"
)

// graphConfig is one configured tenant's Graph connection, as run, plan and
// config check --online all open it.
func graphConfig(cfg *config.Config, t config.Tenant, transport http.RoundTripper, log *slog.Logger) msgraph.Config {
	return msgraph.Config{
		TenantID: t.ID, ClientID: t.ClientID, ClientSecret: t.ClientSecret.Reveal(),
		CertificateFile: t.ClientCertificateFile, WorkloadIdentity: t.WorkloadIdentity,
		SigninClientID: t.SigninClientID, Keep: t.Keep,
		GraphBaseURL: cfg.Graph.BaseURL, AuthorityHost: cfg.Env.AuthorityHost,
		Transport: transport, Logger: log,
	}
}
