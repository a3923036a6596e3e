package migrations_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/storage/migrations"
)

func TestEmbedded(t *testing.T) {
	for _, load := range []func() ([]migrations.Migration, error){migrations.SQLite, migrations.Postgres} {
		all, err := load()
		require.NoError(t, err)
		require.NotEmpty(t, all)
		require.Equal(t, 1, all[0].Version)
		require.Equal(t, "0001_init.sql", all[0].Name)
		require.Contains(t, all[0].SQL, "CREATE TABLE spans")
	}
}

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"ok/0002_more.sql":   {Data: []byte("B")},
		"ok/0001_init.sql":   {Data: []byte("A")},
		"ok/README.md":       {Data: []byte("ignored")},
		"gap/0001_a.sql":     {Data: []byte("A")},
		"gap/0003_c.sql":     {Data: []byte("C")},
		"dup/0001_a.sql":     {Data: []byte("A")},
		"dup/001_b.sql":      {Data: []byte("B")},
		"badname/init.sql":   {Data: []byte("A")},
		"badnum/x_init.sql":  {Data: []byte("A")},
		"empty/README.md":    {Data: []byte("")},
		"zero/0000_init.sql": {Data: []byte("")},
	}
	all, err := migrations.Load(fsys, "ok")
	require.NoError(t, err)
	require.Equal(t, []migrations.Migration{{1, "0001_init.sql", "A"}, {2, "0002_more.sql", "B"}}, all)
	for _, dir := range []string{"gap", "dup", "badname", "badnum", "empty", "zero", "missing"} {
		_, err := migrations.Load(fsys, dir)
		require.Error(t, err, dir)
	}

	applied := map[int]bool{1: true, 7: true}
	require.Equal(t, all[1:], migrations.Pending(all, applied))
	require.Equal(t, []int{7}, migrations.Unknown(all, applied))
}
