package genaiprocessor

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed prices.yaml
var embeddedPrices []byte

// EmbeddedPriceFile names the embedded table in rows and errors.
const EmbeddedPriceFile = "prices.yaml (embedded)"

// PriceRow is one price of a model, in USD per 1 million tokens, in effect
// from EffectiveDate until the model's next row.
type PriceRow struct {
	// Model is the name matched against a span's model (lower-case). A
	// name "provider/model" applies only to spans of that provider.
	Model    string
	Provider string // informational, as written in the file
	// EffectiveDate is the first day (UTC) the row applies; zero: no start
	// date (the row also applies before any dated row).
	EffectiveDate time.Time
	Input         float64 // uncached input tokens
	Output        float64 // output tokens, reasoning included
	CachedInput   float64 // cache-read input tokens (Input when not set)
	CacheWrite    float64 // cache-write input tokens (Input when not set)
	Reasoning     float64 // reasoning output tokens (Output when not set)
	// TableVersion is the version of the table (file) the row comes from.
	TableVersion string
	// File is the file the row was read from (EmbeddedPriceFile for the
	// embedded table).
	File string
}

// Table is a versioned model price table: the embedded prices.yaml
// (PriceTable), a file (LoadPriceFile) or one merged over another (Merge).
// It is read-only and safe for concurrent use.
type Table struct {
	versions []string
	// models: lower-case name -> rows by effective date, ascending.
	models map[string][]PriceRow
	strip  []string
	// scoped: providers with "provider/model" rows.
	scoped map[string]bool
}

// Usage is the token usage a cost is computed from (input includes cached
// tokens, output includes reasoning tokens).
type Usage struct {
	Input, Output, CacheRead, CacheWrite, Reasoning int64
}

// Cost is a computed cost in USD, rounded to 1e-10.
type Cost struct {
	Input, Output, Total float64
}

// PriceTable returns the embedded price table.
func PriceTable() (Table, error) {
	return parsePrices(embeddedPrices, EmbeddedPriceFile)
}

// LoadPriceFile reads and validates a price table file (the format of the
// embedded prices.yaml). The error lists every problem found, each as
// "file:model:field: problem" (or "file:key: problem" for top-level keys).
func LoadPriceFile(path string) (Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Table{}, fmt.Errorf("reading price table file: %w", err)
	}
	return parsePrices(data, path)
}

// Merge returns t with over merged over it: a model listed in over replaces
// all of t's rows for that model; the versions of both are kept, t's first.
func (t Table) Merge(over Table) Table {
	out := Table{
		versions: append(append([]string(nil), t.versions...), over.versions...),
		models:   make(map[string][]PriceRow, len(t.models)+len(over.models)),
		strip:    append([]string(nil), t.strip...),
	}
	for k, v := range t.models {
		out.models[k] = v
	}
	for k, v := range over.models {
		out.models[k] = v
	}
	for _, p := range over.strip {
		if !contains(out.strip, p) {
			out.strip = append(out.strip, p)
		}
	}
	out.indexScopes()
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// Versions lists the versions of the tables merged into t, in merge order.
func (t Table) Versions() []string { return append([]string(nil), t.versions...) }

// Len is the number of models priced.
func (t Table) Len() int { return len(t.models) }

// Rows lists every price row, by provider, model and effective date.
func (t Table) Rows() []PriceRow {
	var rows []PriceRow
	for _, rs := range t.models {
		rows = append(rows, rs...)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return a.EffectiveDate.Before(b.EffectiveDate)
	})
	return rows
}

// Lookup finds the price of a model for a call made at time at. The model
// is matched case-insensitively: exactly, then by the longest listed name
// that is a prefix of it followed by '-', '@', ':' or '_'
// (gpt-4o-mini-2024-07-18 -> gpt-4o-mini); each first as "provider/model"
// (rows that apply only to that provider), then as the bare model; then the
// same after removing one of the table's strip_prefixes (Bedrock's region
// and vendor prefixes: us.anthropic.claude-... -> claude-...), then on the
// part after the last '/' (openai/gpt-4o -> gpt-4o). Of the model's rows,
// the last one effective at at applies (the earliest when at is before
// all of them).
func (t Table) Lookup(model, provider string, at time.Time) (PriceRow, bool) {
	rows := t.lookupRows(model, provider)
	if rows == nil {
		return PriceRow{}, false
	}
	return rowAt(rows, at), true
}

func rowAt(rows []PriceRow, at time.Time) PriceRow {
	best := rows[0]
	for _, r := range rows[1:] {
		if !r.EffectiveDate.After(at) {
			best = r
		}
	}
	return best
}

func (t Table) lookupRows(model, provider string) []PriceRow {
	model = strings.ToLower(strings.TrimSpace(model))
	provider = strings.ToLower(strings.TrimSpace(provider))
	if model == "" {
		return nil
	}
	scoped := t.scoped[provider]
	try := func(m string) []PriceRow {
		if scoped {
			if rs := t.match(provider + "/" + m); rs != nil {
				return rs
			}
		}
		return t.match(m)
	}
	if rs := try(model); rs != nil {
		return rs
	}
	// Strip prefixes repeatedly (us.anthropic.claude-... -> claude-...).
	m := model
	for stripped := true; stripped; {
		stripped = false
		for _, p := range t.strip {
			if rest, ok := strings.CutPrefix(m, p); ok && rest != "" {
				m, stripped = rest, true
				if rs := try(m); rs != nil {
					return rs
				}
			}
		}
	}
	if i := strings.LastIndexByte(model, '/'); i >= 0 && i < len(model)-1 {
		return try(model[i+1:])
	}
	return nil
}

// match: exact, then the longest prefix ending before a separator.
func (t Table) match(model string) []PriceRow {
	if rs, ok := t.models[model]; ok {
		return rs
	}
	for i := len(model) - 1; i > 0; i-- {
		if isModelSeparator(model[i]) {
			if rs, ok := t.models[model[:i]]; ok {
				return rs
			}
		}
	}
	return nil
}

func isModelSeparator(c byte) bool {
	switch c {
	case '-', '@', ':', '_':
		return true
	}
	return false
}

// Cost prices usage: cache reads at the cached rate, cache writes at the
// cache-write rate, the remaining input at the input rate, reasoning at the
// reasoning rate and the remaining output at the output rate. When an
// emitter reported fewer input tokens than cached ones, the uncached part
// counts as 0 (likewise for reasoning).
func (r PriceRow) Cost(u Usage) Cost {
	uncached := u.Input - u.CacheRead - u.CacheWrite
	if uncached < 0 {
		uncached = 0
	}
	in := float64(uncached)*(r.Input/perMillion) + float64(u.CacheRead)*(r.CachedInput/perMillion) +
		float64(u.CacheWrite)*(r.CacheWrite/perMillion)
	var out float64
	if r.Reasoning == r.Output || u.Reasoning <= 0 {
		out = float64(u.Output) * (r.Output / perMillion)
	} else {
		plain := u.Output - u.Reasoning
		if plain < 0 {
			plain = 0
		}
		out = float64(plain)*(r.Output/perMillion) + float64(u.Reasoning)*(r.Reasoning/perMillion)
	}
	in, out = roundUSD(in), roundUSD(out)
	return Cost{Input: in, Output: out, Total: roundUSD(in + out)}
}

const perMillion = 1e6

// roundUSD rounds to 1e-10 USD so float noise does not show in stored costs.
func roundUSD(v float64) float64 {
	return math.Round(v*1e10) / 1e10
}

// loadPrices returns the embedded price table with the file at path (when
// not empty) merged over it.
func loadPrices(path string) (Table, error) {
	base, err := PriceTable()
	if err != nil {
		return Table{}, err
	}
	if path == "" {
		return base, nil
	}
	over, err := LoadPriceFile(path)
	if err != nil {
		return Table{}, err
	}
	return base.Merge(over), nil
}

// priceParser collects every problem of a price file.
type priceParser struct {
	file string
	errs []error
}

func (pp *priceParser) errorf(node *yaml.Node, where, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if node != nil && node.Line > 0 {
		msg += fmt.Sprintf(" (line %d)", node.Line)
	}
	pp.errs = append(pp.errs, fmt.Errorf("%s:%s: %s", pp.file, where, msg))
}

// parsePrices reads a price file; file names it in errors and rows.
func parsePrices(data []byte, file string) (Table, error) {
	pp := &priceParser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Table{}, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return Table{}, fmt.Errorf("%s: not a price table (a mapping with version and models)", file)
	}
	root := doc.Content[0]
	var version, defaultDate, currency string
	var models *yaml.Node
	t := Table{models: map[string][]PriceRow{}}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "version":
			version = pp.scalar(v, "version")
		case "effective_date":
			defaultDate = pp.scalar(v, "effective_date")
		case "currency":
			currency = pp.scalar(v, "currency")
		case "strip_prefixes":
			if v.Kind != yaml.SequenceNode {
				pp.errorf(v, "strip_prefixes", "must be a list of strings")
				continue
			}
			for _, e := range v.Content {
				if s := strings.ToLower(pp.scalar(e, "strip_prefixes")); s != "" {
					t.strip = append(t.strip, s)
				}
			}
		case "models":
			models = v
		default:
			pp.errorf(k, k.Value, "unknown key (version, effective_date, currency, strip_prefixes, models)")
		}
	}
	if version == "" {
		pp.errorf(root, "version", "must be set")
	}
	if currency != "" && currency != "USD" {
		pp.errorf(root, "currency", "%q is not supported (only USD)", currency)
	}
	var fileDate time.Time
	if defaultDate != "" {
		var err error
		if fileDate, err = parseDate(defaultDate); err != nil {
			pp.errorf(root, "effective_date", "%v", err)
		}
	}
	switch {
	case models == nil:
		pp.errorf(root, "models", "must be set")
	case models.Kind != yaml.MappingNode:
		pp.errorf(models, "models", "must be a mapping of model name to prices")
	default:
		for i := 0; i+1 < len(models.Content); i += 2 {
			k, v := models.Content[i], models.Content[i+1]
			name := strings.ToLower(strings.TrimSpace(k.Value))
			if name == "" {
				pp.errorf(k, "models", "empty model name")
				continue
			}
			if _, dup := t.models[name]; dup {
				pp.errorf(k, name, "listed twice")
				continue
			}
			rows := pp.model(name, v, version, fileDate)
			if len(rows) > 0 {
				t.models[name] = rows
			}
		}
	}
	if len(pp.errs) > 0 {
		return Table{}, errors.Join(pp.errs...)
	}
	t.versions = []string{version}
	t.indexScopes()
	return t, nil
}

// indexScopes notes the providers that have provider-scoped rows.
func (t *Table) indexScopes() {
	t.scoped = map[string]bool{}
	for name := range t.models {
		if i := strings.IndexByte(name, '/'); i > 0 {
			t.scoped[name[:i]] = true
		}
	}
}

func (pp *priceParser) scalar(v *yaml.Node, where string) string {
	if v.Kind != yaml.ScalarNode {
		pp.errorf(v, where, "must be a scalar")
		return ""
	}
	return v.Value
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
}

var priceFields = "provider, input, output, cached_input, cache_write, reasoning, effective_date, prices"

// model reads one model: prices inline, or a list of dated prices.
func (pp *priceParser) model(name string, v *yaml.Node, version string, fileDate time.Time) []PriceRow {
	if v.Kind != yaml.MappingNode {
		pp.errorf(v, name, "must be a mapping (%s)", priceFields)
		return nil
	}
	var provider string
	var list *yaml.Node
	inline := false
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		switch k.Value {
		case "provider":
			provider = pp.scalar(val, name+":provider")
		case "prices":
			list = val
		case "input", "output", "cached_input", "cache_write", "reasoning", "effective_date":
			inline = true
		default:
			pp.errorf(k, name+":"+k.Value, "unknown field (%s)", priceFields)
		}
	}
	base := PriceRow{Model: name, Provider: provider, TableVersion: version, File: pp.file}
	switch {
	case list != nil && inline:
		pp.errorf(v, name, "set either prices (a list) or input/output, not both")
		return nil
	case list == nil:
		base.EffectiveDate = fileDate
		r, ok := pp.row(name, v, base, true)
		if !ok {
			return nil
		}
		return []PriceRow{r}
	case list.Kind != yaml.SequenceNode || len(list.Content) == 0:
		pp.errorf(list, name+":prices", "must be a non-empty list")
		return nil
	}
	var rows []PriceRow
	for i, e := range list.Content {
		where := fmt.Sprintf("%s:prices[%d]", name, i)
		if e.Kind != yaml.MappingNode {
			pp.errorf(e, where, "must be a mapping")
			continue
		}
		r, ok := pp.row(where, e, base, false)
		if !ok {
			continue
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].EffectiveDate.Before(rows[j].EffectiveDate) })
	for i := 1; i < len(rows); i++ {
		if rows[i].EffectiveDate.Equal(rows[i-1].EffectiveDate) {
			pp.errorf(list, name+":prices", "two entries take effect on %s", rows[i].EffectiveDate.Format("2006-01-02"))
			return nil
		}
	}
	return rows
}

// row reads input, output, cached_input, cache_write, reasoning and
// effective_date of one price.
func (pp *priceParser) row(where string, n *yaml.Node, base PriceRow, inline bool) (PriceRow, bool) {
	r := base
	ok := true
	var hasIn, hasOut, hasCached, hasWrite, hasReasoning bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		price := func(dst *float64, seen *bool) {
			*seen = true
			f, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64)
			switch {
			case v.Kind != yaml.ScalarNode || err != nil:
				pp.errorf(v, where+":"+k.Value, "%q is not a number", v.Value)
				ok = false
			case math.IsNaN(f) || math.IsInf(f, 0) || f < 0:
				pp.errorf(v, where+":"+k.Value, "%s must be a finite number >= 0", v.Value)
				ok = false
			default:
				*dst = f
			}
		}
		switch k.Value {
		case "input":
			price(&r.Input, &hasIn)
		case "output":
			price(&r.Output, &hasOut)
		case "cached_input":
			price(&r.CachedInput, &hasCached)
		case "cache_write":
			price(&r.CacheWrite, &hasWrite)
		case "reasoning":
			price(&r.Reasoning, &hasReasoning)
		case "effective_date":
			d, err := parseDate(v.Value)
			if err != nil {
				pp.errorf(v, where+":effective_date", "%v", err)
				ok = false
			}
			r.EffectiveDate = d
		case "provider", "prices":
			if !inline {
				pp.errorf(k, where+":"+k.Value, "unknown field (input, output, cached_input, cache_write, reasoning, effective_date)")
				ok = false
			}
		default:
			if !inline {
				pp.errorf(k, where+":"+k.Value, "unknown field (input, output, cached_input, cache_write, reasoning, effective_date)")
			}
			ok = false
		}
	}
	if !hasIn {
		pp.errorf(n, where+":input", "missing")
		ok = false
	}
	if !hasOut {
		pp.errorf(n, where+":output", "missing")
		ok = false
	}
	if !hasCached {
		r.CachedInput = r.Input
	}
	if !hasWrite {
		r.CacheWrite = r.Input
	}
	if !hasReasoning {
		r.Reasoning = r.Output
	}
	return r, ok
}
