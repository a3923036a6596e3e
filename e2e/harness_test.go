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

// startInstanceIn is startInstance on an existing data directory. Free
// ports are only free until someone else binds them, so a start that lost
// a port to another test is retried on new ones.
func startInstanceIn(tb testing.TB, dataDir, databaseURL string, extra ...string) *instance {
	tb.Helper()
	for attempt := 1; ; attempt++ {
		in, lostPort := tryStart(tb, dataDir, databaseURL, extra...)
		if !lostPort {
			return in
		}
		if attempt == 3 {
			tb.Fatalf("observatory lost a free port to another process 3 times:\n%s", in.out.String())
		}
		tb.Logf("attempt %d lost a port to another process; retrying on new ports", attempt)
	}
}

func tryStart(tb testing.TB, dataDir, databaseURL string, extra ...string) (in *instance, lostPort bool) {
	tb.Helper()
	in = &instance{t: tb, dataDir: dataDir, databaseURL: databaseURL,
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
	// Ready means this process printed its banner (everything listens) and
	// its API answers: /readyz alone could be another test's process that
	// took a port between freePort and our bind.
	const banner = "OTEL_EXPORTER_OTLP_HEADERS="
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-exited:
			if strings.Contains(in.out.String(), "address already in use") {
				return in, true
			}
			tb.Fatalf("observatory exited during start:\n%s", in.out.String())
		default:
		}
		if strings.Contains(in.out.String(), banner) {
			resp, err := http.Get("http://" + in.api + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
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
	require.Contains(tb, in.out.String(), banner+"x-api-key="+in.key, "the banner prints a copy-paste environment")
	return in, false
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
// It reports errors with Errorf, never FailNow, so it is safe inside
// require.Eventually's condition (another goroutine); 0 means no answer.
func (in *instance) get(key, path string, v any) int {
	req, err := http.NewRequest(http.MethodGet, "http://"+in.api+path, nil)
	if err != nil {
		in.t.Errorf("GET %s: %v", path, err)
		return 0
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Errorf("GET %s: %v", path, err)
		return 0
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		in.t.Errorf("GET %s: read body: %v", path, err)
		return 0
	}
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, v); err != nil {
			in.t.Errorf("GET %s: %v: %s", path, err, b)
		}
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
	tb.Cleanup(func() { storagetest.DropPostgresSchema(tb, base, schema) })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
