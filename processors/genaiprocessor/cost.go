package genaiprocessor

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// costResult is what computeCost decided for one span.
type costResult struct {
	source       string // "" = no cost attributes
	input        float64
	output       float64
	total        float64
	tableVersion string
	unpriced     bool
}

// computeCost prices a normalised span:
//   - a cost the span carried itself (client_cost field) wins: source
//     client, total only;
//   - otherwise a span of a priced operation is priced from the table by its
//     response model, else its request model (and provider), at the price
//     in effect when the span started: source price_table;
//   - a priced operation whose model is unknown (or absent) is flagged
//     unpriced, never given a silent 0.
//
// Spans of other operations (agents, tools) get no cost attributes.
func (p *genaiProcessor) computeCost(w *spanWork, start time.Time) costResult {
	m := p.mapping
	if cc := &w.res[m.pos[fieldClientCost]]; cc.set {
		return costResult{source: llmcall.CostSourceClient, total: roundUSD(cc.f)}
	}
	op := &w.res[m.pos[fieldOperation]]
	if _, priced := m.priced[op.s]; !op.set || !priced {
		return costResult{}
	}
	provider := ""
	if r := &w.res[m.pos[fieldProvider]]; r.set {
		provider = r.s
	}
	var (
		row   PriceRow
		found bool
	)
	for _, name := range [...]string{fieldResponseModel, fieldRequestModel} {
		if r := &w.res[m.pos[name]]; r.set {
			if row, found = p.prices.Lookup(r.s, provider, start); found {
				break
			}
		}
	}
	if !found {
		w.stats.unpriced++
		return costResult{unpriced: true}
	}
	c := row.Cost(Usage{
		Input:      w.res[m.pos[fieldInputTokens]].i,
		Output:     w.res[m.pos[fieldOutputTokens]].i,
		CacheRead:  w.res[m.pos[fieldCacheRead]].i,
		CacheWrite: w.res[m.pos[fieldCacheWrite]].i,
		Reasoning:  w.res[m.pos[fieldReasoning]].i,
	})
	return costResult{
		source:       llmcall.CostSourcePriceTable,
		input:        c.Input,
		output:       c.Output,
		total:        c.Total,
		tableVersion: row.TableVersion,
	}
}

func (c costResult) write(attrs pcommon.Map) {
	switch {
	case c.unpriced:
		attrs.PutBool(llmcall.AttrUnpriced, true)
	case c.source == llmcall.CostSourceClient:
		attrs.PutDouble(llmcall.AttrCostTotal, c.total)
		attrs.PutStr(llmcall.AttrCostSource, c.source)
	case c.source == llmcall.CostSourcePriceTable:
		attrs.PutDouble(llmcall.AttrCostInput, c.input)
		attrs.PutDouble(llmcall.AttrCostOutput, c.output)
		attrs.PutDouble(llmcall.AttrCostTotal, c.total)
		attrs.PutStr(llmcall.AttrCostSource, c.source)
		attrs.PutStr(attrPriceTableVersion, c.tableVersion)
	}
}
