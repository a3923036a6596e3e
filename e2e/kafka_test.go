package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/llm-observatory/observatory/internal/queryapi"
)

// collectorProcess is `observatory collector --config FILE` with env.
type collectorProcess struct {
	cmd     *exec.Cmd
	out     *syncBuffer
	exited  chan struct{}
	metrics string // address of its Prometheus endpoint
}

// startCollector runs a collector on free ports (ports(metricsAddr)
// returns the env naming them) and waits until it is ready; a start that
// lost a port to another process is retried on new ones.
func startCollector(tb testing.TB, config string, env []string, ports func(metricsAddr string) []string) *collectorProcess {
	tb.Helper()
	for attempt := 1; ; attempt++ {
		metrics := freePort(tb)
		p := &collectorProcess{out: &syncBuffer{}, exited: make(chan struct{}), metrics: metrics}
		p.cmd = exec.Command(binary(tb), "collector", "--config", config)
		p.cmd.Env = append(append(os.Environ(), env...), ports(metrics)...)
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		require.NoError(tb, p.cmd.Start())
		go func() { _ = p.cmd.Wait(); close(p.exited) }()
		tb.Cleanup(func() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
				if code := p.cmd.ProcessState.ExitCode(); code != 0 && !strings.Contains(p.out.String(), "address already in use") {
					tb.Errorf("collector %s exited with %d after SIGTERM", config, code)
				}
			case <-time.After(15 * time.Second):
				_ = p.cmd.Process.Kill()
				tb.Errorf("collector %s did not stop within 15s of SIGTERM", config)
			}
			if tb.Failed() {
				tb.Logf("collector %s output:\n%s", config, p.out.String())
			}
		})
		if p.waitReady(tb) {
			return p
		}
		if attempt == 3 {
			tb.Fatalf("collector %s lost a free port 3 times:\n%s", config, p.out.String())
		}
	}
}

// waitReady waits for this process's "Everything is ready" line and its
// metrics endpoint; false means it exited because a port was taken.
func (p *collectorProcess) waitReady(tb testing.TB) bool {
	tb.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; {
		select {
		case <-p.exited:
			if strings.Contains(p.out.String(), "address already in use") {
				return false
			}
			tb.Fatalf("collector exited during start:\n%s", p.out.String())
		default:
		}
		if strings.Contains(p.out.String(), "Everything is ready") {
			if _, ok := p.scrape(); ok {
				return true
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("collector not ready after 90s:\n%s", p.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrape reads the collector's own Prometheus metrics.
func (p *collectorProcess) scrape() (string, bool) {
	resp, err := http.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return b.String(), resp.StatusCode == http.StatusOK
}

const spansTopic = "observatory-spans"

// scaledTopology is the scaled deployment of otel-config/ as processes: a
// kfake broker, PostgreSQL, an ingest and a sink collector.
type scaledTopology struct {
	env                []string // what every observatory process gets
	url, brokers, grpc string   // database, Kafka, ingest OTLP/gRPC
	ingest, sink       *collectorProcess
}

func startScaled(tb testing.TB) *scaledTopology {
	tb.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, spansTopic))
	require.NoError(tb, err)
	tb.Cleanup(cluster.Close)
	sc := &scaledTopology{url: postgresURL(tb), brokers: cluster.ListenAddrs()[0]}
	sc.env = []string{
		"OBSERVATORY_DATABASE_URL=" + sc.url,
		"OBSERVATORY_SECRET=" + strings.Repeat("5e", 32),
		"KAFKA_BROKERS=" + sc.brokers,
		"OBSERVATORY_DATA_DIR=" + tb.TempDir(),
	}
	sc.cli(tb, "migrate")
	port := func(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }
	sc.ingest = startCollector(tb, "../otel-config/ingest.yaml", sc.env, func(metrics string) []string {
		sc.grpc = freePort(tb)
		return []string{"OTLP_GRPC_ENDPOINT=" + sc.grpc, "OTLP_HTTP_ENDPOINT=" + freePort(tb),
			"TELEMETRY_HOST=127.0.0.1", "TELEMETRY_PORT=" + port(metrics)}
	})
	sc.sink = startCollector(tb, "../otel-config/sink.yaml", sc.env, func(metrics string) []string {
		return []string{"TELEMETRY_HOST=127.0.0.1", "TELEMETRY_PORT=" + port(metrics)}
	})
	return sc
}

// cli runs an observatory subcommand with the topology's environment.
func (sc *scaledTopology) cli(tb testing.TB, args ...string) string {
	tb.Helper()
	cmd := exec.Command(binary(tb), args...)
	cmd.Env = append(os.Environ(), sc.env...)
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, string(out))
	return string(out)
}

// key creates a key of the default project with scopes (comma-separated).
func (sc *scaledTopology) key(tb testing.TB, scopes string) string {
	tb.Helper()
	out := sc.cli(tb, "keys", "create", "--scopes", scopes, "--name", "e2e-"+scopes)
	return strings.Fields(out[strings.Index(out, "obs_"):])[0]
}

// TestKafkaPath runs the scaled topology from otel-config/ as separate
// processes: an ingest collector (OTLP with API keys → genai →
// piiredaction → Kafka) and a sink collector (Kafka consumer group →
// PostgreSQL), with kfake as the broker. Spans full of PII go in; the
// calls come out normalised in PostgreSQL, the sink's offsets are
// committed after the writes, and neither the Kafka log nor the database
// holds a raw PII value.
func TestKafkaPath(t *testing.T) {
	t.Parallel()
	sc := startScaled(t) // builds the binary first: not on the clock below
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	key, readKey := sc.key(t, "ingest"), sc.key(t, "read")
	env, url, brokers, grpcAddr, ingest := sc.env, sc.url, sc.brokers, sc.grpc, sc.ingest

	in := &instance{t: t, grpc: grpcAddr}
	spans := piiSpans(time.Now().Add(-time.Minute))
	exp := in.exporter(t, "grpc", key)
	require.NoError(t, exp.ExportSpans(ctx, spans))
	require.NoError(t, exp.ExportSpans(ctx, spans), "a redelivered span changes nothing")
	require.NoError(t, exp.ExportSpans(ctx, llmTrace(0xcf, time.Now().Add(-time.Minute), "gpt-4o-mini")))

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var stored int
	for deadline := time.Now().Add(60 * time.Second); ; {
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM spans`).Scan(&stored))
		if stored >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.Equal(t, 3, stored, "1 PII span (sent twice) + a 2-span trace, each stored once")

	var model, project, convention string
	var inTok int64
	require.NoError(t, conn.QueryRow(ctx, `SELECT request_model, project_id, input_tokens, source_convention
		FROM spans WHERE trace_id = $1`, spans[0].SpanContext().TraceID().String()).Scan(&model, &project, &inTok, &convention))
	require.Equal(t, "gpt-4o", model)
	require.Equal(t, "prj_default", project, "the tenant comes from the key at the ingest tier and survives Kafka")
	require.EqualValues(t, 80, inTok)
	require.NotEmpty(t, convention)

	var dump string
	require.NoError(t, conn.QueryRow(ctx, `SELECT string_agg(s::text, E'\n') FROM spans s`).Scan(&dump))
	require.Contains(t, dump, "EMAIL_1", "content is stored, redacted")
	for _, v := range piiValues {
		require.NotContains(t, dump, v, "raw PII in PostgreSQL")
	}

	// Every record the ingest tier produced, byte for byte.
	reader, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics(spansTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer reader.Close()
	adm := kadm.NewClient(reader)
	ends, err := adm.ListEndOffsets(ctx, spansTopic)
	require.NoError(t, err)
	var produced int64 // the topic is new: offsets start at 0
	ends.Each(func(o kadm.ListedOffset) { produced += o.Offset })
	require.Positive(t, produced)
	var kafkaBytes []byte
	var records int64
	for records < produced {
		fetches := reader.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "reading %s back: %d records so far", spansTopic, records)
		fetches.EachRecord(func(r *kgo.Record) {
			records++
			kafkaBytes = append(kafkaBytes, r.Value...)
		})
	}
	require.True(t, bytes.Contains(kafkaBytes, []byte("EMAIL_1")), "the scan sees the produced content")
	for _, v := range piiValues {
		require.False(t, bytes.Contains(kafkaBytes, []byte(v)), "raw %q in the Kafka topic", v)
	}

	// The sink marks offsets only after its writes returned: the group's
	// committed offsets reach the end of every partition.
	behind := func() []string {
		ends, err := adm.ListEndOffsets(ctx, spansTopic)
		require.NoError(t, err)
		committed, err := adm.FetchOffsets(ctx, "observatory-sink")
		require.NoError(t, err)
		var out []string
		ends.Each(func(end kadm.ListedOffset) {
			c, _ := committed.Lookup(end.Topic, end.Partition)
			if end.Offset > 0 && c.At < end.Offset {
				out = append(out, fmt.Sprintf("partition %d: committed %d of %d", end.Partition, c.At, end.Offset))
			}
		})
		return out
	}
	require.Eventually(t, func() bool { return len(behind()) == 0 }, 30*time.Second, 200*time.Millisecond,
		"the sink commits its offsets once the writes returned")

	// And not before: while spans is locked the sink's write cannot return,
	// so a new record's offset must stay uncommitted until the lock goes.
	locker, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer locker.Close(ctx)
	lock, err := locker.Begin(ctx)
	require.NoError(t, err)
	_, err = lock.Exec(ctx, `LOCK TABLE spans IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	require.NoError(t, exp.ExportSpans(ctx, llmTrace(0xce, time.Now().Add(-time.Minute), "gpt-4o")))
	require.Eventually(t, func() bool { return len(behind()) > 0 }, 30*time.Second, 100*time.Millisecond, "the new record reaches Kafka")
	time.Sleep(3 * time.Second) // several commit intervals of the consumer
	require.NotEmpty(t, behind(), "an offset was committed while its write could not have returned")
	require.NoError(t, lock.Rollback(ctx))
	require.Eventually(t, func() bool { return len(behind()) == 0 }, 30*time.Second, 200*time.Millisecond,
		"after the lock the write returns and the offset is committed")
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM spans`).Scan(&stored))
	require.Equal(t, 5, stored, "the trace written after the lock")

	// A poison record (not OTLP) is counted and skipped, not retried
	// forever: its partition moves on.
	producer, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	defer producer.Close()
	require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Topic: spansTopic, Partition: 0, Value: []byte("not OTLP")}).FirstErr())
	require.Eventually(t, func() bool { return len(behind()) == 0 }, 30*time.Second, 200*time.Millisecond,
		"the sink skips a record it can never store")
	sinkMetrics, _ := sc.sink.scrape()
	require.Contains(t, sinkMetrics, "otelcol_kafka_receiver_unmarshal_failed_spans", "the skipped record is counted")

	// The api role reads what the sink stored, with a read key.
	api := &instance{t: t, api: startRole(t, env, "query API listening", "/readyz", func(addr string) []string { return []string{"api", "--addr", addr} })}
	var tr queryapi.Trace
	require.Equal(t, http.StatusOK, api.get(readKey, "/api/v1/traces/"+spans[0].SpanContext().TraceID().String(), &tr))
	require.Len(t, tr.Spans, 1)
	require.Contains(t, string(tr.Spans[0].InputMessages), "EMAIL_1")
	require.Equal(t, http.StatusForbidden, api.get(key, "/api/v1/calls", nil), "an ingest key cannot read")

	// The standalone gateway exports its spans to the ingest tier: a call
	// through it comes out of Kafka into PostgreSQL and the api.
	gw := startRole(t, env, "gateway listening", "/healthz", func(addr string) []string {
		return []string{"gateway", "--addr", addr, "--otlp-endpoint", grpcAddr}
	})
	const gwTrace = "5bf92f3577b34da6a3ce929d0e0e4736"
	req, err := http.NewRequest(http.MethodPost, "http://"+gw+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+sc.key(t, "gateway"))
	req.Header.Set("traceparent", "00-"+gwTrace+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Eventually(t, func() bool {
		tr = queryapi.Trace{}
		return api.get(readKey, "/api/v1/traces/"+gwTrace, &tr) == http.StatusOK && len(tr.Spans) == 1
	}, 60*time.Second, 100*time.Millisecond, "the gateway's call never reached the api")
	require.Equal(t, "gpt-4o-mini", tr.Spans[0].RequestModel)
	require.Positive(t, tr.Spans[0].TotalTokens)

	metrics, _ := ingest.scrape()
	require.Contains(t, metrics, `outcome="ok"`, "ingest counts accepted requests")
	t.Logf("kafka path: %d records on %s, %d spans stored", records, spansTopic, stored)
}

// startRole runs `observatory <args(addr)>` on a free address with env
// and waits until it logged logLine and path answers 200 (its own log line
// first: another test's process may have taken the freed port); a start
// that lost its port is retried on a new one. It returns the address.
func startRole(tb testing.TB, env []string, logLine, path string, args func(addr string) []string) string {
	tb.Helper()
start:
	for attempt := 1; ; attempt++ {
		addr, out := freePort(tb), &syncBuffer{}
		cmd := exec.Command(binary(tb), args(addr)...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = out, out
		require.NoError(tb, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		tb.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				tb.Errorf("observatory %s did not stop within 15s of SIGTERM", args(addr)[0])
			}
			if tb.Failed() {
				tb.Logf("observatory %s output:\n%s", args(addr)[0], out.String())
			}
		})
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			select {
			case <-exited:
				require.Contains(tb, out.String(), "address already in use", "observatory %s exited during start", args(addr)[0])
				require.Less(tb, attempt, 3, "lost a free port 3 times")
				continue start
			default:
			}
			if strings.Contains(out.String(), logLine) {
				if resp, err := http.Get("http://" + addr + path); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						return addr
					}
				}
			}
			require.True(tb, time.Now().Before(deadline), "observatory %s not ready after 90s:\n%s", args(addr)[0], out.String())
		}
	}
}
