package mock

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/gateway/internal/sse"
	"github.com/llm-observatory/observatory/gateway/providers"
)

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// APIKey, when set, must arrive as `Authorization: Bearer <key>`.
	APIKey string
	// MaxBodyBytes bounds a request [8 MiB].
	MaxBodyBytes int64
}

// NewHandler serves m over HTTP as an OpenAI-compatible API:
// POST /v1/chat/completions (JSON and SSE), POST /v1/embeddings and
// GET /v1/models.
func NewHandler(m *Mock, o HandlerOptions) http.Handler {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	h := &handler{m: m, o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", h.chat)
	mux.HandleFunc("POST /v1/embeddings", h.embeddings)
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, api.ModelList{Object: "list", Data: []api.Model{{ID: "mock", Object: "model", OwnedBy: "observatory"}}})
	})
	return h.auth(mux)
}

type handler struct {
	m *Mock
	o HandlerOptions
}

func (h *handler) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.o.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+h.o.APIKey {
			writeError(w, api.NewError(http.StatusUnauthorized, api.TypeInvalidRequest, api.CodeInvalidAPIKey, "", "Incorrect API key provided."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *api.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(e.Marshal())
}

func writeProviderError(w http.ResponseWriter, err error) {
	var pe *providers.Error
	if errors.As(err, &pe) && pe.Status != 0 {
		if pe.RetryAfter > 0 {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, api.NewError(pe.Status, api.TypeServer, "", "", "%s", pe.Message))
		return
	}
	writeError(w, api.NewError(http.StatusInternalServerError, api.TypeServer, "", "", "mock failure"))
}

func (h *handler) read(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.o.MaxBodyBytes))
	if err != nil {
		writeError(w, api.NewError(http.StatusRequestEntityTooLarge, api.TypeInvalidRequest, api.CodeRequestTooLarge, "", "request body too large"))
		return nil, false
	}
	return body, true
}

func (h *handler) chat(w http.ResponseWriter, r *http.Request) {
	body, ok := h.read(w, r)
	if !ok {
		return
	}
	req, e := api.ParseChatRequest(body)
	if e != nil {
		writeError(w, e)
		return
	}
	preq := &providers.ChatRequest{Body: req, Model: req.Model, IncludeUsage: req.WantsUsage()}
	if !req.Stream {
		resp, err := h.m.Chat(r.Context(), preq)
		if err != nil {
			writeProviderError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, resp.Response)
		return
	}
	st, err := h.m.ChatStream(r.Context(), preq)
	if err != nil {
		writeProviderError(w, err)
		return
	}
	defer st.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var buf []byte
	for {
		c, err := st.Next()
		if err != nil {
			break
		}
		b, _ := json.Marshal(c)
		buf = sse.AppendData(buf[:0], b)
		if _, err := w.Write(buf); err != nil {
			return
		}
		_ = rc.Flush()
	}
	_, _ = io.WriteString(w, sse.Done)
	_ = rc.Flush()
}

func (h *handler) embeddings(w http.ResponseWriter, r *http.Request) {
	body, ok := h.read(w, r)
	if !ok {
		return
	}
	req, e := api.ParseEmbeddingsRequest(body)
	if e != nil {
		writeError(w, e)
		return
	}
	resp, err := h.m.Embeddings(r.Context(), &providers.EmbeddingsRequest{Body: req, Model: req.Model})
	if err != nil {
		writeProviderError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp.Response)
}
