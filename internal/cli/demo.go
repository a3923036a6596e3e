package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/llm-observatory/observatory/internal/demo"
	"github.com/llm-observatory/observatory/internal/embedded"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlags("demo", `demo [flags]

Sends realistic, deterministic LLM traffic (several apps, models, sessions,
streaming, errors, multi-span traces) through the OpenTelemetry Go OTLP
exporter. It honours OTEL_EXPORTER_OTLP_ENDPOINT / _HEADERS / _PROTOCOL as
printed by `+"`observatory run`"+`; without them it finds the instance running
from --data-dir.`, stderr)
	var sf storageFlags
	sf.register(fset)
	traces := fset.Int("traces", 60, "how many traces (user interactions) to send")
	seed := fset.Int64("seed", 42, "seed for the generated traffic")
	reset := fset.Bool("reset", false, "empty the project the key belongs to before sending (local instance only)")
	if err := parse(fset, args, 0); err != nil {
		return err
	}
	if *traces < 1 {
		return fmt.Errorf("--traces must be at least 1")
	}
	o := demo.Options{Traces: *traces, Seed: *seed, Progress: stderr}
	inst, key, localErr := localInstance(sf.dataDir)
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		if localErr != nil {
			return fmt.Errorf("no OTEL_EXPORTER_OTLP_ENDPOINT set and %w", localErr)
		}
		o.Endpoint, o.Protocol = embedded.LocalURL(inst.OTLPGRPC), "grpc"
		o.Headers = map[string]string{"x-api-key": key}
	}
	if *reset {
		if localErr != nil {
			return fmt.Errorf("--reset works on a local instance: %w", localErr)
		}
		n, err := resetProject(ctx, sf, inst, key, stderr)
		if err != nil {
			return fmt.Errorf("reset: %w", err)
		}
		fmt.Fprintf(stdout, "reset: deleted %d stored spans\n", n)
	}
	start := time.Now()
	res, err := demo.Run(ctx, o)
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sent %d traces, %d spans (%d LLM calls, %d errors) in %s\n", res.Traces, res.Spans, res.LLMCalls, res.Errors, time.Since(start).Round(time.Millisecond))
	if localErr == nil {
		fmt.Fprintf(stdout, "see them: curl -H 'x-api-key: %s' http://%s/api/v1/calls\n", key, inst.API)
	}
	return nil
}

// localInstance reads what `observatory run` left in the data directory.
func localInstance(dataDir string) (embedded.Instance, string, error) {
	var inst embedded.Instance
	b, err := os.ReadFile(filepath.Join(dataDir, embedded.InstanceFile))
	if errors.Is(err, fs.ErrNotExist) {
		return inst, "", fmt.Errorf("no running instance found in %s: start one with `observatory run` (or pass --data-dir)", dataDir)
	}
	if err != nil {
		return inst, "", err
	}
	if err := json.Unmarshal(b, &inst); err != nil {
		return inst, "", fmt.Errorf("read %s: %w", embedded.InstanceFile, err)
	}
	k, err := os.ReadFile(filepath.Join(dataDir, embedded.KeyFile))
	if err != nil {
		return inst, "", fmt.Errorf("read default key: %w", err)
	}
	return inst, strings.TrimSpace(string(k)), nil
}

func resetProject(ctx context.Context, sf storageFlags, inst embedded.Instance, key string, stderr io.Writer) (int64, error) {
	url := inst.DatabaseURL
	if url == "" {
		url = filepath.Join(sf.dataDir, embedded.DatabaseFile)
	}
	logger, _ := newLogger(stderr, "warn")
	st, h, err := embedded.OpenTenancy(ctx, sf.dataDir, url, sf.secret, logger)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	k, err := st.LookupAPIKey(ctx, h.Hash(key))
	if err != nil {
		return 0, fmt.Errorf("find the key's project: %w", err)
	}
	return st.DeleteProjectCalls(ctx, k.ProjectID)
}
