// Package blocks renders closebot's Slack messages and modals as Block Kit
// (slack-go types), and nothing else: it takes small view models the bot
// fills from closure's types, and never talks to Slack or the store.
//
// Rules it keeps everywhere (DESIGN §3, slack-wire §6):
//   - every mrkdwn text object is verbatim, and user text in it (reasons,
//     tenant, user, app and policy names, Graph's error messages) is
//     escaped with Escape;
//   - plain_text gets user text as it is (Slack does not parse it);
//   - mentions and dates are built only from validated ids and times,
//     never from user text;
//   - button labels are exactly DESIGN §8's; every button value is
//     "request|version[|gate[|sentence]]" so the bot re-checks it against
//     the stored request.
package blocks
