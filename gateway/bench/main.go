// Command bench is the load driver of `make bench-gateway`: at fixed
// request rates (an open model: requests are sent on schedule whether or
// not earlier ones finished, and latency is measured from the scheduled
// send time, so a stall is not hidden by coordinated omission) it measures
// non-streamed chat completions in alternating rounds against three
// targets in front of the same mock upstream:
//
//	direct   the mock upstream itself
//	proxy    a bare httputil.ReverseProxy in front of it (the floor any Go
//	         proxy pays on this machine)
//	gateway  the gateway (auth, parsing, routing, openai provider, spans
//	         built and exported to a discarding exporter)
//
// Each server runs in its own child process (this binary with -serve) so
// the load generator, the upstream and the server under test do not share
// a Go runtime. It prints a Markdown report: latency percentiles per
// target and rate (median over rounds), added latency against direct, the
// gateway's own processing time from its observatory_gateway_overhead_seconds
// histogram, errors and peak RSS of each server.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/llm-observatory/observatory/gateway"
	"github.com/llm-observatory/observatory/gateway/providers/mock"
	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/storage"
)

const benchKey = "obs_benchbenchbenchbenchbenchbenchbenchbench"

const body = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello! Can you tell me a short fact about otters?"}],"temperature":0.7,"max_tokens":64}`

func main() { os.Exit(run()) }

func run() int {
	serve := flag.String("serve", "", "internal: run one server (upstream, proxy, gateway) and print its address")
	upstreamURL := flag.String("upstream", "", "internal: upstream base URL for proxy and gateway")
	rates := flag.String("rates", "500,1000,2000", "request rates (per second)")
	duration := flag.Duration("duration", 10*time.Second, "length of one measurement at one rate against one target")
	rounds := flag.Int("rounds", 3, "alternating rounds")
	warmup := flag.Duration("warmup", 2*time.Second, "warm-up at each rate before each round's measurements")
	latency := flag.Duration("upstream-latency", 0, "mock upstream latency")
	gwEnv := flag.String("gateway-env", "", "extra environment of the gateway process, e.g. GOGC=200 (comma-separated)")
	flag.Parse()
	if *serve != "" {
		if err := runServer(*serve, *upstreamURL, *latency); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	var rs []int
	for _, s := range strings.Split(*rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || r <= 0 {
			fmt.Fprintf(os.Stderr, "bad rate %q\n", s)
			return 2
		}
		rs = append(rs, r)
	}
	if err := drive(rs, *duration, *rounds, *warmup, *latency, *gwEnv); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

// ---------------------------------------------------------------- servers

type discard struct{ n atomic.Int64 }

func (d *discard) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	d.n.Add(int64(len(s)))
	return nil
}
func (d *discard) Shutdown(context.Context) error { return nil }

type lookup struct{ k storage.APIKey }

func (l lookup) LookupAPIKey(_ context.Context, h []byte) (storage.APIKey, error) {
	if bytes.Equal(h, l.k.Hash) {
		return l.k, nil
	}
	return storage.APIKey{}, storage.ErrNotFound
}

func runServer(role, upstream string, latency time.Duration) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var h http.Handler
	metricsAddr := ""
	switch role {
	case "upstream":
		m, err := mock.New(mock.Options{Latency: latency, OutputTokens: 16})
		if err != nil {
			return err
		}
		h = mock.NewHandler(m, mock.HandlerOptions{})
	case "proxy":
		u, err := url.Parse(upstream)
		if err != nil {
			return err
		}
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.Transport = &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 1024, IdleConnTimeout: 90 * time.Second}
		rp.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = http.NewResponseController(w).EnableFullDuplex()
			rp.ServeHTTP(w, r)
		})
	case "gateway":
		hasher, err := apikey.NewHasher(bytes.Repeat([]byte("b"), 32))
		if err != nil {
			return err
		}
		v, err := apikey.NewVerifier(apikey.VerifierOptions{Hasher: hasher, Lookup: lookup{storage.APIKey{
			ID: "key_bench", OrgID: "org_bench", ProjectID: "prj_bench", Prefix: benchKey[:12],
			Hash: hasher.Hash(benchKey), Scopes: []string{apikey.ScopeGateway},
		}}})
		if err != nil {
			return err
		}
		cfg, err := gateway.ParseConfig([]byte(fmt.Sprintf(`
providers:
  up: {type: openai, base_url: %q}
models:
  gpt-4o-mini: {provider: up}
`, upstream+"/v1")), nil)
		if err != nil {
			return err
		}
		reg := prometheus.NewRegistry()
		gw, err := gateway.New(gateway.Options{Config: cfg, Verifier: v, Exporter: &discard{}, Registerer: reg,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
		if err != nil {
			return err
		}
		defer gw.Shutdown(context.Background())
		h = gw
		mln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		metricsAddr = mln.Addr().String()
		go func() { _ = http.Serve(mln, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})) }()
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	fmt.Printf("ADDR %s %s\n", ln.Addr(), metricsAddr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		// Exit when the driver goes away (stdin closes).
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	go func() { _ = srv.Serve(ln) }()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

type child struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	addr    string
	metrics string
}

func start(role, upstream string, latency time.Duration, env ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", role, "-upstream", upstream, "-upstream-latency", latency.String())
	cmd.Stderr = os.Stderr
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%s did not start: %w", role, err)
	}
	f := strings.Fields(line)
	c := &child{cmd: cmd, stdin: in, addr: f[1]}
	if len(f) > 2 {
		c.metrics = f[2]
	}
	return c, nil
}

func (c *child) stop() {
	_ = c.stdin.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// cpu returns the process's user+system CPU time.
func (c *child) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return time.Duration((ut + st) * float64(time.Second) / 100) // USER_HZ
}

// rssMiB returns the peak and current resident set of a process.
func (c *child) rssMiB() (peak, cur float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && (f[0] == "VmHWM:" || f[0] == "VmRSS:") {
			kb, _ := strconv.ParseFloat(f[1], 64)
			if f[0] == "VmHWM:" {
				peak = kb / 1024
			} else {
				cur = kb / 1024
			}
		}
	}
	return peak, cur
}

// ---------------------------------------------------------------- load

type result struct {
	lat    []time.Duration
	errors int
	sent   int
	took   time.Duration
	firstE string
}

func (r *result) q(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(r.lat)))) - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

// attack sends rate requests per second for d to url, open-loop.
func attack(client *http.Client, target string, rate int, d time.Duration, auth bool) *result {
	n := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	res := &result{lat: make([]time.Duration, 0, n), sent: n}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 20000)
	begin := time.Now()
	for i := range n {
		due := begin.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if auth {
				req.Header.Set("Authorization", "Bearer "+benchKey)
			}
			resp, err := client.Do(req)
			var errText string
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != http.StatusOK {
					errText = "HTTP " + strconv.Itoa(resp.StatusCode)
				}
			}
			if err != nil {
				errText = err.Error()
			}
			lat := time.Since(due)
			mu.Lock()
			if errText != "" {
				res.errors++
				if res.firstE == "" {
					res.firstE = errText
				}
			} else {
				res.lat = append(res.lat, lat)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.took = time.Since(begin)
	slices.Sort(res.lat)
	return res
}

// ---------------------------------------------------------------- overhead histogram

type histo struct {
	bounds []float64
	counts []float64 // cumulative
}

func scrapeOverhead(addr string) (histo, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return histo{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return histo{}, err
	}
	var h histo
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, `observatory_gateway_overhead_seconds_bucket{`) || !strings.Contains(l, `route="chat_completions"`) {
			continue
		}
		i := strings.Index(l, `le="`)
		j := strings.Index(l[i+4:], `"`)
		le, err := strconv.ParseFloat(l[i+4:i+4+j], 64)
		if err != nil {
			le = math.Inf(1)
		}
		f := strings.Fields(l)
		c, _ := strconv.ParseFloat(f[len(f)-1], 64)
		h.bounds = append(h.bounds, le)
		h.counts = append(h.counts, c)
	}
	return h, nil
}

// quantile of the difference after-before, interpolated within buckets
// like PromQL's histogram_quantile.
func quantile(before, after histo, q float64) float64 {
	if len(after.counts) == 0 {
		return math.NaN()
	}
	counts := make([]float64, len(after.counts))
	for i := range counts {
		counts[i] = after.counts[i]
		if i < len(before.counts) {
			counts[i] -= before.counts[i]
		}
	}
	total := counts[len(counts)-1]
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	prevB, prevC := 0.0, 0.0
	for i, c := range counts {
		if c >= rank {
			b := after.bounds[i]
			if math.IsInf(b, 1) {
				return prevB
			}
			if c == prevC {
				return b
			}
			return prevB + (b-prevB)*(rank-prevC)/(c-prevC)
		}
		prevB, prevC = after.bounds[i], c
	}
	return prevB
}

// ---------------------------------------------------------------- driver

type cell struct {
	p50, p90, p99, max []time.Duration
	errors, sent       int
	ovP50, ovP99       []float64
	cpuPerReq          []float64 // µs of the server process per request
	firstErr           string
	achieved           []float64
}

func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }

func drive(rates []int, d time.Duration, rounds int, warmup, latency time.Duration, gwEnv string) error {
	up, err := start("upstream", "", latency)
	if err != nil {
		return err
	}
	defer up.stop()
	upURL := "http://" + up.addr
	px, err := start("proxy", upURL, 0)
	if err != nil {
		return err
	}
	defer px.stop()
	var env []string
	if gwEnv != "" {
		env = strings.Split(gwEnv, ",")
	}
	gw, err := start("gateway", upURL, 0, env...)
	if err != nil {
		return err
	}
	defer gw.stop()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			gw.stop()
			px.stop()
			up.stop()
			os.Exit(130)
		}
	}()

	targets := []struct {
		name, url string
		auth      bool
	}{
		{"direct", upURL + "/v1/chat/completions", false},
		{"proxy", "http://" + px.addr + "/v1/chat/completions", false},
		{"gateway", "http://" + gw.addr + "/v1/chat/completions", true},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 20000, MaxIdleConns: 20000, IdleConnTimeout: 90 * time.Second}, Timeout: 30 * time.Second}
	cells := map[string]*cell{}
	key := func(t string, r int) string { return t + "/" + strconv.Itoa(r) }
	fmt.Fprintf(os.Stderr, "bench: %d rounds × %v × rates %v × 3 targets (upstream latency %v)\n", rounds, d, rates, latency)
	load0 := loadavg()
	for round := 1; round <= rounds; round++ {
		for _, rate := range rates {
			for _, t := range targets {
				attack(client, t.url, rate, warmup, t.auth) // warm connections and caches
			}
			// Alternate the order of targets between rounds.
			order := []int{0, 1, 2}
			if round%2 == 0 {
				order = []int{2, 1, 0}
			}
			for _, i := range order {
				t := targets[i]
				var before histo
				if t.name == "gateway" {
					before, _ = scrapeOverhead(gw.metrics)
				}
				proc := map[string]*child{"direct": up, "proxy": px, "gateway": gw}[t.name]
				cpu0 := proc.cpu()
				r := attack(client, t.url, rate, d, t.auth)
				cpuUsed := proc.cpu() - cpu0
				c := cells[key(t.name, rate)]
				if c == nil {
					c = &cell{}
					cells[key(t.name, rate)] = c
				}
				c.p50 = append(c.p50, r.q(0.50))
				c.p90 = append(c.p90, r.q(0.90))
				c.p99 = append(c.p99, r.q(0.99))
				c.max = append(c.max, r.q(1))
				c.errors += r.errors
				c.sent += r.sent
				c.achieved = append(c.achieved, float64(r.sent)/r.took.Seconds())
				c.cpuPerReq = append(c.cpuPerReq, float64(cpuUsed.Microseconds())/float64(r.sent))
				if c.firstErr == "" {
					c.firstErr = r.firstE
				}
				if t.name == "gateway" {
					after, err := scrapeOverhead(gw.metrics)
					if err == nil {
						c.ovP50 = append(c.ovP50, quantile(before, after, 0.5)*1e6)
						c.ovP99 = append(c.ovP99, quantile(before, after, 0.99)*1e6)
					}
				}
				fmt.Fprintf(os.Stderr, "round %d rate %5d %-8s p50 %6s ms p99 %7s ms errors %d\n", round, rate, t.name, ms(r.q(0.5)), ms(r.q(0.99)), r.errors)
			}
		}
	}
	peak := map[string]float64{}
	for name, c := range map[string]*child{"direct (mock upstream)": up, "proxy": px, "gateway": gw} {
		peak[name], _ = c.rssMiB()
	}

	fmt.Printf("\nLatency in ms, median of %d rounds of %v per target and rate (open-loop, measured from the scheduled send time).\n\n", rounds, d)
	fmt.Println("| rate (req/s) | target | p50 | p90 | p99 | max | errors / sent | server CPU per request (µs) |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, rate := range rates {
		for _, t := range targets {
			c := cells[key(t.name, rate)]
			fmt.Printf("| %d | %s | %s | %s | %s | %s | %d / %d | %.0f |\n", rate, t.name, ms(median(c.p50)), ms(median(c.p90)), ms(median(c.p99)), ms(median(c.max)), c.errors, c.sent, median(c.cpuPerReq))
		}
	}
	fmt.Println("\nAdded latency against direct (per round, then the median over rounds), and the gateway's ratio to the bare proxy:")
	fmt.Println()
	fmt.Println("| rate | proxy +p50 | gateway +p50 | ratio p50 | proxy +p99 | gateway +p99 | ratio p99 | gateway overhead histogram p50 / p99 (µs) |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, rate := range rates {
		d, p, g := cells[key("direct", rate)], cells[key("proxy", rate)], cells[key("gateway", rate)]
		var pa50, ga50, pa99, ga99 []time.Duration
		for i := range d.p50 {
			pa50 = append(pa50, p.p50[i]-d.p50[i])
			ga50 = append(ga50, g.p50[i]-d.p50[i])
			pa99 = append(pa99, p.p99[i]-d.p99[i])
			ga99 = append(ga99, g.p99[i]-d.p99[i])
		}
		ratio := func(a, b time.Duration) string {
			if b <= 0 {
				return "n/a"
			}
			return fmt.Sprintf("%.2f", float64(a)/float64(b))
		}
		fmt.Printf("| %d | %s | %s | %s | %s | %s | %s | %.1f / %.1f |\n", rate, ms(median(pa50)), ms(median(ga50)), ratio(median(ga50), median(pa50)),
			ms(median(pa99)), ms(median(ga99)), ratio(median(ga99), median(pa99)), median(g.ovP50), median(g.ovP99))
	}
	fmt.Printf("\n- load average (1 min) at start / end: %s / %s (other processes on the machine add noise)\n", load0, loadavg())
	for _, name := range []string{"direct (mock upstream)", "proxy", "gateway"} {
		fmt.Printf("- peak RSS %s: %.0f MiB\n", name, peak[name])
	}
	for k, c := range cells {
		if c.firstErr != "" {
			fmt.Printf("- first error at %s: %s\n", k, c.firstErr)
		}
	}
	if _, err := scrapeOverhead(gw.metrics); err != nil {
		return errors.New("gateway metrics unavailable: " + err.Error())
	}
	return nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
