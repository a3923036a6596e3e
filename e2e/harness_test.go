// Package e2e starts the real observatory binary as a user would and talks
// to it over the network: OTLP through the opentelemetry-go exporters, the
// query API over HTTP, SQLite and real PostgreSQL underneath.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/storage/storagetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/observatory once per test process.
func binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "observatory-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "observatory")
		cmd := exec.Command("go", "build", "-o", binPath, "../cmd/observatory")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	require.NoError(tb, buildErr)
	return binPath
}

func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the process's writers and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type instance struct {
	t                    testing.TB
	dataDir, databaseURL string
	grpc, http, api, gw  string
	key                  string
	cmd                  *exec.Cmd
	out                  *syncBuffer
	exited               chan struct{}
}

// stop ends the process gracefully (SIGTERM) and waits for it.
func (in *instance) stop(tb testing.TB) {
	tb.Helper()
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(15 * time.Second):
		tb.Fatalf("observatory did not stop within 15s of SIGTERM")
	}
}

// startInstance runs `observatory run` on free ports and waits until ready.
func startInstance(tb testing.TB, databaseURL string, extra ...string) *instance {
	tb.Helper()
	return startInstanceIn(tb, tb.TempDir(), databaseURL, extra...)
}

// startInstanceIn is startInstance on an existing data directory.
func startInstanceIn(tb testing.TB, dataDir, databaseURL string, extra ...string) *instance {
	tb.Helper()
	in := &instance{t: tb, dataDir: dataDir, databaseURL: databaseURL,
		grpc: freePort(tb), http: freePort(tb), api: freePort(tb), gw: freePort(tb), out: &syncBuffer{}}
	args := []string{"run", "--data-dir", in.dataDir, "--otlp-grpc-addr", in.grpc,
		"--otlp-http-addr", in.http, "--api-addr", in.api, "--gateway-addr", in.gw}
	if databaseURL != "" {
		args = append(args, "--database-url", databaseURL)
	}
	in.cmd = exec.Command(binary(tb), append(args, extra...)...)
	in.cmd.Stdout, in.cmd.Stderr = in.out, in.out
	require.NoError(tb, in.cmd.Start())
	exited := make(chan struct{})
	in.exited = exited
	go func() { _ = in.cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = in.cmd.Process.Kill()
			tb.Errorf("observatory did not stop within 15s of SIGTERM")
		}
		if tb.Failed() {
			tb.Logf("observatory output:\n%s", in.out.String())
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-exited:
			tb.Fatalf("observatory exited during start:\n%s", in.out.String())
		default:
		}
		resp, err := http.Get("http://" + in.api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("observatory not ready after 90s:\n%s", in.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	key, err := os.ReadFile(filepath.Join(in.dataDir, "default-api-key"))
	require.NoError(tb, err)
	in.key = strings.TrimSpace(string(key))
	require.Contains(tb, in.out.String(), "OTEL_EXPORTER_OTLP_HEADERS=x-api-key="+in.key, "the banner prints a copy-paste environment")
	return in
}

// cli runs another observatory subcommand against the same data directory.
func (in *instance) cli(args ...string) (string, error) {
	args = append(args, "--data-dir", in.dataDir)
	if in.databaseURL != "" {
		args = append(args, "--database-url", in.databaseURL)
	}
	out, err := exec.Command(binary(in.t), args...).CombinedOutput()
	return string(out), err
}

// get calls the query API with key and decodes JSON into v (if not nil).
func (in *instance) get(key, path string, v any) int {
	in.t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+in.api+path, nil)
	require.NoError(in.t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(in.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(in.t, err)
	if v != nil && resp.StatusCode == http.StatusOK {
		require.NoError(in.t, json.Unmarshal(b, v), string(b))
	}
	return resp.StatusCode
}

func (in *instance) metrics() string {
	in.t.Helper()
	resp, err := http.Get("http://" + in.api + "/metrics")
	require.NoError(in.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// postgresURL returns a URL of a fresh schema on the test database, or
// skips (fails under CI=true) when TEST_DATABASE_URL is unset.
func postgresURL(tb testing.TB) string {
	tb.Helper()
	base := storagetest.PostgresURL(tb)
	schema := fmt.Sprintf("e2e_%d", time.Now().UnixNano())
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	require.NoError(tb, err)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(tb, err)
	conn.Close(ctx)
	tb.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
