package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/msgraph"
	"github.com/closebot/closebot/config"
)

// deletable lists the users a baseline deletes: all but the kept admin and
// the holders of a directory role (closebot deletes those last, after a
// re-check, which a baseline does not model).
func deletable(ctx context.Context, d *msgraph.Directory, keep string) ([]string, error) {
	as, err := d.RoleAssignments(ctx)
	if err != nil {
		return nil, fmt.Errorf("read role assignments: %w", err)
	}
	holders := map[string]bool{}
	for _, a := range as {
		holders[strings.ToLower(a.PrincipalID)] = true
	}
	var ids []string
	err = d.Users(ctx, func(u closure.User) error {
		if !strings.EqualFold(u.UPN, keep) && !holders[strings.ToLower(u.ID)] {
			ids = append(ids, u.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return ids, nil
}

// directory is the real msgraph adapter for tenant t of the emulator.
func (e *emulator) directory(ctx context.Context, t config.Tenant, c *http.Client) (*msgraph.Directory, error) {
	return msgraph.New(ctx, msgraph.Config{
		TenantID: t.ID, ClientID: t.ClientID, ClientSecret: t.ClientSecret.Reveal(), SigninClientID: t.SigninClientID, Keep: t.Keep,
		GraphBaseURL: e.cfg.Graph.BaseURL, AuthorityHost: e.cfg.Env.AuthorityHost, Transport: c.Transport,
	})
}

// sequential deletes one user at a time through the real msgraph adapter,
// as step 1 does today, until every user is gone or stop says so.
func sequential(ctx context.Context, d *msgraph.Directory, ids []string, stop func() bool) error {
	for _, id := range ids {
		if stop() || ctx.Err() != nil {
			return ctx.Err()
		}
		if err := d.DeleteUser(ctx, id); err != nil {
			return fmt.Errorf("delete user %s: %w", id, err)
		}
	}
	return nil
}

// unpacedWorkers is how many DELETEs the unpaced baseline keeps in flight.
const unpacedWorkers = 16

// unpaced fires DELETEs from unpacedWorkers goroutines with no pacing at
// all; a worker that gets 429 waits the Retry-After it was told (emulated
// seconds, so ÷ scale of wall time) and tries again, as Graph's SDKs do.
func unpaced(ctx context.Context, c *http.Client, base, token string, ids []string, scale float64, stop func() bool) error {
	jobs := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range unpacedWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				for ctx.Err() == nil {
					status, retry, err := deleteRaw(ctx, c, base+"/users/"+id, token)
					if err == nil && status == http.StatusTooManyRequests {
						time.Sleep(time.Duration(float64(retry) / scale))
						continue
					}
					if err != nil {
						mu.Lock()
						first = cmpOr(first, err)
						mu.Unlock()
					}
					break
				}
			}
		}()
	}
	for _, id := range ids {
		if stop() || ctx.Err() != nil {
			break
		}
		jobs <- id
	}
	close(jobs)
	wg.Wait()
	return first
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func deleteRaw(ctx context.Context, c *http.Client, u, token string) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, time.Duration(max(secs, 1)) * time.Second, nil
}

// appToken is a client-credentials token for tenant t from the emulator's
// authority, for the unpaced baseline's plain HTTP.
func (e *emulator) appToken(ctx context.Context, c *http.Client, t config.Tenant) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {t.ClientID}, "client_secret": {t.ClientSecret.Reveal()},
		"scope": {msgraph.GraphScope}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.Env.AuthorityHost+t.ID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("token for %s: %w", t.Domain, err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token for %s: %s", t.Domain, resp.Status)
	}
	return tok.AccessToken, nil
}
