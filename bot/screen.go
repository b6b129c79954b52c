package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/closure"
)

// channelTTL is how long a channel's "shared with another organisation"
// answer is trusted: sharing a channel is rare and deliberate, so a minute
// of staleness costs little and saves a conversations.info per click.
const channelTTL = time.Minute

// origin is who sent an envelope, from where, as the envelope says.
type origin struct {
	envelope string // envelope id
	appID    string // api_app_id
	teamID   string // the team the envelope came from
	user     string
	channel  string // "" for a modal submission
}

// checkEnvelope refuses an envelope not meant for this app and workspace.
// Nothing is answered to such an envelope: it is not ours to answer.
func (b *Bot) checkEnvelope(o origin, appID string) error {
	switch {
	case appID == "":
		return errNoAppID
	case o.appID != appID:
		return fmt.Errorf("%w: api_app_id %q is not this app's %q", errDrop, o.appID, appID)
	case o.teamID != b.cfg.TeamID:
		return fmt.Errorf("%w: team %q is not the configured %q", errDrop, o.teamID, b.cfg.TeamID)
	}
	return nil
}

// errDrop marks an envelope dropped without a word (another app's or
// another workspace's).
var errDrop = errors.New("envelope dropped")

// actor reads the person behind an envelope with users.info and their
// group memberships (fresh for decisions that count) and screens them:
// not deleted, not a bot, not a guest, of the configured team.
func (b *Bot) actor(ctx context.Context, userID string, fresh freshness) (closure.Actor, error) {
	if userID == "" {
		return closure.Actor{}, &closure.Denied{Rule: closure.RuleUnknownUser}
	}
	u, err := b.api.GetUserInfoContext(ctx, userID)
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && se.Err == "user_not_found" {
		return closure.Actor{}, &closure.Denied{Rule: closure.RuleUnknownUser}
	}
	if err != nil {
		return closure.Actor{}, fmt.Errorf("users.info %s: %w", userID, err)
	}
	a := closure.Actor{
		UserID: u.ID, TeamID: u.TeamID, Deleted: u.Deleted, Bot: u.IsBot || u.IsAppUser,
		Restricted: u.IsRestricted, UltraRestricted: u.IsUltraRestricted,
	}
	if a.UserID != userID {
		return closure.Actor{}, fmt.Errorf("users.info %s answered for %q", userID, a.UserID)
	}
	if d := b.deps.Policy.Screen(a); d != nil {
		return a, d
	}
	if a.Groups, err = b.groups.of(ctx, userID, fresh); err != nil {
		return a, err
	}
	return a, nil
}

// actorFor is actor for one decision: when the user's own id already holds
// the role act needs (closure.Policy.NeedsGroups), no group is read, so a
// busy closure's clicks do not spend Slack's usergroups budget; the
// decision and its audit event then name no group.
func (b *Bot) actorFor(ctx context.Context, userID string, fresh freshness, act closure.Action, req *closure.Request, tenantID string) (closure.Actor, error) {
	if b.deps.Policy.NeedsGroups(userID, act, req, tenantID) {
		return b.actor(ctx, userID, fresh)
	}
	return b.actor(ctx, userID, noGroups)
}

// channelCache remembers conversations.info's sharing answer briefly.
type channelCache struct {
	mu      sync.Mutex
	entries map[string]channelEntry
}

type channelEntry struct {
	shared bool
	at     time.Time
}

// checkChannel refuses a conversation that is not configured, or that is
// shared with another organisation.
func (b *Bot) checkChannel(ctx context.Context, channel string) error {
	if !b.channels[channel] {
		return errNotConfigured
	}
	now := time.Now()
	b.chans.mu.Lock()
	e, ok := b.chans.entries[channel]
	b.chans.mu.Unlock()
	if !ok || now.Sub(e.at) > channelTTL {
		c, err := b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
		if err != nil {
			return fmt.Errorf("conversations.info %s: %w", channel, err)
		}
		e = channelEntry{shared: c.IsExtShared || c.IsPendingExtShared, at: now}
		b.chans.mu.Lock()
		b.chans.entries[channel] = e
		b.chans.mu.Unlock()
	}
	if e.shared {
		return errSharedChannel
	}
	return nil
}

// checkClickChannel checks where a click came from against the request it
// names: a click in a channel must come from the request's own channel; a
// click in a DM (gate buttons) is checked against the request's channel.
func (b *Bot) checkClickChannel(ctx context.Context, clickChannel string, req *closure.Request) error {
	if isDM(clickChannel) {
		return b.checkChannel(ctx, req.Channel)
	}
	if clickChannel != req.Channel {
		return errForged
	}
	return b.checkChannel(ctx, clickChannel)
}

func isDM(channel string) bool { return strings.HasPrefix(channel, "D") }
