package msgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// TenantGone asks the authority's OpenID discovery for the tenant id
// (DESIGN §8): 400 with AADSTS90002 / invalid_tenant means the tenant no
// longer exists; 200 means it does; anything else is an error, never a guess.
func (d *Directory) TenantGone(ctx context.Context) (bool, error) {
	u := d.authority + url.PathEscape(d.cfg.TenantID) + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, fmt.Errorf("tenant discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.httpClient.Do(req)
	if err != nil {
		return false, fmt.Errorf("tenant discovery %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return false, fmt.Errorf("tenant discovery %s: read answer: %w", u, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		var doc struct {
			Issuer string `json:"issuer"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || doc.Issuer == "" {
			return false, fmt.Errorf("tenant discovery %s: 200 without an OpenID configuration", u)
		}
		return false, nil
	case http.StatusBadRequest:
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
			Codes       []int  `json:"error_codes"`
		}
		_ = json.Unmarshal(body, &e)
		if e.Error == "invalid_tenant" || strings.Contains(e.Description, "AADSTS90002") || containsInt(e.Codes, 90002) {
			d.log.Info("tenant discovery answers AADSTS90002", "tenant", d.cfg.TenantID)
			return true, nil
		}
		return false, fmt.Errorf("tenant discovery %s: 400 %s: %s", u, e.Error, firstLine(e.Description))
	default:
		return false, fmt.Errorf("tenant discovery %s: unexpected status %d", u, resp.StatusCode)
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// firstLine keeps an AADSTS description without its trace ids.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
