package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestServeShutdownFlushesSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	cfg := DefaultConfig()
	cfg.Telemetry.FlushInterval = time.Hour // only Shutdown can flush
	gw, err := New(Options{Config: cfg, Verifier: testVerifier(t), Exporter: keepAlive{exp}, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ln) }()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/chat/completions", strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer "+keyA)
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	client.CloseIdleConnections()
	require.Empty(t, exp.GetSpans())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, gw.Shutdown(ctx))
	require.Len(t, exp.GetSpans(), 1, "Shutdown exported the queued span")
	require.ErrorIs(t, <-served, http.ErrServerClosed)
	require.NoError(t, gw.Shutdown(ctx), "a second Shutdown is harmless")
	gw.o.HTTPClient.CloseIdleConnections()
}

func TestServeDropsSlowHeaders(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Server.ReadHeaderTimeout = 200 * time.Millisecond
	gw, err := New(Options{Config: cfg, Verifier: testVerifier(t), ExporterFor: (&exporters{}).For, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = gw.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, gw.Shutdown(ctx))
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprint(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n") // and never finish the headers
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = io.ReadAll(conn)
	require.False(t, errors.Is(err, context.DeadlineExceeded))
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server closed the connection")
	require.Less(t, time.Since(start), 3*time.Second)
}
