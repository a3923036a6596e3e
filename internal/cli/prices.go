package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/llm-observatory/observatory/processors/genaiprocessor"
)

const pricesSynopsis = `prices <list|check> [flags]

  observatory prices list [--file OVERRIDE.yaml] [--model SUBSTRING]
  observatory prices check FILE

list shows the price table the genai processor applies (the embedded table,
merged with an override file as cost.price_table_file would); check validates
an override file and names every problem as file:model:field.`

func cmdPrices(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "Usage: observatory %s\n", pricesSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errUsage
	}
	sub := args[0]
	fs := newFlags("prices "+sub, pricesSynopsis, stderr)
	file := fs.String("file", "", "override price file merged over the embedded table")
	model := fs.String("model", "", "only models containing this text")
	maxArgs := 0
	if sub == "check" {
		maxArgs = 1
	}
	if err := parse(fs, args[1:], maxArgs); err != nil {
		return err
	}
	switch sub {
	case "list":
		t, err := genaiprocessor.PriceTable()
		if err != nil {
			return fmt.Errorf("embedded price table: %w", err)
		}
		if *file != "" {
			over, err := genaiprocessor.LoadPriceFile(*file)
			if err != nil {
				return err
			}
			t = t.Merge(over)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MODEL\tPROVIDER\tFROM\tINPUT\tOUTPUT\tCACHED IN\tCACHE WRITE\tTABLE")
		n := 0
		for _, r := range t.Rows() {
			if *model != "" && !strings.Contains(r.Model, strings.ToLower(*model)) {
				continue
			}
			from := "-"
			if !r.EffectiveDate.IsZero() {
				from = r.EffectiveDate.Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%g\t%g\t%g\t%g\t%s\n", r.Model, r.Provider, from, r.Input, r.Output, r.CachedInput, r.CacheWrite, r.TableVersion)
			n++
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n%d rows; USD per 1M tokens; table versions %s\n", n, strings.Join(t.Versions(), ", "))
	case "check":
		if fs.NArg() != 1 {
			return fmt.Errorf("check needs a file: observatory prices check prices.yaml")
		}
		t, err := genaiprocessor.LoadPriceFile(fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok, %d models, versions %s\n", fs.Arg(0), t.Len(), strings.Join(t.Versions(), ", "))
	default:
		fmt.Fprintf(stderr, "unknown prices subcommand %q\n\nUsage: observatory %s\n", sub, pricesSynopsis)
		return errUsage
	}
	return nil
}
