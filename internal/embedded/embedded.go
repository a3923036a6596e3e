// Package embedded runs the whole product in one process: the collector
// pipeline (OTLP in, genai, storage exporter), the storage it writes to and
// the query API — what `observatory run` starts.
package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/otelcol"

	"github.com/llm-observatory/observatory/collector"
	"github.com/llm-observatory/observatory/extensions/apikeyauthextension"
	"github.com/llm-observatory/observatory/gateway"
	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/queryapi"
	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/storeopen"
	"github.com/llm-observatory/observatory/sinks/storageexporter"
)

// Files kept in the data directory.
const (
	SecretFile   = "server-secret"
	KeyFile      = "default-api-key"
	InstanceFile = "instance.json"
	DatabaseFile = "observatory.db"
)

// Default tenant created on first start.
const (
	DefaultOrgID     = "org_default"
	DefaultProjectID = "prj_default"
)

// Options configures Run. Zero values take the defaults in brackets.
type Options struct {
	DataDir     string // [./data]
	DatabaseURL string // [SQLite file in DataDir]
	Secret      string // server secret; [generated into DataDir/server-secret]
	GRPCAddr    string // OTLP gRPC [0.0.0.0:4317]
	HTTPAddr    string // OTLP HTTP [0.0.0.0:4318]
	APIAddr     string // query API [127.0.0.1:8090]
	// GatewayAddr is the OpenAI-compatible gateway [0.0.0.0:8080]; "off"
	// disables it.
	GatewayAddr string
	// GatewayConfig is a gateway YAML file [built-in: every model on the
	// mock provider].
	GatewayConfig string
	// MaxRequestBytes caps one OTLP request [16 MiB].
	MaxRequestBytes int64
	LogLevel        string // collector log level [warn]
	Pprof           bool   // serve /debug/pprof on the API address
	Version         string
	Logger          *slog.Logger
	Out             io.Writer // where the banner goes [os.Stdout]
	// Ready, when set, is called once everything listens.
	Ready func(Instance)
}

// Instance is what a running instance tells local tools (observatory demo)
// through DataDir/instance.json.
type Instance struct {
	PID         int    `json:"pid"`
	OTLPGRPC    string `json:"otlp_grpc"`
	OTLPHTTP    string `json:"otlp_http"`
	Gateway     string `json:"gateway,omitempty"`
	API         string `json:"api"`
	DatabaseURL string `json:"database_url"`
}

func (o *Options) defaults() {
	if o.DataDir == "" {
		o.DataDir = "data"
	}
	if o.DatabaseURL == "" {
		o.DatabaseURL = filepath.Join(o.DataDir, DatabaseFile)
	}
	if o.GRPCAddr == "" {
		o.GRPCAddr = "0.0.0.0:4317"
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = "0.0.0.0:4318"
	}
	if o.APIAddr == "" {
		o.APIAddr = "127.0.0.1:8090"
	}
	if o.GatewayAddr == "" {
		o.GatewayAddr = "0.0.0.0:8080"
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = 16 << 20
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
}

// OpenTenancy opens storage, the server secret and the key hasher of a data
// directory, creating the default org and project. Callers close the store.
func OpenTenancy(ctx context.Context, dataDir, databaseURL, secret string, logger *slog.Logger) (storage.Store, *apikey.Hasher, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create data dir %s: %w", dataDir, err)
	}
	raw, err := apikey.LoadOrCreateSecret(secret, filepath.Join(dataDir, SecretFile))
	if err != nil {
		return nil, nil, err
	}
	h, err := apikey.NewHasher(raw)
	if err != nil {
		return nil, nil, err
	}
	st, err := storeopen.Open(ctx, databaseURL, logger)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC()
	if err := st.CreateOrg(ctx, storage.Org{ID: DefaultOrgID, Name: "Default", CreatedAt: now}); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("create default org: %w", err)
	}
	if err := st.CreateProject(ctx, storage.Project{ID: DefaultProjectID, OrgID: DefaultOrgID, Name: "Default", CreatedAt: now}); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("create default project: %w", err)
	}
	return st, h, nil
}

// defaultKey returns the key stored in DataDir, issuing one with every
// scope when there is none or it no longer verifies (e.g. a new database).
func defaultKey(ctx context.Context, dataDir string, st storage.Store, h *apikey.Hasher) (string, error) {
	return keyFile(ctx, filepath.Join(dataDir, KeyFile), st, h, apikey.IssueRequest{
		OrgID: DefaultOrgID, ProjectID: DefaultProjectID, Name: "default (created by observatory run)",
		Scopes: apikey.AllScopes,
	})
}

// keyFile returns the key kept in the file at path when it is still a
// live key of req's project; otherwise it issues one as req describes and
// saves it there (mode 0600). It lets a restarted process reuse its keys
// instead of piling up new ones.
func keyFile(ctx context.Context, path string, st storage.Store, h *apikey.Hasher, req apikey.IssueRequest) (string, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		key := strings.TrimSpace(string(b))
		k, err := st.LookupAPIKey(ctx, h.Hash(key))
		if err == nil && k.RevokedAt == nil && k.ProjectID == req.ProjectID {
			return key, nil
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return "", fmt.Errorf("check key in %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read key: %w", err)
	}
	req.Now = time.Now()
	key, _, err := apikey.Issue(ctx, st, h, req)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save key: %w", err)
	}
	return key, nil
}

// Run starts everything and blocks until ctx is done or a part fails.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	st, h, err := OpenTenancy(ctx, o.DataDir, o.DatabaseURL, o.Secret, o.Logger)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := defaultKey(ctx, o.DataDir, st, h)
	if err != nil {
		return err
	}
	verifier, err := apikey.NewVerifier(apikey.VerifierOptions{Lookup: st, Hasher: h})
	if err != nil {
		return err
	}

	// Bind the API first so a busy port fails before the pipeline starts.
	apiLn, err := net.Listen("tcp", o.APIAddr)
	if err != nil {
		return fmt.Errorf("query API: listen on %s: %w (is another observatory running? use --api-addr)", o.APIAddr, err)
	}
	for _, addr := range []string{o.GRPCAddr, o.HTTPAddr} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			apiLn.Close()
			return fmt.Errorf("OTLP: listen on %s: %w (is another collector running? use --otlp-grpc-addr / --otlp-http-addr)", addr, err)
		}
		ln.Close()
	}

	var gwLn net.Listener
	if o.GatewayAddr != "off" {
		if gwLn, err = net.Listen("tcp", o.GatewayAddr); err != nil {
			apiLn.Close()
			return fmt.Errorf("gateway: listen on %s: %w (use --gateway-addr, or --gateway-addr off)", o.GatewayAddr, err)
		}
	}
	closeListeners := func() {
		apiLn.Close()
		if gwLn != nil {
			gwLn.Close()
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	col, err := newCollector(o, reg, st, verifier)
	if err != nil {
		closeListeners()
		return err
	}
	api, err := queryapi.New(queryapi.Options{
		Store: st, Verifier: verifier, Gatherer: reg, Registerer: reg, Logger: o.Logger, Pprof: o.Pprof,
		Ready: func(context.Context) error {
			if s := col.GetState(); s != otelcol.StateRunning {
				return fmt.Errorf("pipeline is %s", s)
			}
			return nil
		},
	})
	if err != nil {
		closeListeners()
		return err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() {
		err := col.Run(ctx)
		if err != nil {
			err = fmt.Errorf("collector pipeline: %w", err)
		}
		errc <- err
	}()
	go func() {
		if err := srv.Serve(apiLn); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("query API: %w", err)
		}
	}()

	inst := Instance{PID: os.Getpid(), OTLPGRPC: o.GRPCAddr, OTLPHTTP: o.HTTPAddr, API: apiLn.Addr().String()}
	if !strings.HasSuffix(o.DatabaseURL, DatabaseFile) || strings.Contains(o.DatabaseURL, "://") {
		inst.DatabaseURL = o.DatabaseURL
	}
	if err := waitRunning(ctx, col, errc); err != nil {
		cancel()
		srv.Close()
		closeListeners()
		return err
	}
	var gw *gateway.Server
	if gwLn != nil {
		gw, err = newGateway(o, reg, verifier, &exportKeys{dir: filepath.Join(o.DataDir, "gateway-keys"), store: st, h: h})
		if err != nil {
			cancel()
			srv.Close()
			gwLn.Close()
			col.Shutdown()
			return err
		}
		inst.Gateway = gwLn.Addr().String()
		go func() {
			if err := gw.Serve(gwLn); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("gateway: %w", err)
			}
		}()
	}
	if b, err := json.MarshalIndent(inst, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(o.DataDir, InstanceFile), b, 0o600)
	}
	defer os.Remove(filepath.Join(o.DataDir, InstanceFile))
	printBanner(o, inst, key)
	if o.Ready != nil {
		o.Ready(inst)
	}

	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
	}
	cancel()
	shutdownCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	if gw != nil { // first: its last spans still go through the pipeline
		if err := gw.Shutdown(shutdownCtx); err != nil {
			o.Logger.Warn("gateway shutdown", "err", err)
		}
	}
	_ = srv.Shutdown(shutdownCtx)
	col.Shutdown()
	return err
}

func waitRunning(ctx context.Context, col *otelcol.Collector, errc chan error) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for col.GetState() != otelcol.StateRunning {
		select {
		case err := <-errc:
			if err == nil {
				err = errors.New("collector pipeline stopped during start")
			}
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

func newCollector(o Options, reg *prometheus.Registry, st storage.Store, v *apikey.Verifier) (*otelcol.Collector, error) {
	factories, err := collector.Components(collector.Overrides{
		Extensions: []extension.Factory{apikeyauthextension.NewFactoryWithVerifier(v)},
		Exporters:  []exporter.Factory{storageexporter.NewFactoryWithStore(st)},
	})
	if err != nil {
		return nil, err
	}
	factories.Telemetry = telemetryFactory(reg)
	cfg := PipelineConfig(o.GRPCAddr, o.HTTPAddr, o.MaxRequestBytes, o.LogLevel)
	return otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo:               collector.BuildInfo(o.Version),
		Factories:               func() (otelcol.Factories, error) { return factories, nil },
		DisableGracefulShutdown: true,
		SkipSettingGRPCLogger:   true,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              []string{"yaml:" + cfg},
			ProviderFactories: []confmap.ProviderFactory{yamlprovider.NewFactory(), envprovider.NewFactory(), fileprovider.NewFactory()},
		}},
	})
}

// PipelineConfig is the collector configuration of the embedded pipeline;
// otel-config/embedded.yaml is the same pipeline for a standalone collector.
func PipelineConfig(grpcAddr, httpAddr string, maxBytes int64, logLevel string) string {
	mib := (maxBytes + (1<<20 - 1)) >> 20
	return fmt.Sprintf(`
extensions:
  apikeyauth: {}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %q
        max_recv_msg_size_mib: %d
        auth: {authenticator: apikeyauth}
        middlewares: [{id: apikeyauth}]
      http:
        endpoint: %q
        max_request_body_size: %d
        auth: {authenticator: apikeyauth}
        middlewares: [{id: apikeyauth}]
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  genai: {}
  piiredaction: {}
exporters:
  observatory_storage: {}
  nop: {}
service:
  extensions: [apikeyauth]
  telemetry:
    logs: {level: %s}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, genai, piiredaction]
      exporters: [observatory_storage]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, genai, piiredaction]
      exporters: [nop]
`, grpcAddr, mib, httpAddr, maxBytes, logLevel)
}

func printBanner(o Options, inst Instance, key string) {
	storageDesc := "SQLite " + o.DatabaseURL
	if strings.Contains(o.DatabaseURL, "://") {
		storageDesc = "PostgreSQL"
	}
	httpHost := LocalURL(inst.OTLPHTTP)
	fmt.Fprintf(o.Out, `
LLM Observatory is running (embedded mode, storage: %s)

  OTLP gRPC    %s
  OTLP HTTP    %s
  Query API    http://%s/api/v1/calls
  Metrics      http://%s/metrics

Point any OpenTelemetry-instrumented app at it (default project's key, all scopes):

  export OTEL_EXPORTER_OTLP_ENDPOINT=%s
  export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
  export OTEL_EXPORTER_OTLP_HEADERS=x-api-key=%s

%sSend demo traffic:  observatory demo
Read it back:       curl -H 'x-api-key: %s' http://%s/api/v1/stats/overview

`, storageDesc, inst.OTLPGRPC, inst.OTLPHTTP, inst.API, inst.API, httpHost, key, gatewayHint(inst, key), key, inst.API)
}

func gatewayHint(inst Instance, key string) string {
	if inst.Gateway == "" {
		return ""
	}
	return fmt.Sprintf(`Or send OpenAI calls through the gateway (mock models unless configured):

  export OPENAI_BASE_URL=%s/v1
  export OPENAI_API_KEY=%s

`, LocalURL(inst.Gateway), key)
}

func newGateway(o Options, reg prometheus.Registerer, v *apikey.Verifier, keys *exportKeys) (*gateway.Server, error) {
	var cfg *gateway.Config
	if o.GatewayConfig != "" {
		c, err := gateway.LoadConfig(o.GatewayConfig)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	return gateway.New(gateway.Options{
		Config: cfg, Verifier: v, ExporterFor: gatewayExporters(o.GRPCAddr, keys),
		Logger: o.Logger, Registerer: reg, Version: o.Version,
	})
}

// LocalURL turns a listen address (0.0.0.0:4317, [::]:4317) into a URL a
// local client can dial (http://localhost:4317).
func LocalURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
