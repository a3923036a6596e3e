package demo

import "math/rand/v2"

// model describes how a simulated model answers: who serves it and how fast.
type model struct {
	name          string
	provider      string // gen_ai.provider.name
	responseModel string
	server        string
	port          int
	embedding     bool
	ttft          [2]float64 // seconds to the first token, uniform range
	tps           [2]float64 // output tokens per second, uniform range
}

// The unknown, self-hosted model: no price table knows it.
const unknownModel = "acme-llm-7b"

func catalog() map[string]model {
	ms := []model{
		{name: "gpt-4o", provider: "openai", responseModel: "gpt-4o-2024-08-06", server: "api.openai.com", port: 443, ttft: [2]float64{0.35, 0.9}, tps: [2]float64{55, 90}},
		{name: "gpt-4o-mini", provider: "openai", responseModel: "gpt-4o-mini-2024-07-18", server: "api.openai.com", port: 443, ttft: [2]float64{0.25, 0.6}, tps: [2]float64{85, 130}},
		{name: "text-embedding-3-small", provider: "openai", responseModel: "text-embedding-3-small", server: "api.openai.com", port: 443, embedding: true, ttft: [2]float64{0.08, 0.25}},
		{name: "claude-sonnet-4-5", provider: "anthropic", responseModel: "claude-sonnet-4-5-20250929", server: "api.anthropic.com", port: 443, ttft: [2]float64{0.7, 1.6}, tps: [2]float64{50, 80}},
		{name: "claude-3-5-haiku", provider: "anthropic", responseModel: "claude-3-5-haiku-20241022", server: "api.anthropic.com", port: 443, ttft: [2]float64{0.35, 0.8}, tps: [2]float64{95, 150}},
		{name: "gemini-2.0-flash", provider: "gcp.gemini", responseModel: "gemini-2.0-flash-001", server: "generativelanguage.googleapis.com", port: 443, ttft: [2]float64{0.25, 0.5}, tps: [2]float64{150, 240}},
		{name: "mistral-large-latest", provider: "mistral_ai", responseModel: "mistral-large-2411", server: "api.mistral.ai", port: 443, ttft: [2]float64{0.45, 1.1}, tps: [2]float64{40, 70}},
		{name: unknownModel, provider: "acme", responseModel: unknownModel, server: "llm.internal.northwind.example", port: 8000, ttft: [2]float64{0.08, 0.25}, tps: [2]float64{30, 50}},
	}
	out := make(map[string]model, len(ms))
	for _, m := range ms {
		out[m.name] = m
	}
	return out
}

// apiError is a simulated provider failure.
type apiError struct {
	errType    string // error.type
	httpStatus int
	excType    string // exception.type
	message    string
	latency    [2]float64 // how long the failing call takes, seconds
	retryable  bool
}

func providerError(r *rand.Rand, m model) apiError {
	rateLimited := r.Float64() < 0.65
	switch m.provider {
	case "anthropic":
		if rateLimited {
			return apiError{"rate_limit_error", 429, "anthropic.RateLimitError",
				"Number of request tokens has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits)", [2]float64{0.1, 0.3}, true}
		}
		return apiError{"overloaded_error", 529, "anthropic.InternalServerError", "Overloaded", [2]float64{0.3, 1.5}, true}
	case "acme":
		return apiError{"server_error", 500, "openai.InternalServerError", "CUDA out of memory. Tried to allocate 2.00 GiB", [2]float64{0.05, 0.4}, false}
	}
	if rateLimited {
		return apiError{"rate_limit_exceeded", 429, "openai.RateLimitError",
			"Rate limit reached for " + m.name + " on tokens per min (TPM): Limit 30000, Used 29412, Requested 1190. Please try again in 1.204s.", [2]float64{0.08, 0.3}, true}
	}
	return apiError{"server_error", 500, "openai.InternalServerError",
		"The server had an error while processing your request. Sorry about that!", [2]float64{0.8, 6}, false}
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// responseID makes a response id in the style of the provider.
func responseID(r *rand.Rand, m model) string {
	switch m.provider {
	case "anthropic":
		return "msg_01" + randString(r, alnum, 22)
	case "gcp.gemini":
		return randString(r, alnum, 22)
	case "mistral_ai":
		return randString(r, "0123456789abcdef", 32)
	case "acme":
		return "cmpl-" + randString(r, "0123456789abcdef", 32)
	}
	return "chatcmpl-" + randString(r, alnum, 29)
}

// toolCallID makes a tool call id in the style of the provider.
func toolCallID(r *rand.Rand, m model) string {
	if m.provider == "anthropic" {
		return "toolu_01" + randString(r, alnum, 22)
	}
	return "call_" + randString(r, alnum, 24)
}
