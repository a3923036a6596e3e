package collector

import (
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestBuilderManifestMatchesComponents keeps builder-config.yaml and
// components.go listing the same components, so an OCB-built collector has
// exactly the components `observatory collector` runs.
func TestBuilderManifestMatchesComponents(t *testing.T) {
	b, err := os.ReadFile("builder-config.yaml")
	require.NoError(t, err)
	var manifest map[string]any
	require.NoError(t, yaml.Unmarshal(b, &manifest))
	var fromManifest []string
	for _, kind := range []string{"extensions", "receivers", "processors", "exporters"} {
		entries, _ := manifest[kind].([]any)
		for _, e := range entries {
			m := e.(map[string]any)
			path, _ := m["import"].(string)
			if path == "" {
				path = strings.Fields(m["gomod"].(string))[0]
			}
			fromManifest = append(fromManifest, path)
		}
	}

	f, err := parser.ParseFile(token.NewFileSet(), "components.go", nil, parser.ImportsOnly)
	require.NoError(t, err)
	var fromCode []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		for _, kind := range []string{"receiver/", "processor/", "exporter/", "extension/", "extensions/", "processors/", "sinks/"} {
			if strings.Contains(p, kind) && !strings.HasSuffix(p, "/receiver") && !strings.HasSuffix(p, "/processor") {
				fromCode = append(fromCode, p)
				break
			}
		}
	}
	slices.Sort(fromManifest)
	slices.Sort(fromCode)
	require.Equal(t, fromManifest, slices.Compact(fromCode))
}
