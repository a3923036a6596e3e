package demo

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys written by the demo.
const (
	keyEndpoint       = "observatory.endpoint"
	keyOperation      = "gen_ai.operation.name"
	keyProvider       = "gen_ai.provider.name"
	keyRequestModel   = "gen_ai.request.model"
	keyConversationID = "gen_ai.conversation.id"
	keyUserID         = "user.id"
	keyErrorType      = "error.type"
	keyHTTPStatus     = "http.response.status_code"
)

// errorRate is the share of model calls that fail.
const errorRate = 0.045

// spanPlan is one span of a planned trace, timed relative to the trace start.
type spanPlan struct {
	name      string
	kind      trace.SpanKind
	start     time.Duration
	end       time.Duration
	attrs     []attribute.KeyValue
	status    codes.Code
	statusMsg string
	events    []eventPlan
	children  []*spanPlan
}

type eventPlan struct {
	name  string
	at    time.Duration
	attrs []attribute.KeyValue
}

func (s *spanPlan) add(c *spanPlan) { s.children = append(s.children, c) }

// fail marks s failed the way a server or agent span does when a model call
// below it failed.
func (s *spanPlan) fail(errType string) {
	s.status = codes.Error
	s.attrs = append(s.attrs, attribute.String(keyErrorType, errType))
}

// app is one simulated application.
type app struct {
	service, version, endpoint string
	host, route                string
	weight                     float64
	maxTurns                   int // 1: no conversations
}

func apps() []app {
	return []app{
		{service: "support-bot", version: "2.14.1", endpoint: "support-chat", host: "support.northwind-outfitters.example", route: "/chat", weight: 0.45, maxTurns: 5},
		{service: "search-api", version: "1.9.0", endpoint: "semantic-search", host: "search.northwind-outfitters.example", route: "/search", weight: 0.30, maxTurns: 1},
		{service: "docs-agent", version: "0.7.3", endpoint: "docs-agent", host: "docs.relay.example", route: "/v1/ask", weight: 0.25, maxTurns: 3},
	}
}

type user struct {
	id     string
	person int // index into people()
}

// session is a conversation (a few traces with one gen_ai.conversation.id).
type session struct {
	id      string
	user    user
	turns   int
	turn    int
	history []message
	used    uint32 // follow-ups already asked (bit set)

	// support-bot
	model                                  string
	intent, prompt                         int
	order, product, day, carrier, tracking string
	status, eta, amount                    string

	docs      int  // docs-agent: the first question
	searchQ   int  // search-api: the query
	anonymous bool // search-api: not signed in
}

// generator plans traces. All shape and content come from r; the ids that
// must differ between runs (conversation, response and tool call ids) come
// from ids, which is seeded from the seed only for deterministic runs.
type generator struct {
	r        *rand.Rand
	ids      *rand.Rand
	models   map[string]model
	apps     []app
	shoppers []user
	devs     []user
	active   [][]*session
	warm     map[string]bool // prompt prefixes a provider has cached

	calls, failures int // model calls planned so far, and how many failed
}

// failureChance keeps the share of failed model calls near errorRate in
// every run, small ones included, while failures still come at random.
func (g *generator) failureChance() float64 {
	behind := errorRate*float64(g.calls) - float64(g.failures)
	return min(0.5, max(0, errorRate+0.1*behind))
}

func newGenerator(seed int64, ids *rand.Rand) *generator {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6f62736572766174)) // "observat"
	g := &generator{r: r, ids: ids, models: catalog(), apps: apps(), warm: map[string]bool{}}
	g.active = make([][]*session, len(g.apps))
	for i := range 16 {
		g.shoppers = append(g.shoppers, user{id: "usr_" + randString(r, alnum, 10), person: i % len(people())})
	}
	for i := range 8 {
		g.devs = append(g.devs, user{id: "dev_" + randString(r, alnum, 10), person: i % len(people())})
	}
	return g
}

func (g *generator) uniform(lohi [2]float64) float64 {
	return lohi[0] + g.r.Float64()*(lohi[1]-lohi[0])
}

// ms returns a uniform duration between lo and hi milliseconds.
func (g *generator) ms(lo, hi float64) time.Duration {
	return time.Duration((lo + g.r.Float64()*(hi-lo)) * float64(time.Millisecond))
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func (g *generator) pick(n int) int { return g.r.IntN(n) }

// uuid makes a random (version 4) UUID from the id source.
func (g *generator) uuid() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], g.ids.Uint64())
	binary.BigEndian.PutUint64(b[8:], g.ids.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// nextTrace plans the next user interaction: which app, which conversation.
func (g *generator) nextTrace() (int, *spanPlan) {
	x := g.r.Float64()
	a := len(g.apps) - 1
	for i, ap := range g.apps {
		if x < ap.weight {
			a = i
			break
		}
		x -= ap.weight
	}
	var s *session
	if act := g.active[a]; len(act) > 0 && (len(act) >= 3 || g.r.Float64() < 0.65) {
		s = act[g.pick(len(act))]
	} else {
		s = g.newSession(a)
		if s.turns > 1 {
			g.active[a] = append(g.active[a], s)
		}
	}
	s.turn++
	if s.turn >= s.turns {
		g.active[a] = slices.DeleteFunc(g.active[a], func(x *session) bool { return x == s })
	}
	t := &tctx{g: g, app: g.apps[a], s: s}
	t.common = []attribute.KeyValue{attribute.String(keyEndpoint, t.app.endpoint)}
	if !s.anonymous {
		t.common = append(t.common, attribute.String(keyUserID, s.user.id))
	}
	if s.id != "" {
		t.common = append(t.common, attribute.String(keyConversationID, s.id))
	}
	switch a {
	case 0:
		return a, t.support()
	case 1:
		return a, t.search()
	default:
		return a, t.docs()
	}
}

func (g *generator) newSession(a int) *session {
	r := g.r
	s := &session{turns: 1}
	switch a {
	case 0: // support-bot
		s.user = g.shoppers[g.pick(len(g.shoppers))]
		s.turns = 1 + g.pick(4)
		if r.Float64() < 0.1 {
			s.turns = g.apps[a].maxTurns
		}
		s.model = "gpt-4o"
		if r.Float64() < 0.25 {
			s.model = "claude-sonnet-4-5"
		}
		s.intent = g.pick(len(supportIntents()))
		s.prompt = g.pick(len(supportIntents()[s.intent].prompts))
		s.order = strconv.Itoa(100000 + g.pick(900000))
		s.product = products()[g.pick(len(products()))]
		s.day = weekdays()[g.pick(len(weekdays()))]
		s.carrier = carriers()[g.pick(len(carriers()))]
		s.status = orderStatuses()[g.pick(len(orderStatuses()))]
		s.eta = weekdays()[g.pick(len(weekdays()))]
		s.amount = fmt.Sprintf("%d.%02d", 29+g.pick(400), g.pick(100))
		if s.carrier == "UPS" {
			s.tracking = "1Z" + randString(r, "0123456789ABCDEFGHJKLMNPRSTUVWXYZ", 16)
		} else {
			s.tracking = randString(r, "0123456789", 12+2*g.pick(3))
		}
		s.id = g.uuid()
	case 1: // search-api: single requests, often anonymous
		s.user = g.shoppers[g.pick(len(g.shoppers))]
		s.anonymous = r.Float64() < 0.3
		s.searchQ = g.pick(len(searchQueries()))
	default: // docs-agent
		s.user = g.devs[g.pick(len(g.devs))]
		s.turns = 1 + g.pick(g.apps[a].maxTurns)
		s.docs = g.pick(len(docsQuestions()))
		s.id = g.uuid()
	}
	return s
}

// fill replaces the {placeholders} of a support template.
func (s *session) fill(tmpl string) string {
	p := people()[s.user.person]
	return strings.NewReplacer(
		"{order}", s.order, "{product}", s.product, "{day}", s.day, "{carrier}", s.carrier,
		"{tracking}", s.tracking, "{eta}", s.eta, "{amount}", s.amount,
		"{email}", p.email, "{phone}", p.phone,
	).Replace(tmpl)
}

// nextFollowUp picks a follow-up of n not asked yet in this session.
func (g *generator) nextFollowUp(s *session, n int) int {
	for {
		i := g.pick(n)
		if s.used&(1<<i) == 0 || s.used == 1<<n-1 {
			s.used |= 1 << i
			return i
		}
	}
}

// tctx plans one trace.
type tctx struct {
	g      *generator
	app    app
	s      *session
	common []attribute.KeyValue
}

func (t *tctx) span(name string, kind trace.SpanKind, start time.Duration, attrs ...attribute.KeyValue) *spanPlan {
	return &spanPlan{name: name, kind: kind, start: start, attrs: append(slices.Clip(t.common), attrs...)}
}

func userAgents(service string) []string {
	browsers := []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	}
	if service == "docs-agent" {
		return append(browsers, "relay-cli/1.12.0 (linux; amd64)", "relay-cli/1.12.0 (darwin; arm64)")
	}
	return browsers
}

// server plans the HTTP server span at the root of every trace.
func (t *tctx) server() *spanPlan {
	g := t.g
	uas := userAgents(t.app.service)
	return t.span("POST "+t.app.route, trace.SpanKindServer, 0,
		attribute.String("http.request.method", "POST"),
		attribute.String("http.route", t.app.route),
		attribute.String("url.path", t.app.route),
		attribute.String("url.scheme", "https"),
		attribute.String("server.address", t.app.host),
		attribute.Int("server.port", 443),
		attribute.String("network.protocol.version", "1.1"),
		attribute.String("client.address", fmt.Sprintf("203.0.113.%d", 1+g.pick(254))),
		attribute.String("user_agent.original", uas[g.pick(len(uas))]),
	)
}

// finish ends the server span with the HTTP status of the response.
func (t *tctx) finish(root *spanPlan, end time.Duration, failure *apiError) *spanPlan {
	root.end = end
	status := 200
	if failure != nil {
		status = 502
		if failure.httpStatus == 429 || failure.httpStatus == 529 {
			status = 503
		}
		root.fail(strconv.Itoa(status))
	}
	root.attrs = append(root.attrs, attribute.Int(keyHTTPStatus, status))
	return root
}

func (t *tctx) db(op, table, query string, start time.Duration, lo, hi float64) *spanPlan {
	sp := t.span(op+" "+table, trace.SpanKindClient, start,
		attribute.String("db.system.name", "postgresql"),
		attribute.String("db.namespace", strings.ReplaceAll(t.app.service, "-", "_")),
		attribute.String("db.operation.name", op),
		attribute.String("db.collection.name", table),
		attribute.String("db.query.text", query),
		attribute.String("server.address", "db.internal.example"),
		attribute.Int("server.port", 5432),
	)
	sp.end = start + t.g.ms(lo, hi)
	return sp
}

func (t *tctx) redis(op, key string, start time.Duration) *spanPlan {
	sp := t.span(op, trace.SpanKindClient, start,
		attribute.String("db.system.name", "redis"),
		attribute.String("db.operation.name", op),
		attribute.String("db.query.text", op+" "+key),
		attribute.String("server.address", "cache.internal.example"),
		attribute.Int("server.port", 6379),
	)
	sp.end = start + t.g.ms(0.3, 2.5)
	return sp
}

func (t *tctx) agent(name, modelName string, start time.Duration) *spanPlan {
	m := t.g.models[modelName]
	return t.span("invoke_agent "+name, trace.SpanKindInternal, start,
		attribute.String(keyOperation, "invoke_agent"),
		attribute.String(keyProvider, m.provider),
		attribute.String(keyRequestModel, m.name),
		attribute.String("gen_ai.agent.name", name),
		attribute.String("gen_ai.agent.id", "agt_"+strings.ReplaceAll(name, "-", "_")),
	)
}

func (t *tctx) tool(name, callID string, args, result any, start time.Duration) *spanPlan {
	return t.span("execute_tool "+name, trace.SpanKindInternal, start,
		attribute.String(keyOperation, "execute_tool"),
		attribute.String("gen_ai.tool.name", name),
		attribute.String("gen_ai.tool.type", "function"),
		attribute.String("gen_ai.tool.call.id", callID),
		attribute.String("gen_ai.tool.call.arguments", mustJSON(args)),
		attribute.String("gen_ai.tool.call.result", mustJSON(result)),
	)
}

// call is one model call to plan.
type call struct {
	model     string
	op        string // chat or embeddings
	system    string
	tools     int // tokens of tool definitions sent along
	input     []message
	output    []message // chat: what the model answers
	finish    string    // chat: finish reason of the output
	embed     string    // embeddings: the text embedded
	temp      float64
	maxTokens int
	stream    bool
	cached    int  // leading input messages the provider has seen before
	noFail    bool // this call succeeds (a retry)
}

// llm plans one model call span starting at start and returns it with the
// failure, if the call failed.
func (t *tctx) llm(c call, start time.Duration) (*spanPlan, *apiError) {
	g := t.g
	m := g.models[c.model]
	op := c.op
	if op == "" {
		op = "chat"
	}
	sp := t.span(op+" "+m.name, trace.SpanKindClient, start,
		attribute.String(keyOperation, op),
		attribute.String(keyProvider, m.provider),
		attribute.String(keyRequestModel, m.name),
		attribute.String("server.address", m.server),
		attribute.Int("server.port", m.port),
	)
	if op == "chat" {
		sp.attrs = append(sp.attrs,
			attribute.Float64("gen_ai.request.temperature", c.temp),
			attribute.Int("gen_ai.request.max_tokens", c.maxTokens),
			attribute.String("gen_ai.output.type", "text"),
		)
		if c.stream {
			sp.attrs = append(sp.attrs, attribute.Bool("gen_ai.request.stream", true))
		}
		if c.system != "" {
			sp.attrs = append(sp.attrs, attribute.String("gen_ai.system_instructions",
				mustJSON([]part{{Type: "text", Content: c.system}})))
		}
		sp.attrs = append(sp.attrs, attribute.String("gen_ai.input.messages", mustJSON(c.input)))
	} else {
		sp.attrs = append(sp.attrs,
			attribute.Int("gen_ai.embeddings.dimension.count", 1536),
			attribute.StringSlice("gen_ai.request.encoding_formats", []string{"float"}),
		)
	}

	g.calls++
	if !c.noFail && g.r.Float64() < g.failureChance() {
		g.failures++
		e := providerError(g.r, m)
		sp.end = start + seconds(g.uniform(e.latency))
		sp.status, sp.statusMsg = codes.Error, fmt.Sprintf("%d: %s", e.httpStatus, e.message)
		sp.attrs = append(sp.attrs,
			attribute.String(keyErrorType, e.errType),
			attribute.Int(keyHTTPStatus, e.httpStatus),
		)
		sp.events = append(sp.events, eventPlan{name: "exception", at: sp.end, attrs: []attribute.KeyValue{
			attribute.String("exception.type", e.excType),
			attribute.String("exception.message", fmt.Sprintf("Error code: %d - %s", e.httpStatus, e.message)),
		}})
		return sp, &e
	}

	if op == "embeddings" {
		in := tokens(c.embed)
		sp.end = start + seconds(g.uniform(m.ttft)+float64(in)*0.00001)
		sp.attrs = append(sp.attrs,
			attribute.String("gen_ai.response.model", m.responseModel),
			attribute.Int("gen_ai.usage.input_tokens", in),
		)
		return sp, nil
	}

	prefix := 3 + tokens(c.system) + c.tools
	if c.system == "" {
		prefix = 3 + c.tools
	}
	in := prefix + messageTokens(c.input)
	cachedTokens := prefix + messageTokens(c.input[:min(c.cached, len(c.input))])
	key := m.name + "|" + c.system
	cacheRead := 0
	if (g.warm[key] || c.cached > 0) && m.provider != "mistral_ai" && m.provider != "acme" &&
		cachedTokens >= 256 && g.r.Float64() < 0.7 {
		cacheRead = cachedTokens &^ 127 // providers cache in blocks of 128 tokens
	}
	g.warm[key] = true
	out := 1
	for _, msg := range c.output {
		out += partTokens(msg.Parts)
	}
	ttft := g.uniform(m.ttft) + float64(in-cacheRead)*0.00002
	sp.end = start + seconds(ttft+float64(out)/g.uniform(m.tps))
	finish := c.finish
	if finish == "" {
		finish = "stop"
	}
	sp.attrs = append(sp.attrs,
		attribute.String("gen_ai.response.model", m.responseModel),
		attribute.String("gen_ai.response.id", responseID(g.ids, m)),
		attribute.StringSlice("gen_ai.response.finish_reasons", []string{finish}),
		attribute.Int("gen_ai.usage.input_tokens", in),
		attribute.Int("gen_ai.usage.output_tokens", out),
	)
	if cacheRead > 0 {
		sp.attrs = append(sp.attrs, attribute.Int("gen_ai.usage.cache_read.input_tokens", cacheRead))
	}
	if c.stream {
		sp.attrs = append(sp.attrs, attribute.Float64("gen_ai.response.time_to_first_chunk", roundMillis(ttft)))
	}
	sp.attrs = append(sp.attrs, attribute.String("gen_ai.output.messages", mustJSON(asOutput(c.output, finish))))
	return sp, nil
}

func roundMillis(s float64) float64 { return float64(int64(s*1000+0.5)) / 1000 }

// llmRetry plans a model call under parent; a failed call that can be
// retried is retried once after a back-off, as SDKs do, most of the time.
// It returns when the caller can go on and the failure, if any.
func (t *tctx) llmRetry(parent *spanPlan, c call, at time.Duration) (time.Duration, *apiError) {
	g := t.g
	sp, err := t.llm(c, at)
	parent.add(sp)
	at = sp.end
	if err != nil && err.retryable && g.r.Float64() < 0.6 {
		at += g.ms(500, 2000)
		c.noFail = true
		sp, err = t.llm(c, at)
		parent.add(sp)
		at = sp.end
	}
	return at + g.ms(0.5, 3), err
}

// support plans one turn of a support-bot conversation: guardrail, agent
// with chat calls and the get_order_status tool, database reads and writes.
func (t *tctx) support() *spanPlan {
	g, s := t.g, t.s
	m := g.models[s.model]
	root := t.server()
	load := t.db("SELECT", "messages", "SELECT role, content FROM messages WHERE conversation_id = $1 ORDER BY created_at", g.ms(1, 4), 1.5, 9)
	root.add(load)
	at := load.end + g.ms(0.5, 2)

	intent := supportIntents()[s.intent]
	var question, answer string
	useTool := false
	if s.turn == 1 {
		question = s.fill(intent.prompts[s.prompt])
		useTool = intent.tool
		if useTool {
			answer = s.fill(intent.lead + statusSentence(s.status))
		} else {
			answer = s.fill(intent.answers[g.pick(len(intent.answers))])
		}
	} else {
		fu := supportFollowUps()
		f := fu[g.nextFollowUp(s, len(fu))]
		question, answer = s.fill(f.prompt), s.fill(f.answer)
	}

	if g.r.Float64() < 0.3 { // input guardrail on the self-hosted model; fails open
		sp, _ := t.llm(call{model: unknownModel, system: guardrailSystemPrompt,
			input: []message{userMsg(question)}, output: []message{assistantMsg("SAFE")},
			maxTokens: 5}, at)
		root.add(sp)
		at = sp.end + g.ms(0.5, 2)
	}

	agent := t.agent("support-agent", s.model, at)
	root.add(agent)
	at += g.ms(0.5, 2)
	input := append(slices.Clone(s.history), userMsg(question))
	base := call{model: s.model, system: supportSystemPrompt, tools: orderToolTokens,
		temp: 0.3, maxTokens: 800, cached: max(0, len(s.history)-1)}
	var failure *apiError
	if useTool {
		callID := toolCallID(g.ids, m)
		args := map[string]any{"order_id": s.order}
		first := base
		first.input, first.output, first.finish = input, []message{toolCallMsg(callID, "get_order_status", args)}, "tool_call"
		at, failure = t.llmRetry(agent, first, at)
		if failure == nil {
			result := map[string]any{"order_id": s.order, "status": s.status, "items": []string{s.product}}
			if s.status != "processing" {
				result["carrier"], result["tracking_number"], result["estimated_delivery"] = s.carrier, s.tracking, s.eta
			}
			tool := t.tool("get_order_status", callID, args, result, at)
			q := t.db("SELECT", "orders", "SELECT status, carrier, tracking_number, eta FROM orders WHERE id = $1 AND customer_id = $2", at+g.ms(0.2, 1), 2, 14)
			tool.add(q)
			tool.end = q.end + g.ms(0.3, 1.5)
			agent.add(tool)
			at = tool.end + g.ms(0.3, 1.5)
			second := base
			second.input = append(slices.Clone(input), toolCallMsg(callID, "get_order_status", args), toolResponseMsg(callID, result))
			second.output, second.stream, second.cached = []message{assistantMsg(answer)}, true, len(input)
			at, failure = t.llmRetry(agent, second, at)
		}
	} else {
		only := base
		only.input, only.output, only.stream = input, []message{assistantMsg(answer)}, true
		at, failure = t.llmRetry(agent, only, at)
	}
	agent.end = at
	if failure != nil {
		agent.fail(failure.errType)
		return t.finish(root, at+g.ms(0.5, 2), failure)
	}
	s.history = append(input, assistantMsg(answer))
	save := t.db("INSERT", "messages", "INSERT INTO messages (conversation_id, role, content) VALUES ($1, 'user', $2), ($1, 'assistant', $3)", at+g.ms(0.3, 1), 2, 8)
	root.add(save)
	return t.finish(root, save.end+g.ms(0.3, 1.5), nil)
}

// search plans a semantic search: cache lookup, query embedding, vector
// query, and a short summary of the results by a small model.
func (t *tctx) search() *spanPlan {
	g, s := t.g, t.s
	q := searchQueries()[s.searchQ]
	root := t.server()
	key := fmt.Sprintf("search:v2:%08x", hashString(q.q))
	get := t.redis("GET", key, g.ms(0.5, 2))
	root.add(get)
	at := get.end + g.ms(0.2, 1)
	if g.r.Float64() < 0.15 { // cached answer: no model call at all
		return t.finish(root, at+g.ms(0.5, 2), nil)
	}
	emb, failure := t.llm(call{model: "text-embedding-3-small", op: "embeddings", embed: q.q}, at)
	root.add(emb)
	if failure != nil {
		return t.finish(root, emb.end+g.ms(0.5, 2), failure)
	}
	vec := t.db("SELECT", "products", "SELECT id, title, price, snippet FROM products ORDER BY embedding <=> $1 LIMIT 10", emb.end+g.ms(0.3, 1), 6, 45)
	root.add(vec)
	at = vec.end + g.ms(0.3, 1.5)

	var b strings.Builder
	fmt.Fprintf(&b, "Query: %s\n\nResults:", q.q)
	for i, res := range q.results {
		fmt.Fprintf(&b, "\n%d. %s", i+1, res)
	}
	names := [3]string{}
	for i, res := range q.results {
		names[i], _, _ = strings.Cut(res, " (") // the product name without price and details
	}
	summary := strings.NewReplacer("{q}", q.q, "{r1}", names[0], "{r2}", names[1], "{r3}", names[2]).
		Replace(searchSummaries()[g.pick(len(searchSummaries()))])
	modelName := "gpt-4o-mini"
	if g.r.Float64() < 0.35 {
		modelName = "gemini-2.0-flash"
	}
	sum, failure := t.llm(call{model: modelName, system: searchSystemPrompt,
		input: []message{userMsg(b.String())}, output: []message{assistantMsg(summary)},
		temp: 0.2, maxTokens: 300, stream: g.r.Float64() < 0.5}, at)
	root.add(sum)
	at = sum.end + g.ms(0.3, 1)
	if failure == nil { // a failed summary degrades to plain results
		set := t.redis("SET", key, at)
		root.add(set)
		at = set.end
	}
	return t.finish(root, at+g.ms(0.5, 2), nil)
}

// docs plans one turn of the docs agent: optional intent classification
// and title generation, chat calls around a search_docs tool that embeds the
// query and reads the vector index.
func (t *tctx) docs() *spanPlan {
	g, s := t.g, t.s
	dq := docsQuestions()[s.docs]
	root := t.server()
	at := g.ms(0.5, 3)
	agent := t.agent("docs-agent", "claude-sonnet-4-5", at)
	root.add(agent)
	at += g.ms(0.5, 2)

	var question, answer string
	if s.turn == 1 {
		question, answer = dq.q, dq.answer
		if g.r.Float64() < 0.3 { // conversation title, generated in parallel
			sp, _ := t.llm(call{model: "mistral-large-latest", system: titleSystemPrompt,
				input: []message{userMsg(question)}, output: []message{assistantMsg(dq.title)},
				temp: 0.3, maxTokens: 20}, at)
			root.add(sp)
		}
		if g.r.Float64() < 0.4 { // route by intent; a failure falls back to the default route
			sp, _ := t.llm(call{model: "claude-3-5-haiku", system: classifySystemPrompt,
				input: []message{userMsg(question)}, output: []message{assistantMsg(dq.label)},
				maxTokens: 10}, at)
			agent.add(sp)
			at = sp.end + g.ms(0.3, 1.5)
		}
	} else {
		fu := docsFollowUps()
		f := fu[g.nextFollowUp(s, len(fu))]
		question, answer = f.prompt, f.answer
	}

	input := append(slices.Clone(s.history), userMsg(question))
	base := call{model: "claude-sonnet-4-5", system: docsSystemPrompt, tools: docsToolTokens,
		temp: 0.2, maxTokens: 1500, cached: max(0, len(s.history)-1)}
	var failure *apiError
	if s.turn == 1 {
		m := g.models[base.model]
		callID := toolCallID(g.ids, m)
		args := map[string]any{"query": dq.query, "top_k": 5}
		first := base
		first.input, first.output, first.finish = input, []message{toolCallMsg(callID, "search_docs", args)}, "tool_call"
		at, failure = t.llmRetry(agent, first, at)
		if failure == nil {
			excerpt, _, _ := strings.Cut(dq.answer, ". ")
			result := map[string]any{"results": []map[string]any{
				{"path": dq.pages[0][0], "title": dq.pages[0][1], "score": 0.89, "excerpt": excerpt + "."},
				{"path": dq.pages[1][0], "title": dq.pages[1][1], "score": 0.81, "excerpt": "See also: " + dq.pages[1][1] + "."},
			}}
			tool := t.tool("search_docs", callID, args, result, at)
			agent.add(tool)
			emb, embErr := t.llm(call{model: "text-embedding-3-small", op: "embeddings", embed: dq.query}, at+g.ms(0.2, 1))
			tool.add(emb)
			tool.end = emb.end + g.ms(0.2, 1)
			if embErr != nil {
				tool.fail(embErr.errType)
				failure = embErr
			} else {
				vec := t.db("SELECT", "doc_chunks", "SELECT path, title, chunk FROM doc_chunks ORDER BY embedding <=> $1 LIMIT $2", tool.end, 5, 35)
				tool.add(vec)
				tool.end = vec.end + g.ms(0.3, 1.5)
				at = tool.end + g.ms(0.3, 1.5)
				second := base
				second.input = append(slices.Clone(input), toolCallMsg(callID, "search_docs", args), toolResponseMsg(callID, result))
				second.output, second.stream, second.cached = []message{assistantMsg(answer)}, true, len(input)
				at, failure = t.llmRetry(agent, second, at)
			}
			at = max(at, tool.end)
		}
	} else {
		only := base
		only.input, only.output, only.stream = input, []message{assistantMsg(answer)}, true
		at, failure = t.llmRetry(agent, only, at)
	}
	agent.end = at
	if failure != nil {
		agent.fail(failure.errType)
	} else {
		s.history = append(input, assistantMsg(answer))
	}
	end := at + g.ms(0.5, 2)
	for _, c := range root.children { // the title call may outlast the answer
		end = max(end, c.end+g.ms(0.2, 1))
	}
	return t.finish(root, end, failure)
}

func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}
