package genaiprocessor

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed prices.yaml
var embeddedPrices []byte

// priceFile is the YAML form of prices.yaml (see the comments there).
type priceFile struct {
	Version       string                 `yaml:"version"`
	EffectiveDate string                 `yaml:"effective_date"`
	Currency      string                 `yaml:"currency"`
	Models        map[string]*modelPrice `yaml:"models"`
}

// modelPrice is USD per 1M tokens.
type modelPrice struct {
	Provider    string   `yaml:"provider"`
	Input       float64  `yaml:"input"`
	Output      float64  `yaml:"output"`
	CachedInput *float64 `yaml:"cached_input"`
	CacheWrite  *float64 `yaml:"cache_write"`
}

// price is one resolved table entry.
type price struct {
	model        string
	tableVersion string
	input        float64 // USD per token
	output       float64
	cachedInput  float64
	cacheWrite   float64
}

// priceTable is read-only after load and shared by concurrent calls.
type priceTable struct {
	versions []string // embedded first, then the override
	byModel  map[string]*price
	// names sorted by length, longest first, for prefix matching.
	names []string
}

const perMillion = 1e6

func decodePrices(data []byte) (*priceFile, error) {
	var f priceFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	var errs []error
	if f.Version == "" {
		errs = append(errs, errors.New("version must be set"))
	}
	if f.Currency != "" && f.Currency != "USD" {
		errs = append(errs, fmt.Errorf("currency %q is not supported (only USD)", f.Currency))
	}
	names := make([]string, 0, len(f.Models))
	for name := range f.Models {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := f.Models[name]
		if strings.TrimSpace(name) == "" {
			errs = append(errs, errors.New("models: empty model name"))
			continue
		}
		if p == nil {
			errs = append(errs, fmt.Errorf("models.%s: no prices", name))
			continue
		}
		for _, v := range []*float64{&p.Input, &p.Output, p.CachedInput, p.CacheWrite} {
			if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0) {
				errs = append(errs, fmt.Errorf("models.%s: prices must be finite and not negative", name))
				break
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &f, nil
}

// loadPrices returns the embedded price table with the file at path (when
// not empty) merged over it.
func loadPrices(path string) (*priceTable, error) {
	base, err := decodePrices(embeddedPrices)
	if err != nil {
		return nil, fmt.Errorf("embedded prices.yaml: %w", err)
	}
	t := &priceTable{byModel: map[string]*price{}}
	t.add(base)
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading price table file: %w", err)
		}
		over, err := decodePrices(data)
		if err != nil {
			return nil, fmt.Errorf("price table file %s: %w", path, err)
		}
		t.add(over)
	}
	t.names = make([]string, 0, len(t.byModel))
	for name := range t.byModel {
		t.names = append(t.names, name)
	}
	sort.Slice(t.names, func(i, j int) bool {
		if len(t.names[i]) != len(t.names[j]) {
			return len(t.names[i]) > len(t.names[j])
		}
		return t.names[i] < t.names[j]
	})
	return t, nil
}

func (t *priceTable) add(f *priceFile) {
	t.versions = append(t.versions, f.Version)
	for name, mp := range f.Models {
		p := &price{
			model:        strings.ToLower(strings.TrimSpace(name)),
			tableVersion: f.Version,
			input:        mp.Input / perMillion,
			output:       mp.Output / perMillion,
			cachedInput:  mp.Input / perMillion,
			cacheWrite:   mp.Input / perMillion,
		}
		if mp.CachedInput != nil {
			p.cachedInput = *mp.CachedInput / perMillion
		}
		if mp.CacheWrite != nil {
			p.cacheWrite = *mp.CacheWrite / perMillion
		}
		t.byModel[p.model] = p
	}
}

// lookup finds the price of a model: exact match, then the longest listed
// name that prefixes the model at a separator, then both again on the part
// after the last '/'.
func (t *priceTable) lookup(model string) *price {
	model = strings.ToLower(strings.TrimSpace(model))
	if model == "" {
		return nil
	}
	if p := t.match(model); p != nil {
		return p
	}
	if i := strings.LastIndexByte(model, '/'); i >= 0 && i < len(model)-1 {
		return t.match(model[i+1:])
	}
	return nil
}

func (t *priceTable) match(model string) *price {
	if p, ok := t.byModel[model]; ok {
		return p
	}
	for _, name := range t.names {
		if len(name) < len(model) && strings.HasPrefix(model, name) && isModelSeparator(model[len(name)]) {
			return t.byModel[name]
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

// usage is the token usage a cost is computed from.
type usage struct {
	input, output, cacheRead, cacheWrite int64
}

type cost struct {
	input, output, total float64
}

// compute prices usage: cache reads at the cached rate, cache writes at the
// cache-write rate, the remaining input at the input rate. Input tokens
// include cached tokens (OTel GenAI); when an emitter reported fewer input
// tokens than cached ones, the uncached part counts as 0.
func (p *price) compute(u usage) cost {
	uncached := u.input - u.cacheRead - u.cacheWrite
	if uncached < 0 {
		uncached = 0
	}
	in := float64(uncached)*p.input + float64(u.cacheRead)*p.cachedInput + float64(u.cacheWrite)*p.cacheWrite
	out := float64(u.output) * p.output
	in, out = roundUSD(in), roundUSD(out)
	return cost{input: in, output: out, total: roundUSD(in + out)}
}

// roundUSD rounds to 1e-10 USD so float noise does not show in stored costs.
func roundUSD(v float64) float64 {
	return math.Round(v*1e10) / 1e10
}
