package gateway

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Service names on the resource of the spans the gateway emits.
const (
	ServiceGateway = "observatory-gateway"
	ServiceIngest  = "observatory-ingest"
)

// spanQueue is the export path of every span the gateway makes: a bounded
// FIFO shared by all tenants, drained in batches by one goroutine that
// exports each tenant's spans through that tenant's exporter and retries
// failed exports with backoff (so a briefly unavailable collector loses
// nothing), up to a maximum elapsed time.
//
// Limits: at most capacity spans are queued or in flight. Gateway spans
// that do not fit are dropped and counted; ingest spans are only created
// after reserve() made room for them, so they are never dropped for lack
// of room. A batch whose export keeps failing for retryMaxElapsed is
// dropped (counted and logged). Spans are held in memory only: a process
// crash loses what is queued.
type spanQueue struct {
	capacity        int
	batchSize       int
	flushInterval   time.Duration
	retryMaxElapsed time.Duration
	exporterFor     ExporterFunc
	log             *slog.Logger
	m               *metrics

	mu        sync.Mutex
	items     []queuedSpan
	inflight  int
	reserved  int
	closed    bool
	exporters map[Tenant]sdktrace.SpanExporter
	idle      *sync.Cond // signalled when items and inflight are both empty

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	// exportCtx is cancelled when Shutdown's deadline passes.
	exportCtx    context.Context
	exportCancel context.CancelFunc
}

type queuedSpan struct {
	tenant Tenant
	span   sdktrace.ReadOnlySpan
}

func newSpanQueue(cfg TelemetryConfig, exporterFor ExporterFunc, log *slog.Logger, m *metrics) *spanQueue {
	q := &spanQueue{
		capacity: cfg.QueueSpans, batchSize: cfg.BatchSize, flushInterval: cfg.FlushInterval,
		retryMaxElapsed: cfg.RetryMaxElapsed, exporterFor: exporterFor, log: log, m: m,
		exporters: map[Tenant]sdktrace.SpanExporter{},
		wake:      make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	q.idle = sync.NewCond(&q.mu)
	q.exportCtx, q.exportCancel = context.WithCancel(context.Background())
	go q.run()
	return q
}

// push enqueues a span. Reserved pushes (ingest) always succeed unless
// the queue is closed.
func (q *spanQueue) push(t Tenant, s sdktrace.ReadOnlySpan, reserved bool) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.m.spansDropped.WithLabelValues("shutdown").Inc()
		return false
	}
	if reserved {
		if q.reserved > 0 {
			q.reserved--
		}
	} else if len(q.items)+q.inflight+q.reserved >= q.capacity {
		q.mu.Unlock()
		q.m.spansDropped.WithLabelValues("queue_full").Inc()
		return false
	}
	q.items = append(q.items, queuedSpan{tenant: t, span: s})
	n := len(q.items)
	q.mu.Unlock()
	q.m.queueSpans.Inc()
	if n >= q.batchSize {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// reserve makes room for n spans that must not be dropped; false when the
// queue cannot take them now.
func (q *spanQueue) reserve(n int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.items)+q.inflight+q.reserved+n > q.capacity {
		return false
	}
	q.reserved += n
	return true
}

// release gives back reserved room that was not used.
func (q *spanQueue) release(n int) {
	q.mu.Lock()
	q.reserved = max(0, q.reserved-n)
	q.mu.Unlock()
}

func (q *spanQueue) run() {
	defer close(q.done)
	t := time.NewTicker(q.flushInterval)
	defer t.Stop()
	for {
		select {
		case <-q.stop:
			q.drain()
			return
		case <-q.wake:
		case <-t.C:
		}
		q.drain()
	}
}

// drain exports batches until the queue is empty.
func (q *spanQueue) drain() {
	for {
		q.mu.Lock()
		n := min(len(q.items), q.batchSize)
		if n == 0 {
			if q.inflight == 0 {
				q.idle.Broadcast()
			}
			q.mu.Unlock()
			return
		}
		batch := make([]queuedSpan, n)
		copy(batch, q.items)
		clear(q.items[:n])
		q.items = q.items[n:]
		if len(q.items) == 0 {
			q.items = nil
		}
		q.inflight += n
		q.mu.Unlock()
		q.m.queueSpans.Sub(float64(n))

		byTenant := map[Tenant][]sdktrace.ReadOnlySpan{}
		var order []Tenant
		for _, it := range batch {
			if _, ok := byTenant[it.tenant]; !ok {
				order = append(order, it.tenant)
			}
			byTenant[it.tenant] = append(byTenant[it.tenant], it.span)
		}
		for _, t := range order {
			q.export(t, byTenant[t])
		}
		q.mu.Lock()
		q.inflight -= n
		q.mu.Unlock()
	}
}

func (q *spanQueue) exporter(ctx context.Context, t Tenant) (sdktrace.SpanExporter, error) {
	q.mu.Lock()
	e, ok := q.exporters[t]
	q.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := q.exporterFor(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("create exporter for project %s: %w", t.ProjectID, err)
	}
	if e == nil {
		return nil, fmt.Errorf("create exporter for project %s: ExporterFor returned nil", t.ProjectID)
	}
	q.mu.Lock()
	q.exporters[t] = e
	q.mu.Unlock()
	return e, nil
}

// export sends spans with retries: exponential backoff with jitter from
// 250ms to 15s, until retryMaxElapsed or shutdown's deadline.
func (q *spanQueue) export(t Tenant, spans []sdktrace.ReadOnlySpan) {
	start := time.Now()
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := q.exportOnce(t, spans)
		if err == nil {
			q.m.spansExported.Add(float64(len(spans)))
			return
		}
		q.m.exportFailures.Inc()
		elapsed := time.Since(start)
		if elapsed >= q.retryMaxElapsed || q.exportCtx.Err() != nil {
			q.m.spansDropped.WithLabelValues("export_failed").Add(float64(len(spans)))
			q.log.Error("gateway: dropping spans after failed exports", "project", t.ProjectID, "spans", len(spans), "attempts", attempt, "error", err)
			return
		}
		if attempt == 1 {
			q.log.Warn("gateway: span export failed; retrying", "project", t.ProjectID, "spans", len(spans), "error", err)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		wait = min(wait, q.retryMaxElapsed-elapsed)
		backoff = min(backoff*2, 15*time.Second)
		tm := time.NewTimer(wait)
		select {
		case <-tm.C:
		case <-q.exportCtx.Done():
			tm.Stop()
		}
	}
}

func (q *spanQueue) exportOnce(t Tenant, spans []sdktrace.ReadOnlySpan) error {
	ctx, cancel := context.WithTimeout(q.exportCtx, 30*time.Second)
	defer cancel()
	e, err := q.exporter(ctx, t)
	if err != nil {
		return err
	}
	err = e.ExportSpans(ctx, spans)
	if isAuthRejection(err) {
		// The export key was revoked or replaced: forget this exporter so
		// the retry asks ExporterFor again (which may issue a fresh key)
		// instead of failing until a restart.
		q.mu.Lock()
		if q.exporters[t] == e {
			delete(q.exporters, t)
		}
		q.mu.Unlock()
		_ = e.Shutdown(ctx)
	}
	return err
}

// isAuthRejection tells whether the collector refused the exporter's key:
// gRPC Unauthenticated/PermissionDenied, or HTTP 401/403.
func isAuthRejection(err error) bool {
	if err == nil {
		return false
	}
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied:
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "401 Unauthorized") || strings.Contains(msg, "403 Forbidden")
}

// flush waits until every span queued so far is exported (or dropped).
func (q *spanQueue) flush(ctx context.Context) error {
	select {
	case q.wake <- struct{}{}:
	default:
	}
	waited := make(chan struct{})
	go func() {
		q.mu.Lock()
		for (len(q.items) > 0 || q.inflight > 0) && ctx.Err() == nil {
			q.idle.Wait()
		}
		q.mu.Unlock()
		close(waited)
	}()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		// Wake the waiter so it does not outlive us for long.
		q.mu.Lock()
		q.idle.Broadcast()
		q.mu.Unlock()
		return ctx.Err()
	}
}

// shutdown stops accepting spans, exports what is queued (retrying until
// ctx's deadline) and shuts the exporters down.
func (q *spanQueue) shutdown(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()
	stopExports := context.AfterFunc(ctx, q.exportCancel)
	defer stopExports()
	close(q.stop)
	var err error
	select {
	case <-q.done:
	case <-ctx.Done():
		q.exportCancel()
		<-q.done
		err = fmt.Errorf("gateway: spans left unexported at shutdown: %w", ctx.Err())
	}
	q.exportCancel()
	q.mu.Lock()
	exps := q.exporters
	q.exporters = map[Tenant]sdktrace.SpanExporter{}
	q.idle.Broadcast()
	q.mu.Unlock()
	for _, e := range exps {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if serr := e.Shutdown(sctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("gateway: shut down exporter: %w", serr))
		}
		cancel()
	}
	return err
}

// tenantProcessor hands a tenant's ended spans to the queue.
type tenantProcessor struct {
	q        *spanQueue
	tenant   Tenant
	reserved bool
}

func (p *tenantProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (p *tenantProcessor) OnEnd(s sdktrace.ReadOnlySpan)                   { p.q.push(p.tenant, s, p.reserved) }
func (p *tenantProcessor) Shutdown(context.Context) error                  { return nil }
func (p *tenantProcessor) ForceFlush(ctx context.Context) error            { return p.q.flush(ctx) }

// idsKey carries span ids chosen before the span is created.
type idsKey struct{}

type presetIDs struct {
	trace trace.TraceID
	span  trace.SpanID
}

func withIDs(ctx context.Context, tid trace.TraceID, sid trace.SpanID) context.Context {
	return context.WithValue(ctx, idsKey{}, presetIDs{tid, sid})
}

// idGenerator uses ids preset in the context, else random ones. Presetting
// lets the gateway pass its span's id upstream in traceparent before the
// span exists, and gives ingest records deterministic ids.
type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if ids, ok := ctx.Value(idsKey{}).(presetIDs); ok && ids.trace.IsValid() && ids.span.IsValid() {
		return ids.trace, ids.span
	}
	return newTraceID(), newSpanID()
}

func (idGenerator) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	if ids, ok := ctx.Value(idsKey{}).(presetIDs); ok && ids.span.IsValid() {
		return ids.span
	}
	return newSpanID()
}

func newTraceID() trace.TraceID {
	var t trace.TraceID
	for !t.IsValid() {
		binary.BigEndian.PutUint64(t[:8], rand.Uint64())
		binary.BigEndian.PutUint64(t[8:], rand.Uint64())
	}
	return t
}

func newSpanID() trace.SpanID {
	var s trace.SpanID
	for !s.IsValid() {
		binary.BigEndian.PutUint64(s[:], rand.Uint64())
	}
	return s
}

// tracers keeps one TracerProvider per (tenant, kind), all feeding q.
type tracers struct {
	q       *spanQueue
	version string
	mu      sync.Mutex
	tps     map[tracerKey]*sdktrace.TracerProvider
}

type tracerKey struct {
	t      Tenant
	ingest bool
}

func (ts *tracers) tracer(t Tenant, ingest bool) trace.Tracer {
	k := tracerKey{t, ingest}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if tp, ok := ts.tps[k]; ok {
		return tp.Tracer("github.com/llm-observatory/observatory/gateway")
	}
	svc := ServiceGateway
	if ingest {
		svc = ServiceIngest
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", svc)}
	if ts.version != "" {
		attrs = append(attrs, attribute.String("service.version", ts.version))
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
		sdktrace.WithSpanProcessor(&tenantProcessor{q: ts.q, tenant: t, reserved: ingest}),
		sdktrace.WithIDGenerator(idGenerator{}),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithRawSpanLimits(sdktrace.SpanLimits{
			AttributeValueLengthLimit: -1, AttributeCountLimit: 256,
			EventCountLimit: 16, LinkCountLimit: 4, AttributePerEventCountLimit: 16, AttributePerLinkCountLimit: 16,
		}),
	)
	ts.tps[k] = tp
	return tp.Tracer("github.com/llm-observatory/observatory/gateway")
}

func (ts *tracers) shutdown(ctx context.Context) {
	ts.mu.Lock()
	tps := ts.tps
	ts.tps = map[tracerKey]*sdktrace.TracerProvider{}
	ts.mu.Unlock()
	for _, tp := range tps {
		_ = tp.Shutdown(ctx)
	}
}
