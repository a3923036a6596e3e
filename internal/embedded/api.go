package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/queryapi"
	"github.com/llm-observatory/observatory/internal/storage"
)

// APIOptions configures RunAPI, the standalone query API role.
type APIOptions struct {
	RoleOptions
	Addr  string // [127.0.0.1:8090]
	Pprof bool
}

// RunAPI serves the query API alone (scaled mode: sinks write, this reads)
// until ctx is done. Keys with the read scope are verified against the same
// database and server secret as the collectors'.
func RunAPI(ctx context.Context, o APIOptions) error {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8090"
	}
	st, _, v, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	api, err := queryapi.New(queryapi.Options{
		Store: st, Verifier: v, Gatherer: reg, Registerer: reg, Logger: o.Logger, Pprof: o.Pprof,
		Ready: st.Ping,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("query API: listen on %s: %w (use --addr)", o.Addr, err)
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	o.Logger.Info("query API listening", "addr", ln.Addr().String())
	return serveUntil(ctx, func() error { return srv.Serve(ln) }, srv.Shutdown)
}

// serveUntil runs serve until ctx is done or serve fails, then shuts down
// gracefully within 10 s.
func serveUntil(ctx context.Context, serve func() error, shutdown func(context.Context) error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, shutdown(sctx))
}

// RoleOptions are what every standalone role (gateway, api) shares: where
// keys are verified and which logger to use.
type RoleOptions struct {
	DataDir, DatabaseURL, Secret string
	Logger                       *slog.Logger
}

// open applies the defaults and opens storage, the key hasher and a
// verifier. Callers close the store.
func (r *RoleOptions) open(ctx context.Context) (storage.Store, *apikey.Hasher, *apikey.Verifier, error) {
	if r.DataDir == "" {
		r.DataDir = "data"
	}
	if r.DatabaseURL == "" {
		r.DatabaseURL = filepath.Join(r.DataDir, DatabaseFile)
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if err := RequireSharedSecret(r.DataDir, r.DatabaseURL, r.Secret); err != nil {
		return nil, nil, nil, err
	}
	st, h, err := OpenTenancy(ctx, r.DataDir, r.DatabaseURL, r.Secret, r.Logger)
	if err != nil {
		return nil, nil, nil, err
	}
	v, err := apikey.NewVerifier(apikey.VerifierOptions{Lookup: st, Hasher: h})
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, h, v, nil
}

// RequireSharedSecret refuses to make up a server secret for a process
// that shares a PostgreSQL database with others (standalone roles, key
// management): keys hashed or verified with a secret of its own would not
// match the collectors'. A secret already in the data directory is used.
func RequireSharedSecret(dataDir, databaseURL, secret string) error {
	if !strings.Contains(databaseURL, "://") || secret != "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dataDir, SecretFile)); err == nil {
		return nil
	}
	return fmt.Errorf("set OBSERVATORY_SECRET to the server secret the collectors use (hex, the same in every " +
		"process that verifies keys): a secret made up here would not match theirs")
}
