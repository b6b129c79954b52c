// Package outbound is closebot's outbound side in Slack: the Reporter,
// which implements closure.Reporter by queueing each change the domain
// committed, the Outbox that delivers those messages in order under the
// workspace's call budgets, the daily gate Reminders, the config-change
// and plain channel notices, and the start-up read-back of the threads
// (CheckThreads). Every message is built by bot/blocks from views this
// package fills from the newest snapshot of the request; nothing here
// builds Block Kit itself. The inbound side (package bot) calls it; it
// never calls the inbound side.
package outbound
