package piiredactionprocessor

import (
	"fmt"
	"regexp"
	"strings"
)

// customDetector is one custom_entities entry.
type customDetector struct {
	typ entityType
	re  *regexp.Regexp
	// prefix every match must begin with; "" when the pattern has none.
	// Strings without it are not searched.
	prefix   string
	validate func(string) bool
}

func newCustomDetectors(cfg []CustomEntityConfig) ([]customDetector, error) {
	out := make([]customDetector, 0, len(cfg))
	for i, c := range cfg {
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("custom_entities[%d]: %w", i, err)
		}
		prefix, _ := re.LiteralPrefix()
		cd := customDetector{typ: numBuiltinEntities + entityType(i), re: re, prefix: prefix}
		if c.Validator != "" {
			cd.validate = validators[c.Validator]
		}
		out = append(out, cd)
	}
	return out, nil
}

func (c *customDetector) scan(t string, out []finding) []finding {
	if c.prefix != "" && !strings.Contains(t, c.prefix) {
		return out
	}
	for _, m := range c.re.FindAllStringIndex(t, -1) {
		if m[1] > m[0] && (c.validate == nil || c.validate(t[m[0]:m[1]])) {
			out = append(out, finding{m[0], m[1], c.typ})
		}
	}
	return out
}

// allowList holds allow_list.values and allow_list.patterns.
type allowList struct {
	exact    map[string]bool // lower-cased
	patterns []*regexp.Regexp
}

func newAllowList(cfg AllowListConfig) (*allowList, error) {
	if len(cfg.Values) == 0 && len(cfg.Patterns) == 0 {
		return nil, nil
	}
	a := &allowList{exact: map[string]bool{}}
	for _, v := range cfg.Values {
		a.exact[strings.ToLower(v)] = true
	}
	for i, p := range cfg.Patterns {
		re, err := regexp.Compile(`^(?:` + p + `)$`)
		if err != nil {
			return nil, fmt.Errorf("allow_list::patterns[%d]: %w", i, err)
		}
		a.patterns = append(a.patterns, re)
	}
	return a, nil
}

func (a *allowList) allowed(v string) bool {
	if a == nil {
		return false
	}
	if len(a.exact) > 0 && a.exact[strings.ToLower(v)] {
		return true
	}
	for _, re := range a.patterns {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}

// resolveOverlaps sorts the findings by position and drops overlapping
// ones: the higher priority wins, then the longer, then the earlier.
func resolveOverlaps(fs []finding, prio []uint8) []finding {
	if len(fs) < 2 {
		return fs
	}
	// Insertion sort: findings arrive almost sorted and are few.
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && (fs[j].start < fs[j-1].start || (fs[j].start == fs[j-1].start && fs[j].end > fs[j-1].end)); j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
	out := fs[:1]
	for _, f := range fs[1:] {
		last := &out[len(out)-1]
		if f.start >= last.end {
			out = append(out, f)
			continue
		}
		if prio[f.typ] > prio[last.typ] || (prio[f.typ] == prio[last.typ] && f.end-f.start > last.end-last.start) {
			*last = f
			// The winner may now overlap the finding before it.
			for len(out) > 1 && out[len(out)-2].end > out[len(out)-1].start {
				prev, cur := out[len(out)-2], out[len(out)-1]
				if prio[prev.typ] >= prio[cur.typ] {
					out = out[:len(out)-1]
				} else {
					out[len(out)-2] = cur
					out = out[:len(out)-1]
				}
			}
		}
	}
	return out
}
