package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/embedded"
	"github.com/llm-observatory/observatory/internal/storage"
)

const keysSynopsis = `keys <create|list|revoke> [flags]

  observatory keys create [--project ID] [--scopes ingest,gateway,read] [--name NAME]
  observatory keys list   [--project ID]
  observatory keys revoke KEY_ID

Keys are shown once, at creation; only their HMAC is stored.`

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "Usage: observatory %s\n", keysSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errUsage
	}
	sub := args[0]
	fs := newFlags("keys "+sub, keysSynopsis, stderr)
	var sf storageFlags
	sf.register(fs)
	project := fs.String("project", embedded.DefaultProjectID, "project id")
	scopes := fs.String("scopes", apikey.ScopeIngest, "comma-separated scopes: ingest, gateway, read")
	name := fs.String("name", "", "a name to recognise the key by")
	maxArgs := 0
	if sub == "revoke" {
		maxArgs = 1
	}
	if err := parse(fs, args[1:], maxArgs); err != nil {
		return err
	}
	url := sf.databaseURL
	if url == "" {
		url = filepath.Join(sf.dataDir, embedded.DatabaseFile)
	}
	if err := embedded.RequireSharedSecret(sf.dataDir, url, sf.secret); err != nil {
		return err
	}
	logger, _ := newLogger(stderr, "warn")
	st, h, err := embedded.OpenTenancy(ctx, sf.dataDir, url, sf.secret, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	switch sub {
	case "create":
		sc, err := apikey.ParseScopes(*scopes)
		if err != nil {
			return err
		}
		p, err := st.GetProject(ctx, *project)
		if err != nil {
			return fmt.Errorf("project %q: %w", *project, err)
		}
		key, k, err := apikey.Issue(ctx, st, h, apikey.IssueRequest{OrgID: p.OrgID, ProjectID: p.ID, Name: *name, Scopes: sc, Now: time.Now()})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created key %s (project %s, scopes %s)\n\n  %s\n\nStore it now: it cannot be shown again.\n", k.ID, k.ProjectID, strings.Join(k.Scopes, ","), key)
	case "list":
		keys, err := st.ListAPIKeys(ctx, *project)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPREFIX\tSCOPES\tNAME\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, strings.Join(k.Scopes, ","), k.Name, k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("revoke needs the key id (see `observatory keys list`)")
		}
		if err := st.RevokeAPIKey(ctx, fs.Arg(0), time.Now()); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("no key %q (see `observatory keys list`)", fs.Arg(0))
			}
			return err
		}
		fmt.Fprintf(stdout, "revoked %s (running instances stop accepting it within 10s)\n", fs.Arg(0))
	default:
		fmt.Fprintf(stderr, "unknown keys subcommand %q\n\nUsage: observatory %s\n", sub, keysSynopsis)
		return errUsage
	}
	return nil
}
