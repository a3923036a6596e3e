package genaiprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

type panickingAuth struct{}

func (panickingAuth) GetAttribute(string) any     { panic("boom") }
func (panickingAuth) GetAttributeNames() []string { return nil }

func TestTenantFromContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		want tenant
	}{
		{"no client info", context.Background(), tenant{}},
		{"no auth", client.NewContext(context.Background(), client.Info{}), tenant{}},
		{"auth with tenant", withAuth(acmeAuth), tenant{org: "org_acme", project: "proj_support", fromAuth: true}},
		{"auth without project", withAuth(authData{llmcall.AttrOrgID: "org_acme"}), tenant{org: "org_acme", fromAuth: true}},
		{"org not a string", withAuth(authData{llmcall.AttrOrgID: 42, llmcall.AttrProjectID: "p"}), tenant{}},
		{"empty org", withAuth(authData{llmcall.AttrOrgID: "", llmcall.AttrProjectID: "p"}), tenant{}},
		{"project not a string", withAuth(authData{llmcall.AttrOrgID: "o", llmcall.AttrProjectID: []string{"p"}}), tenant{org: "o", fromAuth: true}},
		{"panicking auth data", withAuth(panickingAuth{}), tenant{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tenantFromContext(tt.ctx))
		})
	}
}

func TestStampTenant(t *testing.T) {
	type attrs = map[string]any
	sent := attrs{"service.name": "s", llmcall.AttrOrgID: "org_evil", llmcall.AttrProjectID: "proj_evil"}
	tests := []struct {
		name   string
		tenant TenantConfig
		t      tenant
		in     attrs
		want   attrs
	}{
		{
			name: "auth overwrites client values",
			t:    tenant{org: "o", project: "p", fromAuth: true}, in: sent,
			want: attrs{"service.name": "s", llmcall.AttrOrgID: "o", llmcall.AttrProjectID: "p"},
		},
		{
			name:   "auth wins over trust",
			tenant: TenantConfig{TrustResourceAttributes: true},
			t:      tenant{org: "o", project: "p", fromAuth: true}, in: sent,
			want: attrs{"service.name": "s", llmcall.AttrOrgID: "o", llmcall.AttrProjectID: "p"},
		},
		{
			name: "auth without project removes the client's project",
			t:    tenant{org: "o", fromAuth: true}, in: sent,
			want: attrs{"service.name": "s", llmcall.AttrOrgID: "o"},
		},
		{
			name:   "auth without project takes the default project",
			tenant: TenantConfig{DefaultOrgID: "do", DefaultProjectID: "dp"},
			t:      tenant{org: "o", fromAuth: true}, in: sent,
			want: attrs{"service.name": "s", llmcall.AttrOrgID: "o", llmcall.AttrProjectID: "dp"},
		},
		{
			name: "no auth removes client values",
			in:   sent, want: attrs{"service.name": "s"},
		},
		{
			name:   "no auth sets defaults",
			tenant: TenantConfig{DefaultOrgID: "do", DefaultProjectID: "dp"},
			in:     sent, want: attrs{"service.name": "s", llmcall.AttrOrgID: "do", llmcall.AttrProjectID: "dp"},
		},
		{
			name:   "no auth, trusted, keeps client values",
			tenant: TenantConfig{TrustResourceAttributes: true, DefaultOrgID: "do", DefaultProjectID: "dp"},
			in:     sent, want: sent,
		},
		{
			name:   "no auth, trusted, fills what is missing",
			tenant: TenantConfig{TrustResourceAttributes: true, DefaultOrgID: "do", DefaultProjectID: "dp"},
			in:     attrs{llmcall.AttrOrgID: "org_up", llmcall.AttrProjectID: 7},
			want:   attrs{llmcall.AttrOrgID: "org_up", llmcall.AttrProjectID: "dp"},
		},
		{
			name:   "no auth, trusted, no defaults",
			tenant: TenantConfig{TrustResourceAttributes: true},
			in:     attrs{"service.name": "s"}, want: attrs{"service.name": "s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultCfg()
			cfg.Tenant = tt.tenant
			p := &genaiProcessor{cfg: cfg}
			res := pcommon.NewResource()
			require.NoError(t, res.Attributes().FromRaw(tt.in))
			p.stampTenant(res, tt.t)
			want := map[string]any{}
			for k, v := range tt.want {
				if i, ok := v.(int); ok {
					v = int64(i)
				}
				want[k] = v
			}
			assert.Equal(t, want, res.Attributes().AsRaw())
		})
	}
}
