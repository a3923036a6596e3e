package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"

	"github.com/llm-observatory/observatory/collector"
	"github.com/llm-observatory/observatory/internal/embedded"
	"github.com/llm-observatory/observatory/internal/storage/storeopen"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "run [flags]\n\nRuns the whole product in one process: OTLP gRPC and HTTP receivers, the\nprocessing pipeline, storage (SQLite in --data-dir, or PostgreSQL with\n--database-url) and the query API. Prints the environment to point an app at it.", stderr)
	var sf storageFlags
	sf.register(fs)
	o := embedded.Options{Out: stdout, Version: Version}
	fs.StringVar(&o.GRPCAddr, "otlp-grpc-addr", "0.0.0.0:4317", "OTLP gRPC listen address")
	fs.StringVar(&o.HTTPAddr, "otlp-http-addr", "0.0.0.0:4318", "OTLP HTTP listen address")
	fs.StringVar(&o.APIAddr, "api-addr", "127.0.0.1:8090", "query API listen address (localhost only by default)")
	fs.StringVar(&o.GatewayAddr, "gateway-addr", "0.0.0.0:8080", `OpenAI-compatible gateway listen address, or "off"`)
	fs.StringVar(&o.GatewayConfig, "gateway-config", "", "gateway YAML config (models, providers, limits); default: every model on the built-in mock provider")
	fs.Int64Var(&o.MaxRequestBytes, "max-request-bytes", 16<<20, "largest OTLP request accepted, in bytes")
	fs.BoolVar(&o.Pprof, "pprof", false, "serve Go profiling endpoints under /debug/pprof/ on --api-addr")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	o.DataDir, o.DatabaseURL, o.Secret, o.Logger, o.LogLevel = sf.dataDir, sf.databaseURL, sf.secret, logger, *logLevel
	return embedded.Run(ctx, o)
}

func cmdCollector(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	factories, err := collector.Components(collector.Overrides{})
	if err != nil {
		return err
	}
	cmd := otelcol.NewCommand(otelcol.CollectorSettings{
		BuildInfo: collector.BuildInfo(Version),
		Factories: func() (otelcol.Factories, error) { return factories, nil },
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory(), yamlprovider.NewFactory()},
			DefaultScheme:     "env",
		}},
	})
	cmd.Use = "observatory collector"
	cmd.Short = "Run the LLM Observatory collector distribution: observatory collector --config FILE (see otel-config/)"
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	// The collector handles SIGINT/SIGTERM itself and shuts down with that
	// context; ours, cancelled by the same signal, would cut the shutdown
	// short and turn a clean stop into an error.
	return cmd.ExecuteContext(context.WithoutCancel(ctx))
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "migrate [--database-url URL | --data-dir DIR]\n\nApplies the embedded, versioned schema migrations (they also run at start).", stderr)
	var sf storageFlags
	sf.register(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	url := sf.databaseURL
	if url == "" {
		url = filepath.Join(sf.dataDir, embedded.DatabaseFile)
	}
	logger, _ := newLogger(stderr, "warn")
	st, err := storeopen.Open(ctx, url, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "migrations applied: %s is up to date\n", redactURL(url))
	return nil
}

// redactURL hides a password in a database URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

func cmdGateway(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("gateway", "gateway [flags]\n\nServes the OpenAI-compatible gateway (/v1/chat/completions, /v1/embeddings,\n/v1/models, /v1/ingest) alone. Keys are verified against --database-url;\nspans go to the collector at --otlp-endpoint. `observatory run` already\nincludes the gateway on :8080.", stderr)
	role := registerRole(fs)
	o := embedded.GatewayOptions{Version: Version}
	fs.StringVar(&o.Addr, "addr", "0.0.0.0:8080", "listen address")
	fs.StringVar(&o.ConfigPath, "config", "", "gateway YAML config; default: every model on the built-in mock provider")
	fs.StringVar(&o.OTLPEndpoint, "otlp-endpoint", "localhost:4317", "collector OTLP gRPC address for the gateway's spans")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	var err error
	if o.RoleOptions, err = role(stderr); err != nil {
		return err
	}
	return embedded.RunGateway(ctx, o)
}

func cmdAPI(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("api", "api [flags]\n\nServes the query API (/api/v1/…, /healthz, /readyz, /metrics) alone, reading\nwhat the sink collectors store in --database-url. Keys need the read scope and\nare verified with the same server secret (OBSERVATORY_SECRET) as the\ncollectors'. `observatory run` already includes it on :8090.", stderr)
	role := registerRole(fs)
	var o embedded.APIOptions
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8090", "listen address (0.0.0.0:8090 to serve other hosts)")
	fs.BoolVar(&o.Pprof, "pprof", false, "serve net/http/pprof under /debug/pprof/")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	var err error
	if o.RoleOptions, err = role(stderr); err != nil {
		return err
	}
	return embedded.RunAPI(ctx, o)
}

// registerRole adds the flags every standalone role shares; the returned
// function builds its options once the flags are parsed.
func registerRole(fs *flag.FlagSet) func(stderr io.Writer) (embedded.RoleOptions, error) {
	var sf storageFlags
	sf.register(fs)
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	return func(stderr io.Writer) (embedded.RoleOptions, error) {
		logger, err := newLogger(stderr, *logLevel)
		return embedded.RoleOptions{DataDir: sf.dataDir, DatabaseURL: sf.databaseURL, Secret: sf.secret, Logger: logger}, err
	}
}
