package msgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// errorMappings makes every 4xx/5xx answer a typed *odataerrors.ODataError.
var errorMappings = abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// sendBeta sends a raw request to the beta endpoint through the same
// adapter (token, middlewares, transport), for what msgraph-sdk-go's v1.0
// models lack. An absolute URI bypasses the adapter's v1.0 base URL. body
// (if not nil) is sent as JSON; out (if not nil) receives the JSON answer.
func (d *Directory) sendBeta(ctx context.Context, method, path string, body, out any) error {
	return d.sendRaw(ctx, method, d.beta+path, body, out)
}

// sendRaw sends a raw request to an absolute Graph URL through the same
// adapter, for routes msgraph-sdk-go v1.89.0 has no builder for.
func (d *Directory) sendRaw(ctx context.Context, method, target string, body, out any) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("graph URL: %w", err)
	}
	ri := abs.NewRequestInformation()
	switch method {
	case http.MethodGet:
		ri.Method = abs.GET
	case http.MethodPatch:
		ri.Method = abs.PATCH
	default:
		return fmt.Errorf("%s %s: unsupported method", method, target)
	}
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("beta body: %w", err)
		}
		ri.SetStreamContentAndContentType(raw, "application/json")
	}
	if out == nil {
		return d.adapter.SendNoContent(ctx, ri, errorMappings)
	}
	res, err := d.adapter.SendPrimitive(ctx, ri, "[]byte", errorMappings)
	if err != nil {
		return err
	}
	raw, _ := res.([]byte)
	if len(raw) == 0 {
		return fmt.Errorf("%s %s: empty answer", method, u.Path)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, u.Path, err)
	}
	return nil
}

// requirements is beta strongAuthenticationRequirements.
type requirements struct {
	PerUserMfaState string `json:"perUserMfaState"`
}

// perUserMFAStates are the documented values of perUserMfaState that can
// be set; reads may also answer unknownFutureValue, the evolvable-enum
// sentinel, which the domain handles.
var perUserMFAStates = map[string]bool{"enforced": true, "enabled": true, "disabled": true}

// unknownFutureValue is Graph's evolvable-enum sentinel.
const unknownFutureValue = "unknownFutureValue"

// PerUserMFA reads beta users/{id}/authentication/requirements.
func (d *Directory) PerUserMFA(ctx context.Context, userID string) (string, error) {
	op := "read per-user MFA of " + userID
	var r requirements
	if err := d.do(ctx, op, func(ctx context.Context) error {
		return d.sendBeta(ctx, http.MethodGet, "/users/"+url.PathEscape(userID)+"/authentication/requirements", nil, &r)
	}); err != nil {
		return "", err
	}
	if !perUserMFAStates[r.PerUserMfaState] && r.PerUserMfaState != unknownFutureValue {
		return "", fmt.Errorf("%s: unknown perUserMfaState %q", op, r.PerUserMfaState)
	}
	return r.PerUserMfaState, nil
}

// SetPerUserMFA sets beta perUserMfaState (enforced, enabled or disabled).
func (d *Directory) SetPerUserMFA(ctx context.Context, userID, state string) error {
	op := "set per-user MFA of " + userID + " to " + state
	if !perUserMFAStates[state] {
		return fmt.Errorf("%s: unknown state", op)
	}
	return d.write(ctx, op, func(ctx context.Context) error {
		return d.sendBeta(ctx, http.MethodPatch, "/users/"+url.PathEscape(userID)+"/authentication/requirements",
			requirements{PerUserMfaState: state}, nil)
	})
}
