package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/closebot/closebot/closure"
	slashcmd "github.com/closebot/closebot/commands"
	"github.com/closebot/closebot/config"
	"github.com/closebot/closebot/store"
)

// runAudit is `closebot audit verify|export`: the tools over the audit
// chain (DESIGN §7). Both need the database and the audit key, nothing else.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: closebot audit verify [--db path] | closebot audit export CT-n [--db path] [--out file]"
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("missing subcommand: verify or export")
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, args[1:], stdout, stderr)
	case "export":
		return auditExport(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown subcommand %q: verify or export", args[0])
}

// dbFlags are the flags both audit subcommands take.
type dbFlags struct{ db, config *string }

func addDBFlags(fs *flag.FlagSet) dbFlags {
	return dbFlags{
		db:     fs.String("db", "", "database file (default: store.path of --config or $"+config.EnvConfig+" if given, else "+config.DefaultStorePath+")"),
		config: fs.String("config", "", "configuration file to take store.path from"),
	}
}

// open opens the database read-only for auditing: a snapshot of the file,
// so it works beside a running closebot (which holds the file's lock) and on
// a read-only evidence copy, and it never creates, locks or chmods the file
// (store.OpenReadOnly). It refuses a missing file rather than letting an
// empty one "verify".
func (f dbFlags) open() (*store.DB, error) {
	path := *f.db
	if path == "" {
		if *f.config != "" || os.Getenv(config.EnvConfig) != "" {
			p, err := config.StorePath(*f.config, os.Getenv)
			if err != nil {
				return nil, fmt.Errorf("store.path: %w", err)
			}
			path = p
		} else {
			path = config.DefaultStorePath
		}
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("no database at %s (give --db): %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a database file", path)
	}
	keyFile := os.Getenv(config.EnvAuditKeyFile)
	if keyFile == "" {
		return nil, fmt.Errorf("%s is not set: the audit key is needed to check the chain", config.EnvAuditKeyFile)
	}
	key, err := store.LoadKey(keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvAuditKeyFile, err)
	}
	return store.OpenReadOnly(path, key, store.Options{})
}

// auditVerify checks every request's chain and record, one line each, then
// the database head (deleted or rolled-back requests, the counter, locks and
// Slack refs), and fails naming the first fault.
func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := addDBFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (verify checks every request)", fs.Arg(0))
	}
	db, err := f.open()
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := db.VerifyDatabase(ctx)
	if err != nil {
		return err
	}
	results := rep.Requests
	var first *store.Fault
	bad := 0
	for _, r := range results {
		if r.Fault != nil {
			bad++
			if first == nil {
				first = r.Fault
			}
			fmt.Fprintf(stdout, "%s  %d events  FAILED  %s\n", r.Request, r.Events, where(r.Fault))
			continue
		}
		head, err := lastEvent(ctx, db, r.Request)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  %d events  ok  head #%d mac %s\n", r.Request, r.Events, head.Seq, store.ShortMAC(head.MAC))
	}
	switch {
	case rep.NoHead:
		fmt.Fprintln(stdout, "database head  none  (a schema-1 file: deleted or rolled-back requests cannot be seen in it)")
		fmt.Fprintf(stderr, "warning: %s has no database head; only each request's own chain was checked\n", db.Path())
	case rep.Head != nil:
		fmt.Fprintf(stdout, "database head  FAILED  %s\n", where(rep.Head))
	default:
		fmt.Fprintf(stdout, "database head  ok  %d requests\n", len(results))
	}
	if first != nil {
		return fmt.Errorf("%d of %d requests do not verify in %s; first: %w", bad, len(results), db.Path(), first)
	}
	if rep.Head != nil {
		return fmt.Errorf("%s: %w", db.Path(), rep.Head)
	}
	fmt.Fprintf(stdout, "%d requests verified in %s\n", len(results), db.Path())
	return nil
}

// where says in a few words which event, record or entry failed and why.
func where(f *store.Fault) string {
	s := fmt.Sprintf("event #%d: %s", f.Seq, f.Reason)
	switch {
	case f.Seq > 0:
	case f.Reason == store.ReasonRecordMAC || f.Reason == store.ReasonUnparsable:
		s = "request record: " + string(f.Reason)
	default:
		s = string(f.Reason)
	}
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	return s
}

func lastEvent(ctx context.Context, db *store.DB, id string) (closure.Event, error) {
	evs, err := db.Events(ctx, id)
	if err != nil {
		return closure.Event{}, err
	}
	if len(evs) == 0 {
		return closure.Event{}, fmt.Errorf("%s verified but has no events", id)
	}
	return evs[len(evs)-1], nil
}

// auditExport writes one request's chain as JSON Lines (the stored bytes,
// MACs included), then says whether it verifies.
func auditExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := addDBFlags(fs)
	out := fs.String("out", "", "write to this file (created 0600) instead of standard output")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give one request id, like: closebot audit export CT-3")
	}
	id, err := slashcmd.ParseRequestID(pos[0])
	if err != nil {
		return err
	}
	db, err := f.open()
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Verify(ctx, id)
	if errors.Is(err, closure.ErrNotFound) {
		return fmt.Errorf("no request %s in %s", id, db.Path())
	}
	if err != nil {
		return err
	}
	w := stdout
	var file *os.File
	if *out != "" {
		file, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("export %s: %w", id, err)
		}
		defer file.Close()
		w = file
	}
	if err := db.Export(ctx, id, w); err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("export %s: %w", id, err)
		}
		fmt.Fprintf(stderr, "%s: %d events written to %s\n", id, res.Events, *out)
	}
	// An export of a broken chain is still evidence; say it is broken.
	if res.Fault != nil {
		return fmt.Errorf("%s exported, but it does not verify: %w", id, res.Fault)
	}
	return nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (`export CT-3 --out f` as well as `export --out f CT-3`).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
