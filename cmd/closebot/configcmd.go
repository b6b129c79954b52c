package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/closebot/closebot/config"
)

// runConfig is `closebot config check`: load and validate the configuration
// and the environment, list every problem, and print the warnings. With
// --online, once those pass, also ask Slack and each tenant what the
// credentials are granted (online.go).
func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return configCheck(ctx, args, stdout, stderr, onlineDeps{})
}

func configCheck(ctx context.Context, args []string, stdout, stderr io.Writer, deps onlineDeps) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: closebot config check [--config path] [--online]")
		if len(args) == 0 {
			return errors.New("missing subcommand: check")
		}
		return fmt.Errorf("unknown subcommand %q: the only one is check", args[0])
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (default $"+config.EnvConfig+", else "+config.DefaultPath+")")
	online := fs.Bool("online", false, "also check tokens, scopes, permissions, the directory role, licences and credential expiry against Slack and each tenant")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c, err := config.Load(*path, os.Getenv)
	if err != nil {
		// The online checks need a valid configuration: the offline
		// problems come first, all of them.
		return err
	}
	printConfig(stdout, c)
	for _, w := range c.Warnings() {
		fmt.Fprintln(stdout, "warning: "+w)
	}
	if !*online {
		return nil
	}
	rep := checkOnline(ctx, c, deps)
	fmt.Fprintln(stdout, "online:")
	for _, l := range rep.lines {
		fmt.Fprintln(stdout, "  "+l)
	}
	if len(rep.problems) > 0 {
		return &config.Error{File: c.File + " (online)", Problems: rep.problems}
	}
	fmt.Fprintln(stdout, "online: ok")
	return nil
}

// printConfig summarises a valid configuration; secrets show only as set.
func printConfig(w io.Writer, c *config.Config) {
	fmt.Fprintf(w, "%s: ok\n", c.File)
	fmt.Fprintf(w, "  slack: team %s; channels %s; requesters %s; approvers %s\n", c.Slack.TeamID,
		strings.Join(c.Slack.Channels, ", "), strings.Join(c.Slack.Requesters, ", "), strings.Join(c.Slack.Approvers, ", "))
	a := c.Approval
	disjoint := "not disjoint"
	if a.Disjoint {
		disjoint = "disjoint"
	}
	fmt.Fprintf(w, "  approval: %d required, %s; expires after %s; abort window %s; drift %g%%\n", a.Required, disjoint, a.ExpiresAfter, a.AbortWindow, a.DriftPercent)
	g := c.Gates
	fmt.Fprintf(w, "  gates: re-check every %s; gone after %d confirmations over %s; stuck after %s\n", g.RecheckEvery, g.GoneConfirmations, g.GoneSpan, g.StuckAfter)
	fmt.Fprintf(w, "  store: %s\n", c.Store.Path)
	fmt.Fprintf(w, "  graph: %s (beta %s); authority %s\n", c.Graph.BaseURL, c.Graph.BetaURL, c.Env.AuthorityHost)
	slackAPI := "Slack"
	if c.Env.SlackAPIURL != "" {
		slackAPI = c.Env.SlackAPIURL
	}
	fmt.Fprintf(w, "  environment: Slack tokens set (app, bot), Slack API %s, audit key from %s\n", slackAPI, c.Env.AuditKeyFile)
	for _, t := range c.Tenants {
		fmt.Fprintf(w, "  tenant %s (%s): keep %s, Slack user %s; client %s with %s\n",
			t.Domain, t.ID, t.Keep, t.KeepSlackUser, t.ClientID, t.Credential())
	}
}
