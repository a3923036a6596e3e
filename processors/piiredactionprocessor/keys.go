package piiredactionprocessor

import (
	"errors"
	"strings"
)

// defaultContentKeys are the attributes that carry prompt and completion
// content in the conventions the genai processor accepts. In none mode
// they are dropped.
var defaultContentKeys = []string{
	// OTel GenAI (current, written by the genai processor).
	"gen_ai.input.messages",
	"gen_ai.output.messages",
	"gen_ai.system_instructions",
	"gen_ai.tool.call.arguments",
	"gen_ai.tool.call.result",
	"gen_ai.tool.definitions",
	// OTel GenAI <= 1.36 event payloads and OpenLLMetry / OpenLIT.
	"gen_ai.prompt",
	"gen_ai.completion",
	"gen_ai.prompt.*.content",
	"gen_ai.completion.*.content",
	"gen_ai.prompt.*.tool_calls.*.arguments",
	"gen_ai.completion.*.tool_calls.*.arguments",
	"gen_ai.content.prompt",
	"gen_ai.content.completion",
	"traceloop.entity.input",
	"traceloop.entity.output",
	// OpenInference.
	"input.value",
	"output.value",
	"llm.prompts",
	"llm.prompt_template.variables",
	"llm.input_messages.*.message.content",
	"llm.output_messages.*.message.content",
	"llm.input_messages.*.message.contents.*.message_content.text",
	"llm.output_messages.*.message.contents.*.message_content.text",
	"llm.input_messages.*.message.tool_calls.*.tool_call.function.arguments",
	"llm.output_messages.*.message.tool_calls.*.tool_call.function.arguments",
	"retrieval.documents.*.document.content",
	"embedding.embeddings.*.embedding.text",
}

// eventContentKeys are content keys inside span events and log records
// named gen_ai.* (gen_ai.user.message, gen_ai.choice ...).
var eventContentKeys = []string{"content", "message", "tool_calls", "arguments", "gen_ai.event.content"}

// skipKeys never carry personal data: identifiers of the model and the
// operation written by the genai processor. They are not scanned.
var skipKeys = map[string]bool{
	"gen_ai.operation.name":          true,
	"gen_ai.provider.name":           true,
	"gen_ai.system":                  true,
	"gen_ai.request.model":           true,
	"gen_ai.response.model":          true,
	"gen_ai.response.id":             true,
	"gen_ai.response.finish_reasons": true,
	"gen_ai.output.type":             true,
	"gen_ai.token.type":              true,
	"observatory.org.id":             true,
	"observatory.project.id":         true,
	"observatory.source_convention":  true,
	"observatory.cost.source":        true,
}

// skipMembers are JSON member names of the OTel GenAI message schema whose
// values are enumerations.
var skipMembers = map[string]bool{"role": true, "type": true, "finish_reason": true, "mime_type": true, "modality": true}

func validKeyPattern(p string) error {
	if p == "" {
		return errors.New("empty key pattern")
	}
	for _, s := range strings.Split(p, ".") {
		if s == "" {
			return errors.New("key pattern " + p + " has an empty segment")
		}
	}
	return nil
}

// keySet matches keys against exact keys and dot-segment patterns: a *
// segment matches one segment, a ** segment zero or more.
type keySet struct {
	exact    map[string]bool
	patterns [][]string
}

func newKeySet(lists ...[]string) *keySet {
	ks := &keySet{exact: map[string]bool{}}
	for _, l := range lists {
		for _, p := range l {
			if !strings.Contains(p, "*") {
				ks.exact[p] = true
				continue
			}
			ks.patterns = append(ks.patterns, strings.Split(p, "."))
		}
	}
	return ks
}

func (ks *keySet) empty() bool { return len(ks.exact) == 0 && len(ks.patterns) == 0 }

func (ks *keySet) match(key string) bool {
	if ks.exact[key] {
		return true
	}
	for _, p := range ks.patterns {
		if matchSegments(p, key) {
			return true
		}
	}
	return false
}

func matchSegments(segs []string, key string) bool {
	if len(segs) == 0 {
		return key == ""
	}
	seg := segs[0]
	if seg == "**" {
		if len(segs) == 1 {
			return true
		}
		if matchSegments(segs[1:], key) {
			return true
		}
		for i := 0; i < len(key); i++ {
			if key[i] == '.' && matchSegments(segs[1:], key[i+1:]) {
				return true
			}
		}
		return false
	}
	if key == "" {
		return false
	}
	first, rest, more := strings.Cut(key, ".")
	if seg != "*" && seg != first {
		return false
	}
	if !more {
		for _, s := range segs[1:] {
			if s != "**" {
				return false
			}
		}
		return true
	}
	return matchSegments(segs[1:], rest)
}

// keyClass is what the processor does with an attribute.
type keyClass struct {
	allow   bool    // not scanned (allow_list.keys or a built-in metadata key)
	content bool    // dropped in none mode
	secret  keyKind // the key names a password or token
	hint    numHint // the key names a phone number or SSN (context for bare digits)
}

// numHint is what a key says about a bare number under it.
type numHint uint8

const (
	hintNone numHint = iota
	hintPhone
	hintSSN
)

// numberHint: keys like phone, phone_number, mobile, tel, fax, ssn.
func numberHint(key string) numHint {
	if len(key) < 3 {
		return hintNone
	}
	var buf [32]byte
	n := len(buf)
	for i := len(key) - 1; i >= 0 && n > 0; i-- {
		c := key[i]
		if c == '_' || c == '-' || c == '.' || c == ' ' {
			continue
		}
		n--
		buf[n] = lowerASCII(c)
	}
	norm := string(buf[n:])
	for _, s := range [...]string{"phone", "phonenumber", "mobile", "mobilenumber", "tel", "telephone", "fax", "cell", "msisdn"} {
		if strings.HasSuffix(norm, s) && (norm == s || !strings.HasSuffix(norm, "hotel")) {
			return hintPhone
		}
	}
	if strings.HasSuffix(norm, "ssn") || strings.HasSuffix(norm, "socialsecuritynumber") {
		return hintSSN
	}
	return hintNone
}

// keyRules classifies keys. Immutable after construction.
type keyRules struct {
	allow        *keySet
	content      *keySet
	eventContent *keySet
}

func newKeyRules(cfg *Config) *keyRules {
	return &keyRules{
		allow:        newKeySet(cfg.AllowList.Keys),
		content:      newKeySet(defaultContentKeys, cfg.ContentKeys),
		eventContent: newKeySet(eventContentKeys),
	}
}

// classify an attribute key; genEvent is true inside a span event or log
// record named gen_ai.*.
func (r *keyRules) classify(key string, genEvent bool) keyClass {
	if skipKeys[key] || r.allow.match(key) {
		return keyClass{allow: true}
	}
	c := keyClass{content: r.content.match(key) || (genEvent && r.eventContent.match(key))}
	last := key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		last = key[i+1:]
	}
	c.secret = secretKeyKind(last)
	c.hint = numberHint(last)
	return c
}

// member classifies a JSON member or map key.
func (r *keyRules) member(name string) keyClass {
	if skipMembers[name] || (!r.allow.empty() && r.allow.match(name)) {
		return keyClass{allow: true}
	}
	return keyClass{secret: secretKeyKind(name), hint: numberHint(name)}
}
