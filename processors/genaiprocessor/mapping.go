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
	ProviderInference   []providerRule               `yaml:"provider_inference"`
	Content             contentSpec                  `yaml:"content"`
	ContentEvents       map[string]*contentEventSpec `yaml:"content_events"`
	JoinOperations      []string                     `yaml:"join_operations"`
	JoinedConventions   []string                     `yaml:"joined_convention_replaces"`
	PricedOperations    []string                     `yaml:"priced_operations"`
	FinishReasonOnError *string                      `yaml:"finish_reason_on_error"`
	ErrorTypeOnError    *string                      `yaml:"error_type_on_error"`
}

type conventionRule struct {
	Name      string            `yaml:"name"`
	AnyOf     []string          `yaml:"any_of"`
	AnyPrefix []string          `yaml:"any_prefix"`
	AnyEvent  []string          `yaml:"any_event"`
	Equals    map[string]string `yaml:"equals"`
}

func (r conventionRule) empty() bool {
	return len(r.AnyOf) == 0 && len(r.AnyPrefix) == 0 && len(r.AnyEvent) == 0 && len(r.Equals) == 0
}

type providerRule struct {
	ServerAddressSuffix string `yaml:"server_address_suffix"`
	Provider            string `yaml:"provider"`
}

// contentSpec lists, per direction, where message content may be found.
type contentSpec struct {
	Input  []contentRule `yaml:"input"`
	Output []contentRule `yaml:"output"`
}

// contentRule is one place content may be found (see mapping.yaml).
type contentRule struct {
	Format            string `yaml:"format"`
	Attribute         string `yaml:"attribute"`
	MimeTypeAttribute string `yaml:"mime_type_attribute"`
	Prefix            string `yaml:"prefix"`
	Suffix            string `yaml:"suffix"`
	Event             string `yaml:"event"`
	Role              string `yaml:"role"`

	format contentFormat
}

// contentEventSpec describes an event that carries content.
type contentEventSpec struct {
	Kind       string `yaml:"kind"`
	Role       string `yaml:"role"`
	Convention string `yaml:"convention"`

	kind eventKind
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
	Keep            []string `yaml:"keep"`
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
	fieldReasoning     = "reasoning_tokens"
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
	fieldReasoning:     {typeTokens, llmcall.AttrReasoningTokens},
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
	attrContentTruncated: {}, attrContentSource: {},
}

// contentFormat is how a content rule reads its source.
type contentFormat int

const (
	formatDetailsEvent contentFormat = iota + 1
	formatMessageEvents
	formatIndexedMessages
	formatOpenInferenceMessages
	formatIndexedText
	formatTextEvent
	formatText
	formatRawJSON
)

var contentFormats = map[string]contentFormat{
	"details_event":          formatDetailsEvent,
	"message_events":         formatMessageEvents,
	"indexed_messages":       formatIndexedMessages,
	"openinference_messages": formatOpenInferenceMessages,
	"indexed_text":           formatIndexedText,
	"text_event":             formatTextEvent,
	"text":                   formatText,
	"raw_json":               formatRawJSON,
}

// eventKind is what a content event carries.
type eventKind int

const (
	eventMessage eventKind = iota + 1 // one input message, role from the table
	eventChoice                       // one output message
	eventDetails                      // gen_ai.{input,output}.messages, system_instructions attributes
)

var eventKinds = map[string]eventKind{"message": eventMessage, "choice": eventChoice, "details": eventDetails}

// keyInfo is what the scan of a span's attributes needs to know about one
// key, found with a single map lookup.
type keyInfo struct {
	slot    int // index into the flat source array; -1: not a field source
	conv    int // lowest convention rule naming the key in any_of; -1: none
	equals  []valueMarker
	content bool // a content rule reads the key
}

type valueMarker struct {
	value string
	conv  int
}

type prefixMarker struct {
	prefix  string
	conv    int // -1: not a convention marker
	content bool
}

// compiledMapping is a validated mapping ready for use on spans. It is
// read-only after compile and shared by concurrent calls.
type compiledMapping struct {
	version  string
	prefixes []string
	// prefixesByByte: genai_prefixes by their first byte.
	prefixesByByte [256][]string
	fields         []*compiledField
	byName         map[string]*compiledField
	pos            map[string]int // field name -> index into fields
	sourceIndex    map[string]int // source key -> index into the flat source array
	nSources       int
	keys           map[string]keyInfo
	// prefix markers (conventions, content) by the first byte of the key.
	keyPrefixes       [256][]prefixMarker
	conventions       []conventionRule
	conventionEvents  map[string]int // span event name -> lowest rule index
	defaultConvention string
	inference         []inferenceRule
	providerRules     []providerRule
	priced            map[string]struct{}
	joinOps           map[string]struct{}
	joinedReplaces    []string
	finishOnError     string
	errorTypeOnError  string

	inputRules, outputRules []contentRule
	events                  map[string]*contentEventSpec
	contentEvents           map[string]struct{} // span event names content rules read
	roles                   map[string]string
}

type compiledField struct {
	name            string
	target          string
	typ             fieldType
	sources         []string
	slots           []int // flat source index of each source
	resourceSources []string
	values          map[string]string
	lowerCase       bool
	keepSources     bool
	keep            map[string]struct{}
	hasMin, hasMax  bool
	min, max        float64
}

// keeps reports whether source key src stays after its value moved.
func (f *compiledField) keeps(src string) bool {
	if f.keepSources {
		return true
	}
	_, ok := f.keep[src]
	return ok
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
	if len(over.ProviderInference) > 0 {
		out.ProviderInference = append(slices.Clone(over.ProviderInference), base.ProviderInference...)
	}
	if len(over.Content.Input) > 0 {
		out.Content.Input = append(slices.Clone(over.Content.Input), base.Content.Input...)
	}
	if len(over.Content.Output) > 0 {
		out.Content.Output = append(slices.Clone(over.Content.Output), base.Content.Output...)
	}
	if len(over.ContentEvents) > 0 {
		out.ContentEvents = make(map[string]*contentEventSpec, len(base.ContentEvents)+len(over.ContentEvents))
		for k, v := range base.ContentEvents {
			out.ContentEvents[k] = v
		}
		for k, v := range over.ContentEvents {
			if v == nil {
				delete(out.ContentEvents, k)
				continue
			}
			out.ContentEvents[k] = v
		}
	}
	if over.JoinOperations != nil {
		out.JoinOperations = over.JoinOperations
	}
	if over.JoinedConventions != nil {
		out.JoinedConventions = over.JoinedConventions
	}
	if over.PricedOperations != nil {
		out.PricedOperations = over.PricedOperations
	}
	if over.FinishReasonOnError != nil {
		out.FinishReasonOnError = over.FinishReasonOnError
	}
	if over.ErrorTypeOnError != nil {
		out.ErrorTypeOnError = over.ErrorTypeOnError
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
		keys:              map[string]keyInfo{},
		conventionEvents:  map[string]int{},
		defaultConvention: m.DefaultConvention,
		inference:         m.OperationInference,
		priced:            make(map[string]struct{}, len(m.PricedOperations)),
		joinOps:           make(map[string]struct{}, len(m.JoinOperations)),
		events:            map[string]*contentEventSpec{},
		contentEvents:     map[string]struct{}{},
		roles:             m.Values["role"],
	}
	// info returns the keyInfo of key, creating it.
	info := func(key string) keyInfo {
		if ki, ok := cm.keys[key]; ok {
			return ki
		}
		return keyInfo{slot: -1, conv: -1}
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
			continue
		}
		cm.prefixesByByte[p[0]] = append(cm.prefixesByByte[p[0]], p)
	}
	if m.FinishReasonOnError != nil {
		cm.finishOnError = *m.FinishReasonOnError
	}
	if m.ErrorTypeOnError != nil {
		cm.errorTypeOnError = *m.ErrorTypeOnError
	}
	for _, op := range m.PricedOperations {
		cm.priced[op] = struct{}{}
	}
	for _, op := range m.JoinOperations {
		cm.joinOps[op] = struct{}{}
	}
	cm.joinedReplaces = m.JoinedConventions
	if cm.defaultConvention == "" {
		errs = append(errs, errors.New("default_convention must be set"))
	}
	for i, r := range m.Conventions {
		if r.Name == "" || r.empty() {
			errs = append(errs, fmt.Errorf("conventions[%d]: name and any_of, any_prefix, any_event or equals must be set", i))
			continue
		}
		ci := len(cm.conventions)
		cm.conventions = append(cm.conventions, r)
		for _, k := range r.AnyOf {
			ki := info(k)
			if ki.conv < 0 {
				ki.conv = ci
			}
			cm.keys[k] = ki
		}
		for k, v := range r.Equals {
			ki := info(k)
			ki.equals = append(ki.equals, valueMarker{value: v, conv: ci})
			cm.keys[k] = ki
		}
		for _, p := range r.AnyPrefix {
			if p == "" {
				errs = append(errs, fmt.Errorf("conventions[%d]: empty prefix", i))
				continue
			}
			cm.keyPrefixes[p[0]] = append(cm.keyPrefixes[p[0]], prefixMarker{prefix: p, conv: ci})
		}
		for _, e := range r.AnyEvent {
			if _, ok := cm.conventionEvents[e]; !ok {
				cm.conventionEvents[e] = ci
			}
		}
	}
	for i, r := range m.OperationInference {
		if r.Operation == "" || (r.SpanNamePrefix == "") == (len(r.AnyOf) == 0) {
			errs = append(errs, fmt.Errorf("operation_inference[%d]: operation and exactly one of span_name_prefix, any_of must be set", i))
		}
	}
	for i, r := range m.ProviderInference {
		if r.Provider == "" || r.ServerAddressSuffix == "" {
			errs = append(errs, fmt.Errorf("provider_inference[%d]: server_address_suffix and provider must be set", i))
			continue
		}
		cm.providerRules = append(cm.providerRules, providerRule{
			ServerAddressSuffix: strings.ToLower(r.ServerAddressSuffix), Provider: r.Provider,
		})
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
			resourceSources: spec.ResourceSources,
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
			if slices.Contains(f.sources, src) {
				errs = append(errs, fmt.Errorf("fields.%s: source %q is listed twice", name, src))
				continue
			}
			// A key may feed several fields (llm.model_name is both the
			// request and the response model); it has one slot.
			slot, ok := cm.sourceIndex[src]
			if !ok {
				slot = cm.nSources
				cm.sourceIndex[src] = slot
				cm.nSources++
				ki := info(src)
				ki.slot = slot
				cm.keys[src] = ki
			}
			f.sources = append(f.sources, src)
			f.slots = append(f.slots, slot)
		}
		for _, k := range spec.Keep {
			if !slices.Contains(spec.Sources, k) {
				errs = append(errs, fmt.Errorf("fields.%s: keep lists %q, which is not a source", name, k))
				continue
			}
			if f.keep == nil {
				f.keep = map[string]struct{}{}
			}
			f.keep[k] = struct{}{}
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
	errs = append(errs, cm.compileContent(m, targets, info)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cm, nil
}

// compileContent checks the content rules and events and indexes the keys,
// prefixes and event names they read.
func (cm *compiledMapping) compileContent(m *mappingFile, targets map[string]string, info func(string) keyInfo) []error {
	var errs []error
	evNames := make([]string, 0, len(m.ContentEvents))
	for name := range m.ContentEvents {
		evNames = append(evNames, name)
	}
	sort.Strings(evNames)
	for _, name := range evNames {
		spec := m.ContentEvents[name]
		if spec == nil {
			continue
		}
		kind, ok := eventKinds[spec.Kind]
		switch {
		case name == "":
			errs = append(errs, errors.New("content_events: empty event name"))
			continue
		case !ok:
			errs = append(errs, fmt.Errorf("content_events.%s: unknown kind %q (message, choice, details)", name, spec.Kind))
			continue
		case kind == eventMessage && spec.Role == "":
			errs = append(errs, fmt.Errorf("content_events.%s: a message event needs a role", name))
			continue
		}
		c := *spec
		c.kind = kind
		cm.events[name] = &c
	}
	addKey := func(where, key string) {
		if _, ok := reservedKeys[key]; ok {
			errs = append(errs, fmt.Errorf("%s: %q is owned by the processor", where, key))
			return
		}
		if owner, ok := targets[key]; ok {
			errs = append(errs, fmt.Errorf("%s: %q is the target of fields.%s", where, key, owner))
			return
		}
		ki := info(key)
		ki.content = true
		cm.keys[key] = ki
	}
	addPrefix := func(p string) {
		for _, pm := range cm.keyPrefixes[p[0]] {
			if pm.prefix == p && pm.content {
				return
			}
		}
		cm.keyPrefixes[p[0]] = append(cm.keyPrefixes[p[0]], prefixMarker{prefix: p, conv: -1, content: true})
	}
	for _, dir := range []struct {
		name  string
		rules []contentRule
		out   *[]contentRule
	}{{"content.input", m.Content.Input, &cm.inputRules}, {"content.output", m.Content.Output, &cm.outputRules}} {
		for i, r := range dir.rules {
			where := fmt.Sprintf("%s[%d]", dir.name, i)
			format, ok := contentFormats[r.Format]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: unknown format %q", where, r.Format))
				continue
			}
			r.format = format
			need := func(field, v string) bool {
				if v == "" {
					errs = append(errs, fmt.Errorf("%s: format %s needs %s", where, r.Format, field))
					return false
				}
				return true
			}
			switch format {
			case formatDetailsEvent:
				if need("event", r.Event) {
					if ev := cm.events[r.Event]; ev == nil || ev.kind != eventDetails {
						errs = append(errs, fmt.Errorf("%s: event %q is not a details event in content_events", where, r.Event))
						continue
					}
					cm.contentEvents[r.Event] = struct{}{}
				}
			case formatMessageEvents:
				for name, ev := range cm.events {
					if ev.kind == eventMessage || ev.kind == eventChoice {
						cm.contentEvents[name] = struct{}{}
					}
				}
			case formatIndexedMessages, formatOpenInferenceMessages:
				if need("prefix", r.Prefix) {
					addPrefix(r.Prefix)
				}
			case formatIndexedText:
				if need("prefix", r.Prefix) && need("suffix", r.Suffix) && need("role", r.Role) {
					addPrefix(r.Prefix)
				}
			case formatTextEvent:
				if need("event", r.Event) && need("attribute", r.Attribute) && need("role", r.Role) {
					cm.contentEvents[r.Event] = struct{}{}
				}
			case formatText, formatRawJSON:
				if need("attribute", r.Attribute) && need("role", r.Role) {
					addKey(where, r.Attribute)
				}
			}
			*dir.out = append(*dir.out, r)
		}
	}
	return errs
}
