package genaiprocessor

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

//go:embed mapping.yaml
var embeddedMapping []byte

// mappingFile is the YAML form of mapping.yaml (see the comments there).
type mappingFile struct {
	Version             string                       `yaml:"version"`
	GenAIPrefixes       []string                     `yaml:"genai_prefixes"`
	Conventions         []conventionRule             `yaml:"conventions"`
	DefaultConvention   string                       `yaml:"default_convention"`
	Fields              map[string]*fieldSpec        `yaml:"fields"`
	Values              map[string]map[string]string `yaml:"values"`
	OperationInference  []inferenceRule              `yaml:"operation_inference"`
	PricedOperations    []string                     `yaml:"priced_operations"`
	FinishReasonOnError *string                      `yaml:"finish_reason_on_error"`
}

type conventionRule struct {
	Name  string   `yaml:"name"`
	AnyOf []string `yaml:"any_of"`
}

type inferenceRule struct {
	SpanNamePrefix string   `yaml:"span_name_prefix"`
	AnyOf          []string `yaml:"any_of"`
	Operation      string   `yaml:"operation"`
}

type fieldSpec struct {
	Target          string   `yaml:"target"`
	Type            string   `yaml:"type"`
	Sources         []string `yaml:"sources"`
	ResourceSources []string `yaml:"resource_sources"`
	Values          string   `yaml:"values"`
	LowerCase       bool     `yaml:"lower_case"`
	KeepSources     bool     `yaml:"keep_sources"`
	Min             *float64 `yaml:"min"`
	Max             *float64 `yaml:"max"`
}

type fieldType int

const (
	typeString fieldType = iota + 1
	typeTokens
	typeInt
	typeDouble
	typeStringSlice
	typeContent
)

var fieldTypes = map[string]fieldType{
	"string":       typeString,
	"tokens":       typeTokens,
	"int":          typeInt,
	"double":       typeDouble,
	"string_slice": typeStringSlice,
	"content":      typeContent,
}

// Names of the fields the processor's own logic relies on, with the type
// and, where the output contract fixes it, the target key.
const (
	fieldProvider      = "provider"
	fieldOperation     = "operation"
	fieldRequestModel  = "request_model"
	fieldResponseModel = "response_model"
	fieldInputTokens   = "input_tokens"
	fieldOutputTokens  = "output_tokens"
	fieldTotalTokens   = "total_tokens"
	fieldCacheRead     = "cache_read_tokens"
	fieldCacheWrite    = "cache_write_tokens"
	fieldFinishReasons = "finish_reasons"
	fieldClientCost    = "client_cost"
	fieldEndpoint      = "endpoint"
)

var requiredFields = map[string]struct {
	typ    fieldType
	target string // "" = any
}{
	fieldProvider:      {typeString, llmcall.AttrProvider},
	fieldOperation:     {typeString, llmcall.AttrOperation},
	fieldRequestModel:  {typeString, llmcall.AttrRequestModel},
	fieldResponseModel: {typeString, llmcall.AttrResponseModel},
	fieldInputTokens:   {typeTokens, llmcall.AttrInputTokens},
	fieldOutputTokens:  {typeTokens, llmcall.AttrOutputTokens},
	fieldTotalTokens:   {typeTokens, llmcall.AttrTotalTokens},
	fieldCacheRead:     {typeTokens, llmcall.AttrCacheReadTokens},
	fieldCacheWrite:    {typeTokens, llmcall.AttrCacheWriteTokens},
	fieldFinishReasons: {typeStringSlice, llmcall.AttrFinishReasons},
	fieldClientCost:    {typeDouble, ""},
	fieldEndpoint:      {typeString, llmcall.AttrEndpoint},
}

// Keys the processor owns: a mapping may not read from or write to them
// (cost and issue attributes are always recomputed).
var reservedKeys = map[string]struct{}{
	llmcall.AttrCostInput: {}, llmcall.AttrCostOutput: {}, llmcall.AttrCostTotal: {},
	llmcall.AttrCostSource: {}, llmcall.AttrUnpriced: {}, attrPriceTableVersion: {},
	llmcall.AttrSourceConvention: {}, attrNormalizeIssues: {},
	llmcall.AttrOrgID: {}, llmcall.AttrProjectID: {},
}

// compiledMapping is a validated mapping ready for use on spans. It is
// read-only after compile and shared by concurrent calls.
type compiledMapping struct {
	version           string
	prefixes          []string
	fields            []*compiledField
	byName            map[string]*compiledField
	pos               map[string]int // field name -> index into fields
	sourceIndex       map[string]int // source key -> index into the flat source array
	nSources          int
	conventions       []conventionRule
	conventionIndex   map[string]int // marker key -> lowest rule index
	defaultConvention string
	inference         []inferenceRule
	priced            map[string]struct{}
	finishOnError     string
}

type compiledField struct {
	name            string
	target          string
	typ             fieldType
	sources         []string
	resourceSources []string
	base            int // index of sources[0] in the flat source array
	values          map[string]string
	lowerCase       bool
	keepSources     bool
	hasMin, hasMax  bool
	min, max        float64
}

func decodeMapping(data []byte) (*mappingFile, error) {
	var m mappingFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return &m, nil
}

// loadMapping returns the embedded mapping merged with the file at path
// (when path is not empty), compiled.
func loadMapping(path string) (*compiledMapping, error) {
	base, err := decodeMapping(embeddedMapping)
	if err != nil {
		return nil, fmt.Errorf("embedded mapping.yaml: %w", err)
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading mapping file: %w", err)
		}
		over, err := decodeMapping(data)
		if err != nil {
			return nil, fmt.Errorf("mapping file %s: %w", path, err)
		}
		base = mergeMapping(base, over)
	}
	cm, err := compileMapping(base)
	if err != nil {
		if path != "" {
			return nil, fmt.Errorf("mapping merged with %s: %w", path, err)
		}
		return nil, fmt.Errorf("embedded mapping.yaml: %w", err)
	}
	return cm, nil
}

func mergeMapping(base, over *mappingFile) *mappingFile {
	out := *base
	if over.Version != "" {
		out.Version = base.Version + "+" + over.Version
	}
	for _, p := range over.GenAIPrefixes {
		if !slices.Contains(out.GenAIPrefixes, p) {
			out.GenAIPrefixes = append(out.GenAIPrefixes, p)
		}
	}
	if len(over.Conventions) > 0 {
		out.Conventions = append(slices.Clone(over.Conventions), base.Conventions...)
	}
	if over.DefaultConvention != "" {
		out.DefaultConvention = over.DefaultConvention
	}
	out.Fields = make(map[string]*fieldSpec, len(base.Fields)+len(over.Fields))
	for k, v := range base.Fields {
		out.Fields[k] = v
	}
	for k, v := range over.Fields {
		if v == nil {
			delete(out.Fields, k)
			continue
		}
		out.Fields[k] = v
	}
	out.Values = make(map[string]map[string]string, len(base.Values)+len(over.Values))
	for name, table := range base.Values {
		out.Values[name] = table
	}
	for name, table := range over.Values {
		merged := make(map[string]string, len(out.Values[name])+len(table))
		for k, v := range out.Values[name] {
			merged[k] = v
		}
		for k, v := range table {
			merged[k] = v
		}
		out.Values[name] = merged
	}
	if len(over.OperationInference) > 0 {
		out.OperationInference = append(slices.Clone(over.OperationInference), base.OperationInference...)
	}
	if over.PricedOperations != nil {
		out.PricedOperations = over.PricedOperations
	}
	if over.FinishReasonOnError != nil {
		out.FinishReasonOnError = over.FinishReasonOnError
	}
	return &out
}

func compileMapping(m *mappingFile) (*compiledMapping, error) {
	var errs []error
	cm := &compiledMapping{
		version:           m.Version,
		prefixes:          m.GenAIPrefixes,
		byName:            make(map[string]*compiledField, len(m.Fields)),
		pos:               make(map[string]int, len(m.Fields)),
		sourceIndex:       map[string]int{},
		conventionIndex:   map[string]int{},
		defaultConvention: m.DefaultConvention,
		inference:         m.OperationInference,
		priced:            make(map[string]struct{}, len(m.PricedOperations)),
	}
	if cm.version == "" {
		errs = append(errs, errors.New("version must be set"))
	}
	if len(cm.prefixes) == 0 {
		errs = append(errs, errors.New("genai_prefixes must not be empty"))
	}
	for _, p := range cm.prefixes {
		if p == "" {
			errs = append(errs, errors.New("genai_prefixes must not contain an empty prefix"))
		}
	}
	if m.FinishReasonOnError != nil {
		cm.finishOnError = *m.FinishReasonOnError
	}
	for _, op := range m.PricedOperations {
		cm.priced[op] = struct{}{}
	}
	if cm.defaultConvention == "" {
		errs = append(errs, errors.New("default_convention must be set"))
	}
	for i, r := range m.Conventions {
		if r.Name == "" || len(r.AnyOf) == 0 {
			errs = append(errs, fmt.Errorf("conventions[%d]: name and any_of must be set", i))
			continue
		}
		cm.conventions = append(cm.conventions, r)
		for _, k := range r.AnyOf {
			if _, ok := cm.conventionIndex[k]; !ok {
				cm.conventionIndex[k] = len(cm.conventions) - 1
			}
		}
	}
	for i, r := range m.OperationInference {
		if r.Operation == "" || (r.SpanNamePrefix == "") == (len(r.AnyOf) == 0) {
			errs = append(errs, fmt.Errorf("operation_inference[%d]: operation and exactly one of span_name_prefix, any_of must be set", i))
		}
	}

	names := make([]string, 0, len(m.Fields))
	for name := range m.Fields {
		names = append(names, name)
	}
	sort.Strings(names)
	targets := map[string]string{}
	for _, name := range names {
		spec := m.Fields[name]
		typ, ok := fieldTypes[spec.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("fields.%s: unknown type %q", name, spec.Type))
			continue
		}
		if spec.Target == "" || len(spec.Sources) == 0 && len(spec.ResourceSources) == 0 {
			errs = append(errs, fmt.Errorf("fields.%s: target and sources must be set", name))
			continue
		}
		if _, ok := reservedKeys[spec.Target]; ok {
			errs = append(errs, fmt.Errorf("fields.%s: target %q is owned by the processor", name, spec.Target))
		}
		if other, ok := targets[spec.Target]; ok {
			errs = append(errs, fmt.Errorf("fields.%s: target %q is also the target of fields.%s", name, spec.Target, other))
		}
		targets[spec.Target] = name
		f := &compiledField{
			name:            name,
			target:          spec.Target,
			typ:             typ,
			sources:         spec.Sources,
			resourceSources: spec.ResourceSources,
			base:            cm.nSources,
			lowerCase:       spec.LowerCase,
			keepSources:     spec.KeepSources,
		}
		if spec.Values != "" {
			table, ok := m.Values[spec.Values]
			if !ok {
				errs = append(errs, fmt.Errorf("fields.%s: unknown value table %q", name, spec.Values))
			}
			if typ != typeString && typ != typeStringSlice {
				errs = append(errs, fmt.Errorf("fields.%s: values apply only to string and string_slice fields", name))
			}
			f.values = make(map[string]string, len(table))
			for k, v := range table {
				if spec.LowerCase {
					k = strings.ToLower(k)
				}
				f.values[k] = v
			}
		}
		if spec.Min != nil {
			f.hasMin, f.min = true, *spec.Min
		}
		if spec.Max != nil {
			f.hasMax, f.max = true, *spec.Max
		}
		if (f.hasMin || f.hasMax) && typ != typeInt && typ != typeDouble {
			errs = append(errs, fmt.Errorf("fields.%s: min/max apply only to int and double fields", name))
		}
		if f.hasMin && f.hasMax && f.min > f.max || f.hasMin && math.IsNaN(f.min) || f.hasMax && math.IsNaN(f.max) {
			errs = append(errs, fmt.Errorf("fields.%s: invalid min/max", name))
		}
		for _, src := range spec.Sources {
			if src == "" {
				errs = append(errs, fmt.Errorf("fields.%s: empty source key", name))
				continue
			}
			if _, ok := reservedKeys[src]; ok {
				errs = append(errs, fmt.Errorf("fields.%s: source %q is owned by the processor", name, src))
			}
			if _, dup := cm.sourceIndex[src]; dup {
				errs = append(errs, fmt.Errorf("fields.%s: source %q is listed twice", name, src))
				continue
			}
			cm.sourceIndex[src] = cm.nSources
			cm.nSources++
		}
		cm.pos[name] = len(cm.fields)
		cm.fields = append(cm.fields, f)
		cm.byName[name] = f
	}
	// A source of one field may not be the target of another: the value
	// would be moved and overwritten in the same pass.
	for _, f := range cm.fields {
		for _, src := range f.sources {
			if owner, ok := targets[src]; ok && owner != f.name {
				errs = append(errs, fmt.Errorf("fields.%s: source %q is the target of fields.%s", f.name, src, owner))
			}
		}
	}
	required := make([]string, 0, len(requiredFields))
	for name := range requiredFields {
		required = append(required, name)
	}
	sort.Strings(required)
	for _, name := range required {
		want := requiredFields[name]
		f, ok := cm.byName[name]
		if !ok {
			errs = append(errs, fmt.Errorf("fields.%s is required", name))
			continue
		}
		if f.typ != want.typ {
			errs = append(errs, fmt.Errorf("fields.%s: type cannot be changed", name))
		}
		if want.target != "" && f.target != want.target {
			errs = append(errs, fmt.Errorf("fields.%s: target must be %q (the canonical key)", name, want.target))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cm, nil
}
