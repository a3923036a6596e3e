package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/gateway/internal/sse"
	"github.com/llm-observatory/observatory/gateway/providers"
	"github.com/llm-observatory/observatory/internal/apikey"
	"github.com/llm-observatory/observatory/internal/storage"
)

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request, st *reqState) int {
	key, code := s.authenticate(w, r, apikey.ScopeGateway)
	if code != 0 {
		return code
	}
	body, aerr := s.readBody(w, r)
	if aerr != nil {
		return s.writeError(w, aerr)
	}
	req, aerr := api.ParseChatRequest(body)
	if aerr != nil {
		return s.writeError(w, aerr)
	}
	rec := s.newRecord(r, st, key, operationChat, req.Model)
	rec.chat, rec.stream = req, req.Stream
	targets, code := s.admit(w, rec, st, key, req.User)
	if code != 0 {
		return code
	}
	preq := &providers.ChatRequest{Body: req, IncludeUsage: true, Header: rec.upstreamHeader(), Timer: &st.timer}
	if req.Stream {
		code = s.streamChat(w, r, st, rec, targets, preq)
	} else {
		code = s.chatOnce(w, r, st, rec, targets, preq)
	}
	s.finish(rec, st, code)
	return code
}

func modelNotFound(model string) *api.Error {
	if len(model) > 128 {
		model = model[:128] + "…"
	}
	return api.NewError(http.StatusNotFound, api.TypeInvalidRequest, api.CodeModelNotFound, "model",
		"The model `%s` does not exist or you do not have access to it.", model)
}

// invoke runs call against the targets in order: each is retried with
// exponential backoff and jitter (honouring Retry-After) while its errors
// are retryable; a provider that cannot serve the call, or keeps failing,
// hands over to the next. Terminal errors and the caller leaving end it.
func (s *Server) invoke(ctx context.Context, rec *callRecord, targets []target, timer *providers.UpstreamTimer, call func(t target) error) *providers.Error {
	var last *providers.Error
	for ti, t := range targets {
		pname := t.prov.p.Name()
		for attempt := 1; attempt <= t.prov.retry.MaxAttempts; attempt++ {
			rec.attempts++
			rec.providerName, rec.providerConfig, rec.upstreamModel, rec.fallback = pname, t.prov.name, t.model, ti > 0
			t0 := time.Now()
			err := call(t)
			d := time.Since(t0).Seconds()
			if err == nil {
				s.m.upstream.WithLabelValues(t.prov.name, "ok").Observe(d)
				s.m.attempts.WithLabelValues(t.prov.name, "ok").Inc()
				if ti > 0 {
					s.m.fallbacks.WithLabelValues(rec.model).Inc()
				}
				return nil
			}
			pe := providers.Classify(pname, err)
			if ctx.Err() != nil && pe.Reason != "canceled" {
				pe = providers.Classify(pname, context.Cause(ctx))
			}
			s.m.upstream.WithLabelValues(t.prov.name, pe.Reason).Observe(d)
			s.m.attempts.WithLabelValues(t.prov.name, pe.Reason).Inc()
			last = pe
			if pe.Class == providers.Terminal || ctx.Err() != nil {
				return pe
			}
			s.log.Warn("gateway: upstream attempt failed", "request_id", rec.requestID, "provider", t.prov.name,
				"model", t.model, "attempt", attempt, "class", pe.Class.String(), "reason", pe.Reason, "status", pe.Status, "error", pe.Error())
			if pe.Class == providers.Fallback || attempt == t.prov.retry.MaxAttempts {
				break
			}
			wait := backoff(t.prov.retry, attempt)
			if pe.RetryAfter > 0 {
				if pe.RetryAfter > t.prov.retry.MaxRetryAfter {
					break // not worth waiting: fall back now
				}
				wait = max(wait, pe.RetryAfter)
			}
			start := time.Now()
			tm := time.NewTimer(wait)
			select {
			case <-tm.C:
			case <-ctx.Done():
				tm.Stop()
				timer.Since(start)
				return providers.Classify(pname, context.Cause(ctx))
			}
			timer.Since(start) // backoff is upstream-caused time
		}
	}
	return last
}

// backoff is the wait before attempt+1: exponential from InitialBackoff,
// capped at MaxBackoff, with "equal jitter" (half fixed, half random).
func backoff(r RetryConfig, attempt int) time.Duration {
	d := r.InitialBackoff
	for i := 1; i < attempt && d < r.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// upstreamError writes the caller-facing error of a failed call and fills
// the record.
func (s *Server) upstreamError(w http.ResponseWriter, rec *callRecord, pe *providers.Error, op string) int {
	rec.errType, rec.errMsg = pe.Reason, pe.Error()
	var e *api.Error
	switch pe.Reason {
	case "canceled":
		rec.clientGone, rec.errType = true, errorClientGone
		s.m.clientGone.Inc()
		return statusClientClosed
	case "bad_request":
		status := pe.Status
		if status < 400 || status > 499 {
			status = http.StatusBadRequest
		}
		typ := pe.Type
		if typ == "" {
			typ = api.TypeInvalidRequest
		}
		e = api.NewError(status, typ, pe.Code, "", "%s", pe.Message)
	case "rate_limited":
		wait := pe.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		e = api.NewError(http.StatusTooManyRequests, api.TypeRateLimit, api.CodeRateLimitExceeded, "",
			"The upstream provider is rate limiting requests for `%s`; retry in %ds.", rec.model, secs)
	case "timeout":
		e = api.NewError(http.StatusGatewayTimeout, api.TypeTimeout, "", "", "The upstream provider did not answer in time.")
	case "unsupported":
		e = api.NewError(http.StatusBadRequest, api.TypeInvalidRequest, "unsupported_operation", "model",
			"The model `%s` does not support %s.", rec.model, op)
	case "auth":
		e = api.NewError(http.StatusBadGateway, api.TypeServer, "", "", "The upstream provider refused the gateway's credentials; ask the gateway's operator to check its provider keys.")
	case "not_found":
		e = api.NewError(http.StatusBadGateway, api.TypeServer, "", "", "The upstream provider does not know the model the gateway routes `%s` to; ask the gateway's operator to check its model routes.", rec.model)
	default:
		msg := "The upstream provider failed (" + pe.Reason + ")"
		if pe.Message != "" {
			msg += ": " + pe.Message
		}
		e = api.NewError(http.StatusBadGateway, api.TypeServer, "", "", "%s", msg)
	}
	return s.writeError(w, e)
}

func (s *Server) chatOnce(w http.ResponseWriter, r *http.Request, st *reqState, rec *callRecord, targets []target, preq *providers.ChatRequest) int {
	var res *providers.ChatResponse
	pe := s.invoke(r.Context(), rec, targets, &st.timer, func(t target) error {
		preq.Model = t.model
		var err error
		res, err = t.prov.p.Chat(r.Context(), preq)
		return err
	})
	if pe != nil {
		return s.upstreamError(w, rec, pe, "chat completions")
	}
	rec.resp, rec.raw = res.Response, res.Raw
	if rec.resp != nil {
		rec.usage = rec.resp.Usage
	}
	if res.Raw != nil {
		return writeJSONBytes(w, res.Raw)
	}
	b, err := json.Marshal(res.Response)
	if err != nil {
		rec.errType, rec.errMsg = "internal", err.Error()
		return s.writeError(w, api.NewError(http.StatusInternalServerError, api.TypeServer, "", "", "Could not encode the response."))
	}
	return writeJSONBytes(w, b)
}

// streamChat opens the stream (retrying and falling back until a first
// chunk arrives: no byte goes to the caller before that), then relays
// chunks as they come. The usage chunk the gateway asked for is relayed
// only if the caller asked for it too. If the caller goes away, the
// upstream request is cancelled and the span says so.
func (s *Server) streamChat(w http.ResponseWriter, r *http.Request, st *reqState, rec *callRecord, targets []target, preq *providers.ChatRequest) int {
	ctx := r.Context()
	var stream providers.ChatStream
	var first *api.ChatChunk
	pe := s.invoke(ctx, rec, targets, &st.timer, func(t target) error {
		preq.Model = t.model
		cs, err := t.prov.p.ChatStream(ctx, preq)
		if err != nil {
			return err
		}
		c, err := cs.Next()
		if err != nil {
			_ = cs.Close()
			if errors.Is(err, io.EOF) {
				return &providers.Error{Provider: t.prov.p.Name(), Class: providers.Retryable, Reason: "bad_response", Message: "upstream stream ended without a chunk"}
			}
			return err
		}
		stream, first = cs, c
		return nil
	})
	if pe != nil {
		return s.upstreamError(w, rec, pe, "chat completions")
	}
	defer stream.Close()
	rec.ttft = time.Since(st.start)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	wantUsage := rec.chat.WantsUsage()
	acc := newAccumulator(*s.cfg.Telemetry.CaptureContent)
	var buf []byte
	write := func(c *api.ChatChunk) bool {
		acc.add(c)
		if len(c.Choices) == 0 && c.Usage != nil && !wantUsage {
			return true
		}
		b, err := json.Marshal(c)
		if err != nil {
			return false
		}
		buf = sse.AppendData(buf[:0], b)
		if _, err := w.Write(buf); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	clientGone := func() {
		rec.clientGone, rec.errType, rec.errMsg = true, errorClientGone, "client disconnected mid-stream; upstream request cancelled"
		s.m.clientGone.Inc()
	}
	defer func() { rec.resp, rec.usage = acc.result(), acc.usage }()
	if !write(first) {
		clientGone()
		return http.StatusOK
	}
	for {
		c, err := stream.Next()
		if errors.Is(err, io.EOF) {
			_, _ = io.WriteString(w, sse.Done)
			_ = rc.Flush()
			return http.StatusOK
		}
		if err != nil {
			if ctx.Err() != nil {
				clientGone()
				return http.StatusOK
			}
			pe := providers.Classify(rec.providerName, err)
			rec.errType, rec.errMsg = pe.Reason, "stream failed after it started: "+pe.Error()
			s.log.Warn("gateway: upstream stream failed mid-way", "request_id", rec.requestID, "provider", rec.providerConfig, "reason", pe.Reason, "error", pe.Error())
			msg := "The upstream provider's stream failed (" + pe.Reason + ")"
			if pe.Message != "" {
				msg += ": " + pe.Message
			}
			e := api.NewError(http.StatusBadGateway, api.TypeServer, "", "", "%s", msg)
			buf = sse.AppendData(buf[:0], e.Marshal())
			_, _ = w.Write(buf)
			_ = rc.Flush()
			return http.StatusOK
		}
		if !write(c) {
			clientGone()
			return http.StatusOK
		}
	}
}

// accumulator rebuilds a chat completion from its chunks for the span.
type accumulator struct {
	content bool
	resp    api.ChatResponse
	texts   map[int]*strings.Builder
	tools   map[int][]api.ToolCall
	finish  map[int]string
	usage   *api.Usage
}

func newAccumulator(content bool) *accumulator {
	return &accumulator{content: content, finish: map[int]string{}}
}

func (a *accumulator) add(c *api.ChatChunk) {
	if a.resp.ID == "" {
		a.resp.ID, a.resp.Model, a.resp.Created, a.resp.SystemFingerprint = c.ID, c.Model, c.Created, c.SystemFingerprint
	}
	if c.Usage != nil {
		a.usage = c.Usage
	}
	for _, ch := range c.Choices {
		if _, ok := a.finish[ch.Index]; !ok {
			a.finish[ch.Index] = ""
		}
		if ch.FinishReason != nil {
			a.finish[ch.Index] = *ch.FinishReason
		}
		if !a.content {
			continue
		}
		if ch.Delta.Content != nil {
			if a.texts == nil {
				a.texts = map[int]*strings.Builder{}
			}
			b := a.texts[ch.Index]
			if b == nil {
				b = &strings.Builder{}
				a.texts[ch.Index] = b
			}
			b.WriteString(*ch.Delta.Content)
		}
		for _, tc := range ch.Delta.ToolCalls {
			if a.tools == nil {
				a.tools = map[int][]api.ToolCall{}
			}
			calls := a.tools[ch.Index]
			for len(calls) <= tc.Index && tc.Index < 128 {
				calls = append(calls, api.ToolCall{Type: "function"})
			}
			if tc.Index < len(calls) {
				call := &calls[tc.Index]
				if tc.ID != "" {
					call.ID = tc.ID
				}
				if tc.Function.Name != "" {
					call.Function.Name = tc.Function.Name
				}
				call.Function.Arguments += tc.Function.Arguments
			}
			a.tools[ch.Index] = calls
		}
	}
}

func (a *accumulator) result() *api.ChatResponse {
	r := a.resp
	r.Object = "chat.completion"
	r.Usage = a.usage
	for i := 0; i < len(a.finish); i++ {
		ch := api.Choice{Index: i, FinishReason: a.finish[i], Message: api.ResponseMessage{Role: "assistant"}}
		if b := a.texts[i]; b != nil {
			t := b.String()
			ch.Message.Content = &t
		}
		ch.Message.ToolCalls = a.tools[i]
		r.Choices = append(r.Choices, ch)
	}
	return &r
}

// admit records the body's user when no header named one, applies the
// key's limits and routes the model. A non-zero code means the call was
// answered (429 or 404) and finished.
func (s *Server) admit(w http.ResponseWriter, rec *callRecord, st *reqState, key storage.APIKey, user string) ([]target, int) {
	if rec.userID == "" {
		rec.userID = clipHeader(user)
	}
	if limit, wait := s.limiter.allow(key, s.now()); limit != "" {
		code := s.rateLimited(w, limit, wait)
		rec.errType, rec.errMsg = "rate_limited", "per-key "+limit+" limit reached"
		s.finish(rec, st, code)
		return nil, code
	}
	targets, ok := s.routes[rec.model]
	if !ok {
		code := s.writeError(w, modelNotFound(rec.model))
		rec.errType, rec.errMsg = api.CodeModelNotFound, "model not configured"
		s.finish(rec, st, code)
		return nil, code
	}
	return targets, 0
}

func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request, st *reqState) int {
	key, code := s.authenticate(w, r, apikey.ScopeGateway)
	if code != 0 {
		return code
	}
	body, aerr := s.readBody(w, r)
	if aerr != nil {
		return s.writeError(w, aerr)
	}
	req, aerr := api.ParseEmbeddingsRequest(body)
	if aerr != nil {
		return s.writeError(w, aerr)
	}
	rec := s.newRecord(r, st, key, operationEmbeddings, req.Model)
	rec.emb = req
	targets, code := s.admit(w, rec, st, key, req.User)
	if code != 0 {
		return code
	}
	preq := &providers.EmbeddingsRequest{Body: req, Header: rec.upstreamHeader(), Timer: &st.timer}
	var res *providers.EmbeddingsResponse
	pe := s.invoke(r.Context(), rec, targets, &st.timer, func(t target) error {
		preq.Model = t.model
		var err error
		res, err = t.prov.p.Embeddings(r.Context(), preq)
		return err
	})
	if pe != nil {
		code = s.upstreamError(w, rec, pe, "embeddings")
	} else {
		rec.embResp, rec.raw = res.Response, res.Raw
		if rec.embResp != nil {
			rec.usage = rec.embResp.Usage
		}
		if res.Raw != nil {
			code = writeJSONBytes(w, res.Raw)
		} else if b, err := json.Marshal(res.Response); err == nil {
			code = writeJSONBytes(w, b)
		} else {
			code = s.writeError(w, api.NewError(http.StatusInternalServerError, api.TypeServer, "", "", "Could not encode the response."))
		}
	}
	s.finish(rec, st, code)
	return code
}
