// Package cli implements the observatory subcommands. main only calls
// Main; every subcommand parses its own flags and returns an exit code.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Version is set at build time with -ldflags "-X …/internal/cli.Version=v1.2.3".
var Version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "run everything in one process (OTLP in, pipeline, SQLite or PostgreSQL, query API)", cmdRun},
		{"collector", "run the LLM Observatory collector distribution with a config file", cmdCollector},
		{"gateway", "run the OpenAI-compatible gateway alone (scaled mode)", cmdGateway},
		{"api", "run the query API alone (scaled mode)", cmdAPI},
		{"migrate", "apply database migrations", cmdMigrate},
		{"demo", "send realistic LLM traffic to a running instance", cmdDemo},
		{"keys", "create, list and revoke project API keys", cmdKeys},
		{"prices", "list the LLM price table, check an override file", cmdPrices},
		{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
			fmt.Fprintln(stdout, "observatory", Version)
			return nil
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "LLM Observatory — OpenTelemetry-native observability for LLM features.")
	fmt.Fprintln(w, "\nUsage: observatory <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `observatory <command> --help` for a command's flags.")
}

// errUsage marks errors already explained by a usage message.
var errUsage = errors.New("usage")

// Main runs the subcommand named by args[0] and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "observatory %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "observatory: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// newFlags returns a flag set whose errors and help go to stderr and that
// describes the command above its flags.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("observatory "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: observatory %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, allowing them before and after positional
// arguments (`keys revoke ID --data-dir d`), and refuses more than maxArgs
// positional arguments.
func parse(fs *flag.FlagSet, args []string, maxArgs int) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) > maxArgs {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", positional[maxArgs])
		fs.Usage()
		return errUsage
	}
	// Leave the positional arguments where fs.Args finds them.
	_ = fs.Parse(append([]string{"--"}, positional...))
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// storageFlags are shared by commands that open the data directory.
type storageFlags struct {
	dataDir, databaseURL, secret string
}

func (s *storageFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.dataDir, "data-dir", envOr("OBSERVATORY_DATA_DIR", "data"), "directory for the SQLite database, server secret and default key (env OBSERVATORY_DATA_DIR)")
	fs.StringVar(&s.databaseURL, "database-url", os.Getenv("OBSERVATORY_DATABASE_URL"), "postgres://user@host:5432/db to use PostgreSQL instead of SQLite in --data-dir (env OBSERVATORY_DATABASE_URL)")
	s.secret = os.Getenv("OBSERVATORY_SECRET")
}

func newLogger(stderr io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: l})), nil
}
