package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseIntersperse(t *testing.T) {
	var out bytes.Buffer
	fs := newFlags("keys revoke", "keys revoke ID", &out)
	dir := fs.String("data-dir", "data", "")
	require.NoError(t, parse(fs, []string{"key_1", "--data-dir", "/tmp/x"}, 1))
	require.Equal(t, "/tmp/x", *dir)
	require.Equal(t, []string{"key_1"}, fs.Args())

	fs = newFlags("run", "run", &out)
	fs.String("data-dir", "data", "")
	require.ErrorIs(t, parse(fs, []string{"--data-dir", "d", "stray"}, 0), errUsage)
	require.Contains(t, out.String(), `unexpected argument "stray"`)
}

func TestMainUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, Main([]string{"help"}, &stdout, &stderr))
	for _, c := range []string{"run", "collector", "migrate", "demo", "keys"} {
		require.Contains(t, stdout.String(), c)
	}
	require.Equal(t, 2, Main([]string{"frobnicate"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), `unknown command "frobnicate"`)

	for _, c := range []string{"run", "migrate", "demo", "keys"} {
		stderr.Reset()
		require.Equal(t, 0, Main([]string{c, "--help"}, &stdout, &stderr), c)
		require.True(t, strings.Contains(stderr.String(), "Usage: observatory "+c), stderr.String())
	}
	stderr.Reset()
	require.Equal(t, 2, Main([]string{"run", "--no-such-flag"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "no-such-flag")
	stderr.Reset()
	require.Equal(t, 1, Main([]string{"run", "--log-level", "loud"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "use debug, info, warn or error")
}

func TestMigrateAndKeys(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, Main([]string{"migrate", "--data-dir", dir}, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String(), "up to date")

	stdout.Reset()
	require.Equal(t, 0, Main([]string{"keys", "create", "--scopes", "ingest,read", "--name", "ci", "--data-dir", dir}, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String(), "cannot be shown again")
	id := strings.Fields(stdout.String())[2]

	stdout.Reset()
	require.Equal(t, 0, Main([]string{"keys", "list", "--data-dir", dir}, &stdout, &stderr))
	require.Contains(t, stdout.String(), id)
	require.Contains(t, stdout.String(), "ingest,read")

	stdout.Reset()
	require.Equal(t, 0, Main([]string{"keys", "revoke", id, "--data-dir", dir}, &stdout, &stderr), stderr.String())
	stderr.Reset()
	require.Equal(t, 1, Main([]string{"keys", "revoke", "key_nope", "--data-dir", dir}, &stdout, &stderr))
	require.Contains(t, stderr.String(), `no key "key_nope"`)
	stderr.Reset()
	require.Equal(t, 1, Main([]string{"keys", "create", "--scopes", "admin", "--data-dir", dir}, &stdout, &stderr))
	require.Contains(t, stderr.String(), `unknown scope "admin"`)
	stderr.Reset()
	require.Equal(t, 1, Main([]string{"demo", "--data-dir", dir}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "observatory run")
}

func TestPrices(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, Main([]string{"prices", "list", "--model", "gpt-4o"}, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String(), "gpt-4o-mini")

	good := t.TempDir() + "/good.yaml"
	bad := t.TempDir() + "/bad.yaml"
	require.NoError(t, os.WriteFile(good, []byte("version: team-1\nmodels:\n  acme-llm-7b:\n    provider: acme\n    input: 0.2\n    output: 0.4\n"), 0o600))
	require.NoError(t, os.WriteFile(bad, []byte("version: team-1\nmodels:\n  acme-llm-7b:\n    input: -1\n"), 0o600))
	stdout.Reset()
	require.Equal(t, 0, Main([]string{"prices", "check", good}, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String(), "ok, 1 models")
	stdout.Reset()
	require.Equal(t, 0, Main([]string{"prices", "list", "--file", good, "--model", "acme"}, &stdout, &stderr))
	require.Contains(t, stdout.String(), "acme-llm-7b")
	stderr.Reset()
	require.Equal(t, 1, Main([]string{"prices", "check", bad}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "acme-llm-7b")
}

func TestStandaloneRolesNeedTheSharedSecret(t *testing.T) {
	t.Setenv("OBSERVATORY_SECRET", "")
	for _, args := range [][]string{{"api", "--addr", "127.0.0.1:0"}, {"gateway", "--addr", "127.0.0.1:0"}, {"keys", "create"}} {
		role := args[0]
		var stdout, stderr bytes.Buffer
		code := Main(append(args, "--database-url", "postgres://observatory@127.0.0.1:1/observatory", "--data-dir", t.TempDir()), &stdout, &stderr)
		require.Equal(t, 1, code, role)
		require.Contains(t, stderr.String(), "set OBSERVATORY_SECRET", role)
	}
}
