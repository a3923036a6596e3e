package storageexporter

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/sqlitestore"
)

func traces(project string, n int, start time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	if project != "" {
		rs.Resource().Attributes().PutStr(llmcall.AttrOrgID, "org_1")
		rs.Resource().Attributes().PutStr(llmcall.AttrProjectID, project)
	}
	ss := rs.ScopeSpans().AppendEmpty()
	for i := range n {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(pcommon.TraceID{1, byte(i)})
		s.SetSpanID(pcommon.SpanID{2, byte(i)})
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Second)))
		if i%2 == 0 {
			s.Attributes().PutStr(llmcall.AttrRequestModel, "gpt-4o")
		}
	}
	return td
}

func newSQLite(t *testing.T) storage.Store {
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Options{Path: filepath.Join(t.TempDir(), "o.db")})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func TestExportIsIdempotentAndDropsUntenanted(t *testing.T) {
	ctx := context.Background()
	st := newSQLite(t)
	f := NewFactoryWithStore(st)
	cfg := f.CreateDefaultConfig().(*Config)
	exp, err := f.CreateTraces(ctx, exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, exp.Shutdown(ctx)) }()

	start := time.Now().Add(-time.Minute).UTC()
	require.NoError(t, exp.ConsumeTraces(ctx, traces("prj_1", 10, start)), "wait_for_result: returns once stored")
	require.NoError(t, exp.ConsumeTraces(ctx, traces("prj_1", 10, start)), "redelivery")
	require.NoError(t, exp.ConsumeTraces(ctx, traces("", 3, start)), "untenanted spans are dropped, not retried forever")

	page, err := st.ListCalls(ctx, storage.CallQuery{ProjectID: "prj_1", From: start.Add(-time.Hour), To: start.Add(time.Hour), Limit: 100})
	require.NoError(t, err)
	require.Len(t, page.Calls, 5, "5 LLM spans of 10, stored once")
	tr, err := st.GetTrace(ctx, "prj_1", page.Calls[0].TraceID)
	require.NoError(t, err)
	require.Len(t, tr, 1)
}

type failingStore struct {
	storage.Store
	err   error
	calls int
}

func (f *failingStore) WriteCalls(context.Context, []llmcall.Call) error {
	f.calls++
	return f.err
}

func TestPushClassifiesErrors(t *testing.T) {
	ctx := context.Background()
	f := NewFactoryWithStore(nil)
	e, err := newStorageExporter(f.CreateDefaultConfig().(*Config), exportertest.NewNopSettings(f.Type()), &failingStore{})
	require.NoError(t, err)

	fs := &failingStore{err: errors.New("connection reset")}
	e.store = fs
	err = e.pushTraces(ctx, traces("prj_1", 2, time.Now()))
	require.ErrorContains(t, err, "connection reset")
	require.False(t, isPermanent(err), "transient storage errors are retried")

	fs.err = storage.ErrInvalidRecord
	err = e.pushTraces(ctx, traces("prj_1", 2, time.Now()))
	require.True(t, isPermanent(err))

	fs.calls = 0
	require.NoError(t, e.pushTraces(ctx, traces("", 2, time.Now())))
	require.Zero(t, fs.calls, "nothing storable, nothing written")
}

func TestNeedsDatabaseURL(t *testing.T) {
	f := NewFactory()
	_, err := f.CreateTraces(context.Background(), exportertest.NewNopSettings(f.Type()), f.CreateDefaultConfig())
	require.ErrorContains(t, err, "database_url is required")
}

func isPermanent(err error) bool { return consumererror.IsPermanent(err) }
