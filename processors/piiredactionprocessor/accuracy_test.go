package piiredactionprocessor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/llm-observatory/observatory/processors/piiredactionprocessor/internal/metadata"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/corpus.jsonl from the generator")

var corpusPath = filepath.Join("testdata", "corpus.jsonl")

// TestCorpusUpToDate checks the committed corpus is what the generator
// produces (so the labels can be reviewed in code, and the file in diffs).
func TestCorpusUpToDate(t *testing.T) {
	t.Parallel()
	want := encodeCorpus(generateCorpus())
	if *updateCorpus {
		require.NoError(t, os.WriteFile(corpusPath, want, 0o600))
	}
	got, err := os.ReadFile(corpusPath)
	require.NoError(t, err)
	if !bytes.Equal(want, got) {
		t.Fatalf("%s is stale: run go test -run TestCorpusUpToDate -update-corpus", corpusPath)
	}
}

func loadCorpus(t *testing.T) []corpusSample {
	t.Helper()
	f, err := os.Open(corpusPath)
	require.NoError(t, err)
	defer f.Close()
	var out []corpusSample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s corpusSample
		require.NoError(t, json.Unmarshal(sc.Bytes(), &s))
		out = append(out, s)
	}
	require.NoError(t, sc.Err())
	return out
}

// accuracyThresholds are the minimum precision and recall per entity type.
var accuracyThresholds = map[string][2]float64{
	"email":       {0.98, 0.99},
	"credit_card": {0.98, 0.99},
	"iban":        {0.98, 0.99},
	"us_ssn":      {0.98, 0.99},
	"secret":      {0.98, 0.99},
	"phone":       {0.95, 0.95},
	"ip_address":  {0.95, 0.95},
}

type prCounts struct{ tp, fp, fn int }

func (c prCounts) precision() float64 {
	if c.tp+c.fp == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fp)
}

func (c prCounts) recall() float64 {
	if c.tp+c.fn == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fn)
}

// TestAccuracy runs the detectors the way the processor does (JSON-aware,
// default configuration) over the labelled corpus and computes precision
// and recall per entity type. A detection is a true positive when its type
// and exact value match a labelled entity of the sample.
func TestAccuracy(t *testing.T) {
	t.Parallel()
	samples := loadCorpus(t)
	require.GreaterOrEqual(t, len(samples), 1000)

	p, err := newPIIProcessor(processortest.NewNopSettings(metadata.Type), createDefaultConfig().(*Config))
	require.NoError(t, err)
	w := newWorker(p)

	type key struct{ typ, value string }
	counts := map[string]*prCounts{}
	for _, n := range builtinEntityNames {
		counts[n] = &prCounts{}
	}
	var fpEx, fnEx []string
	kinds := map[string]int{}
	langs := map[string]bool{}
	entities := 0
	for _, s := range samples {
		kinds[s.Kind]++
		langs[s.Lang] = true
		entities += len(s.Entities)
		var got []key
		w.onFind = func(typ entityType, v string) { got = append(got, key{p.reg.names[typ], v}) }
		w.reset(ModeFull)
		w.redact(s.Text, 0)
		want := map[key]int{}
		for _, e := range s.Entities {
			want[key{e.Type, e.Value}]++
		}
		for _, g := range got {
			if want[g] > 0 {
				want[g]--
				counts[g.typ].tp++
				continue
			}
			counts[g.typ].fp++
			fpEx = append(fpEx, fmt.Sprintf("%s %s %q in %q", s.ID, g.typ, g.value, s.Text))
		}
		for k, n := range want {
			for ; n > 0; n-- {
				counts[k.typ].fn++
				fnEx = append(fnEx, fmt.Sprintf("%s %s %q in %q", s.ID, k.typ, k.value, s.Text))
			}
		}
	}

	var tb strings.Builder
	fmt.Fprintf(&tb, "corpus: %d samples (%v), %d labelled entities, %d languages/kinds\n", len(samples), kinds, entities, len(langs))
	fmt.Fprintf(&tb, "%-12s %6s %5s %5s %9s %7s %s\n", "entity", "TP", "FP", "FN", "precision", "recall", "min P/R")
	failed := false
	for _, n := range builtinEntityNames {
		c := counts[n]
		th := accuracyThresholds[n]
		mark := ""
		if c.precision() < th[0] || c.recall() < th[1] {
			mark = "  FAIL"
			failed = true
		}
		fmt.Fprintf(&tb, "%-12s %6d %5d %5d %9.4f %7.4f %.2f/%.2f%s\n", n, c.tp, c.fp, c.fn, c.precision(), c.recall(), th[0], th[1], mark)
	}
	t.Log("\n" + tb.String())
	if failed || testing.Verbose() {
		for i, e := range fpEx {
			if i == 30 {
				break
			}
			t.Log("FP " + e)
		}
		for i, e := range fnEx {
			if i == 30 {
				break
			}
			t.Log("FN " + e)
		}
	}
	if failed {
		t.Fatal("accuracy below threshold")
	}
	// Every entity type is represented.
	for _, n := range builtinEntityNames {
		require.Greater(t, counts[n].tp+counts[n].fn, 30, n)
	}
}
