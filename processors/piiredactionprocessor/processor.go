package piiredactionprocessor

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// piiProcessor holds what the traces and logs processing functions share.
// Everything but the worker pool and the telemetry is read-only after
// construction, so it is safe for concurrent use.
type piiProcessor struct {
	cfg     *Config
	logger  *zap.Logger
	reg     *registry
	det     *detector
	custom  []customDetector
	allow   *allowList
	keys    *keyRules
	hashKey []byte
	modes   map[string]Mode // per project
	tel     *telemetry
	workers sync.Pool
}

func newPIIProcessor(set processor.Settings, cfg *Config) (*piiProcessor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("piiredaction processor: %w", err)
	}
	custom, err := newCustomDetectors(cfg.CustomEntities)
	if err != nil {
		return nil, fmt.Errorf("piiredaction processor: %w", err)
	}
	allow, err := newAllowList(cfg.AllowList)
	if err != nil {
		return nil, fmt.Errorf("piiredaction processor: %w", err)
	}
	reg := newRegistry(cfg.CustomEntities)
	tel, err := newTelemetry(set.TelemetrySettings, reg)
	if err != nil {
		return nil, fmt.Errorf("piiredaction processor: telemetry: %w", err)
	}
	p := &piiProcessor{
		cfg:    cfg,
		logger: set.Logger,
		reg:    reg,
		det:    newDetector(cfg.Entities),
		custom: custom,
		allow:  allow,
		keys:   newKeyRules(cfg),
		modes:  map[string]Mode{},
		tel:    tel,
	}
	if cfg.HashKey != "" {
		p.hashKey = []byte(string(cfg.HashKey))
	}
	for id, pc := range cfg.Projects {
		p.modes[id] = pc.Mode
	}
	p.workers.New = func() any { return newWorker(p) }
	return p, nil
}

func (p *piiProcessor) start(context.Context, component.Host) error {
	p.logger.Info("PII redaction processor started",
		zap.String("mode", string(p.cfg.Mode)),
		zap.Strings("entities", p.reg.names),
		zap.Int("project_overrides", len(p.modes)),
	)
	return nil
}

func (p *piiProcessor) shutdown(context.Context) error {
	if p.tel != nil {
		p.tel.shutdown()
	}
	return nil
}

// modeFor returns the mode of a resource's project.
func (p *piiProcessor) modeFor(res pcommon.Resource) Mode {
	if len(p.modes) > 0 {
		if v, ok := res.Attributes().Get(llmcall.AttrProjectID); ok {
			if m, ok := p.modes[v.Str()]; ok {
				return m
			}
		}
	}
	return p.cfg.Mode
}

func (p *piiProcessor) getWorker() *worker {
	w := p.workers.Get().(*worker)
	w.stats.reset()
	return w
}

// processTraces redacts every span: attributes, event and link attributes
// and the status message.
func (p *piiProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	w := p.getWorker()
	defer p.workers.Put(w)
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		mode := p.modeFor(rs.Resource())
		mi := mode.index()
		if p.cfg.ScanResourceAttributes {
			w.reset(mode)
			w.processAttrs(rs.Resource().Attributes(), false, false)
			w.flushCounts()
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				w.reset(mode)
				w.processSpan(spans.At(k))
				w.stats.spans[mi]++
				if w.changed {
					w.stats.spansRedacted[mi]++
				}
			}
		}
	}
	p.tel.record(ctx, &w.stats)
	return td, nil
}

func (w *worker) processSpan(span ptrace.Span) {
	attrs := span.Attributes()
	w.processAttrs(attrs, false, true)
	events := span.Events()
	for i := 0; i < events.Len(); i++ {
		ev := events.At(i)
		w.processAttrs(ev.Attributes(), strings.HasPrefix(ev.Name(), "gen_ai."), false)
	}
	links := span.Links()
	for i := 0; i < links.Len(); i++ {
		w.processAttrs(links.At(i).Attributes(), false, false)
	}
	if msg := span.Status().Message(); msg != "" {
		if ns, changed := w.redact(msg, 0); changed {
			span.Status().SetMessage(ns)
		}
	}
	w.writeSummary(attrs)
}

// processLogs redacts every log record: attributes and body. The body of a
// GenAI event (event name gen_ai.*) is content: dropped in none mode.
func (p *piiProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	w := p.getWorker()
	defer p.workers.Put(w)
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		mode := p.modeFor(rl.Resource())
		mi := mode.index()
		if p.cfg.ScanResourceAttributes {
			w.reset(mode)
			w.processAttrs(rl.Resource().Attributes(), false, false)
			w.flushCounts()
		}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				w.reset(mode)
				w.processLogRecord(lrs.At(k))
				w.stats.logs[mi]++
				if w.changed {
					w.stats.logsRedacted[mi]++
				}
			}
		}
	}
	p.tel.record(ctx, &w.stats)
	return ld, nil
}

func (w *worker) processLogRecord(lr plog.LogRecord) {
	attrs := lr.Attributes()
	gen := strings.HasPrefix(lr.EventName(), "gen_ai.")
	if !gen {
		if v, ok := attrs.Get("event.name"); ok && strings.HasPrefix(v.Str(), "gen_ai.") {
			gen = true
		}
	}
	w.processAttrs(attrs, gen, true)
	body := lr.Body()
	if gen && w.mode == ModeNone && body.Type() != pcommon.ValueTypeEmpty {
		w.countOnly(body, keyClass{})
		pcommon.NewValueEmpty().CopyTo(body)
		w.changed = true
	} else {
		w.processValue(body, keyClass{}, 0)
	}
	w.writeSummary(attrs)
}
