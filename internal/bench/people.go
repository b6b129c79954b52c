package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/config"
	"github.com/closebot/closebot/internal/demo"
)

// people are alice, bob and carol, acting only through what they can
// reach: Slack (the bench's emulator) and the Microsoft sign-in page (the
// Graph emulator's device-code control route). Unlike demo.Humans they do
// not read closebot's store: the bot is another process and its database
// is locked.
type people struct {
	slack *slacktest.Server
	graph *http.Client
	root  string // the Graph emulator, for /emulator/devicecodes
}

// card is the request's card in the channel, once it is there.
func (p *people) card(domain string) (slacktest.Message, bool) {
	for _, m := range p.slack.Messages(demo.Channel) {
		if strings.Contains(m.Text, "close tenant "+domain+" ") {
			return m, true
		}
	}
	return slacktest.Message{}, false
}

var usersToDelete = regexp.MustCompile(`\*([0-9][0-9,]*)\* users to delete`)

// openAndApprove is alice's /close-tenant and bob's approval through the
// modal, typing what the card shows; it returns the users to delete.
func (p *people) openAndApprove(domain string) (int, error) {
	env, err := p.slack.Slash(demo.Alice, demo.Channel, domain+" bench: throughput measurement")
	if err != nil {
		return 0, err
	}
	if _, err := env.WaitAck(3 * time.Second); err != nil {
		return 0, fmt.Errorf("/close-tenant %s: %w", domain, err)
	}
	var card slacktest.Message
	// The card comes after closebot has read the whole tenant.
	if err := p.slack.WaitFor(5*time.Minute, func() bool {
		m, ok := p.card(domain)
		card = m
		return ok && strings.Contains(string(m.Blocks), `"action_id":"`+blocks.ActionApprove+`"`)
	}); err != nil {
		return 0, fmt.Errorf("no card with an Approve button for %s: %w", domain, err)
	}
	id, _, _ := strings.Cut(card.Text, " ")
	mm := usersToDelete.FindStringSubmatch(string(card.Blocks))
	if mm == nil {
		return 0, fmt.Errorf("the card of %s shows no users to delete", id)
	}
	users, _ := strconv.Atoi(strings.ReplaceAll(mm[1], ",", ""))

	view, err := p.openModal(card, id)
	if err != nil {
		return 0, err
	}
	values, err := demo.FillApproval(view, domain, users)
	if err != nil {
		return 0, err
	}
	if env, err = p.slack.Submit(demo.Bob, view.ID, values); err != nil {
		return 0, err
	}
	if _, err := env.WaitAck(3 * time.Second); err != nil {
		return 0, fmt.Errorf("submit the approval of %s: %w", id, err)
	}
	return users, nil
}

// signIn is carol finishing the device-code sign-in closebot DMed her for
// tenant t, with MFA; it returns once she has.
func (p *people) signIn(ctx context.Context, t config.Tenant) error {
	for ctx.Err() == nil {
		codes, err := p.deviceCodes(ctx)
		if err != nil {
			return err
		}
		for _, dc := range codes {
			if dc.State != "pending" || (!strings.EqualFold(dc.Tenant, t.ID) && !strings.EqualFold(dc.Tenant, t.Domain)) || !p.dmMentions(demo.Carol, dc.UserCode) {
				continue
			}
			return p.complete(ctx, dc.UserCode, t.Keep)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ctx.Err()
}

func (p *people) dmMentions(user, text string) bool {
	for _, m := range p.slack.DMs(user) {
		if strings.Contains(m.Text, text) || strings.Contains(string(m.Blocks), text) {
			return true
		}
	}
	return false
}

func (p *people) deviceCodes(ctx context.Context) ([]graphtest.DeviceCode, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.root+"/emulator/devicecodes", nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.graph.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the pending sign-ins: %w", err)
	}
	defer resp.Body.Close()
	var out []graphtest.DeviceCode
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

func (p *people) complete(ctx context.Context, code, upn string) error {
	body, _ := json.Marshal(map[string]any{"user": upn, "mfa": true})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.root+"/emulator/devicecodes/"+code+"/complete", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := p.graph.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return errors.New("carol's sign-in was refused: " + resp.Status)
	}
	return nil
}

// openModal is bob pressing Approve on the card until the approval modal
// is on his screen. A modal that does not come within 10 s is asked for
// again, as a person would press again: on a loaded machine closebot's
// views.open can miss the trigger's 3 s. A modal that came but still says
// the tenant is being read again is waited for.
func (p *people) openModal(card slacktest.Message, id string) (slacktest.View, error) {
	var view slacktest.View
	mine := func(form bool) func() bool {
		return func() bool {
			for _, v := range p.slack.Views() {
				if v.User == demo.Bob && v.Open && strings.Contains(string(v.Blocks), "approving *"+id+"*") &&
					(!form || strings.Contains(string(v.Blocks), blocks.BlockModalDomain)) {
					view = v
					return true
				}
			}
			return false
		}
	}
	var err error
	for range 5 {
		var env *slacktest.Envelope
		if env, err = p.slack.Click(demo.Bob, card.Ref(), blocks.ActionApprove); err != nil {
			return view, err
		}
		if _, err = env.WaitAck(3 * time.Second); err != nil {
			return view, fmt.Errorf("approve %s: %w", id, err)
		}
		if err = p.slack.WaitFor(10*time.Second, mine(false)); err != nil {
			continue
		}
		if err = p.slack.WaitFor(2*time.Minute, mine(true)); err == nil {
			return view, nil
		}
	}
	return view, fmt.Errorf("the approval modal of %s did not open: %w", id, err)
}
