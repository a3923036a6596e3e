// Package storage defines where call records, tenants and API keys live.
// Store has one written contract and two implementations (sqlitestore,
// pgstore) checked by one conformance suite (storagetest). Storage knows call
// records and SQL only: nothing of pdata or the collector.
package storage

import (
	"context"
	"errors"
	"time"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// Errors callers can classify with errors.Is.
var (
	// ErrNotFound: the requested row does not exist for this tenant.
	ErrNotFound = errors.New("not found")
	// ErrInvalidQuery: the query is unbounded or malformed; not retryable.
	ErrInvalidQuery = errors.New("invalid query")
	// ErrInvalidRecord: a record can never be stored (e.g. no project);
	// not retryable. Other write errors are transient and worth a retry.
	ErrInvalidRecord = errors.New("invalid record")
)

// Store is the persistence contract.
//
//   - WriteCalls is idempotent on (project id, trace id, span id): writing a
//     record that is already stored changes nothing and is not an error.
//   - WriteCalls returns nil only once every record is durable; on error
//     none or some records may be stored, and retrying the whole batch is
//     safe. Errors wrapping ErrInvalidRecord will fail again on retry.
//   - Every read is scoped to one project; no read returns another
//     project's rows. List reads are bounded by a time range.
//   - Times are stored and returned in UTC at microsecond precision.
//   - Implementations are safe for concurrent use.
type Store interface {
	WriteCalls(ctx context.Context, calls []llmcall.Call) error

	// ListCalls returns LLM calls (IsLLM) newest first, one page at a time.
	ListCalls(ctx context.Context, q CallQuery) (CallPage, error)
	// GetCall returns one span of the project by span id (any span, LLM or not).
	GetCall(ctx context.Context, projectID, spanID string) (llmcall.Call, error)
	// GetTrace returns every span of one trace of the project, ordered by
	// start time (callers build the tree); ErrNotFound when it has none.
	GetTrace(ctx context.Context, projectID, traceID string) ([]llmcall.Call, error)
	// Overview aggregates LLM calls into time buckets.
	Overview(ctx context.Context, q OverviewQuery) (Overview, error)
	// DeleteProjectCalls removes every stored span of the project.
	DeleteProjectCalls(ctx context.Context, projectID string) (int64, error)

	// Tenants.
	CreateOrg(ctx context.Context, org Org) error
	CreateProject(ctx context.Context, p Project) error
	GetProject(ctx context.Context, projectID string) (Project, error)
	ListProjects(ctx context.Context) ([]Project, error)

	// API keys. Only the HMAC of a key is stored.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// LookupAPIKey finds a key by its hash, revoked or not.
	LookupAPIKey(ctx context.Context, hash []byte) (APIKey, error)
	ListAPIKeys(ctx context.Context, projectID string) ([]APIKey, error)
	// RevokeAPIKey marks the key revoked at the given time; revoking twice
	// keeps the first time. ErrNotFound for an unknown id.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error

	// Ping checks the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// CallQuery selects LLM calls of one project within [From, To).
type CallQuery struct {
	ProjectID string
	From, To  time.Time
	// Optional exact-match filters; empty means any.
	Endpoint string
	Model    string // matches request or response model
	Status   string // llmcall.StatusOK, StatusError or StatusUnset
	// Limit is the page size, 1..1000.
	Limit int
	// Cursor continues a previous page; empty for the first page.
	Cursor string
}

// CallPage is one page of calls; NextCursor is empty on the last page.
type CallPage struct {
	Calls      []llmcall.Call
	NextCursor string
}

// OverviewQuery aggregates LLM calls of one project within [From, To) into
// buckets of Step (at most 2000 buckets).
type OverviewQuery struct {
	ProjectID string
	From, To  time.Time
	Step      time.Duration
	Endpoint  string
	Model     string
}

// Overview is the aggregate over the whole range plus its buckets (only
// buckets holding calls are returned).
type Overview struct {
	Total   Bucket
	Buckets []Bucket
}

// Bucket aggregates the calls starting in [Start, Start+step). Latency
// percentiles use the nearest-rank method.
type Bucket struct {
	Start         time.Time `json:"start"`
	Calls         int64     `json:"calls"`
	Errors        int64     `json:"errors"`
	ErrorRate     float64   `json:"error_rate"`
	LatencyP50MS  float64   `json:"latency_p50_ms"`
	LatencyP95MS  float64   `json:"latency_p95_ms"`
	LatencyP99MS  float64   `json:"latency_p99_ms"`
	InputTokens   int64     `json:"input_tokens"`
	OutputTokens  int64     `json:"output_tokens"`
	TotalTokens   int64     `json:"total_tokens"`
	CostUSD       float64   `json:"cost_usd"`
	UnpricedCalls int64     `json:"unpriced_calls"`
}

// Org is a tenant organisation.
type Org struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Project belongs to one org; every stored span belongs to one project.
type Project struct {
	ID        string
	OrgID     string
	Name      string
	CreatedAt time.Time
}

// APIKey is a project key. The key itself is never stored: Hash is its
// HMAC-SHA256 under the server secret, Prefix its visible beginning.
type APIKey struct {
	ID        string
	OrgID     string
	ProjectID string
	Name      string
	Prefix    string
	Hash      []byte
	Scopes    []string
	CreatedAt time.Time
	RevokedAt *time.Time
}
