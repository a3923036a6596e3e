package gateway

import (
	"math"
	"sync"
	"time"

	"github.com/llm-observatory/observatory/internal/storage"
)

// limiter enforces per-key requests/min and tokens/min with token buckets
// that hold a minute's allowance and refill continuously. Requests are
// charged up front; tokens are charged after a call with its real usage,
// and a key in token debt is refused until the bucket is positive again
// (the usual way for LLM gateways, since usage is known only afterwards).
type limiter struct {
	cfg LimitsConfig
	mu  sync.Mutex
	m   map[string]*keyLimits // by key id
}

type keyLimits struct {
	mu  sync.Mutex
	lim Limit
	req bucket
	tok bucket
}

type bucket struct {
	level float64
	last  time.Time
}

// refill tops the bucket up for the time passed, to at most perMin.
func (b *bucket) refill(perMin int, now time.Time) {
	if b.last.IsZero() {
		b.level, b.last = float64(perMin), now
		return
	}
	if dt := now.Sub(b.last); dt > 0 {
		b.level = math.Min(float64(perMin), b.level+dt.Seconds()*float64(perMin)/60)
		b.last = now
	}
}

// wait is how long until the bucket holds need.
func (b *bucket) wait(perMin int, need float64) time.Duration {
	missing := need - b.level
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / (float64(perMin) / 60) * float64(time.Second))
}

func newLimiter(cfg LimitsConfig) *limiter {
	return &limiter{cfg: cfg, m: map[string]*keyLimits{}}
}

func (l *limiter) limitFor(k storage.APIKey) Limit {
	if lim, ok := l.cfg.Keys[k.ID]; ok {
		return lim
	}
	if lim, ok := l.cfg.Keys[k.Prefix]; ok {
		return lim
	}
	if lim, ok := l.cfg.Projects[k.ProjectID]; ok {
		return lim
	}
	return l.cfg.Default
}

func (l *limiter) state(k storage.APIKey) *keyLimits {
	l.mu.Lock()
	s, ok := l.m[k.ID]
	if !ok {
		if len(l.m) >= 100000 { // bounded: forget idle keys wholesale
			clear(l.m)
		}
		s = &keyLimits{lim: l.limitFor(k)}
		l.m[k.ID] = s
	}
	l.mu.Unlock()
	return s
}

// allow charges one request and checks that the key is not in token debt.
// It returns the limit that refused ("requests" or "tokens") and how long
// to wait.
func (l *limiter) allow(k storage.APIKey, now time.Time) (refused string, retryAfter time.Duration) {
	s := l.state(k)
	if s.lim == (Limit{}) {
		return "", 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.lim.TokensPerMinute; n > 0 {
		s.tok.refill(n, now)
		if s.tok.level <= 0 {
			return "tokens", s.tok.wait(n, 1)
		}
	}
	if n := s.lim.RequestsPerMinute; n > 0 {
		s.req.refill(n, now)
		if s.req.level < 1 {
			return "requests", s.req.wait(n, 1)
		}
		s.req.level--
	}
	return "", 0
}

// charge records tokens used by a finished call. Debt is bounded to one
// minute's allowance.
func (l *limiter) charge(k storage.APIKey, tokens int, now time.Time) {
	if tokens <= 0 {
		return
	}
	s := l.state(k)
	n := s.lim.TokensPerMinute
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.tok.refill(n, now)
	s.tok.level = math.Max(s.tok.level-float64(tokens), -float64(n))
	s.mu.Unlock()
}
