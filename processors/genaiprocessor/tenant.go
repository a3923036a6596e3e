package genaiprocessor

import (
	"context"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// tenant is the org and project a request belongs to.
type tenant struct {
	org, project string
	// fromAuth: the authenticator (API key) named the tenant; it overwrites
	// any client-sent value.
	fromAuth bool
}

// tenantFromContext reads the tenant the API-key auth extension put in the
// request context (client.Info.Auth attributes observatory.org.id and
// observatory.project.id). A tenant comes from auth only when the org id is
// a non-empty string.
func tenantFromContext(ctx context.Context) tenant {
	auth := client.FromContext(ctx).Auth
	if auth == nil {
		return tenant{}
	}
	org := authString(auth, llmcall.AttrOrgID)
	if org == "" {
		return tenant{}
	}
	return tenant{org: org, project: authString(auth, llmcall.AttrProjectID), fromAuth: true}
}

func authString(auth client.AuthData, name string) (s string) {
	defer func() {
		// AuthData is implemented by other extensions; a panicking
		// implementation must not take the pipeline down.
		if recover() != nil {
			s = ""
		}
	}()
	v, _ := auth.GetAttribute(name).(string)
	return v
}

// stampTenant sets the tenant resource attributes of one resource:
//   - tenant from auth: both attributes are overwritten (a missing project
//     falls back to the configured default, else is removed);
//   - no tenant from auth, trust_resource_attributes false: client-sent
//     values are removed and the configured defaults set;
//   - no tenant from auth, trust_resource_attributes true: values that
//     arrived are kept and the defaults fill only absent ones.
func (p *genaiProcessor) stampTenant(res pcommon.Resource, t tenant) {
	attrs := res.Attributes()
	tc := p.cfg.Tenant
	switch {
	case t.fromAuth:
		setOrRemove(attrs, llmcall.AttrOrgID, t.org)
		setOrRemove(attrs, llmcall.AttrProjectID, firstNonEmpty(t.project, tc.DefaultProjectID))
	case tc.TrustResourceAttributes:
		fillIfAbsent(attrs, llmcall.AttrOrgID, tc.DefaultOrgID)
		fillIfAbsent(attrs, llmcall.AttrProjectID, tc.DefaultProjectID)
	default:
		setOrRemove(attrs, llmcall.AttrOrgID, tc.DefaultOrgID)
		setOrRemove(attrs, llmcall.AttrProjectID, tc.DefaultProjectID)
	}
}

func setOrRemove(attrs pcommon.Map, key, value string) {
	if value == "" {
		attrs.Remove(key)
		return
	}
	attrs.PutStr(key, value)
}

// fillIfAbsent sets a default when the key is missing or not a usable
// string.
func fillIfAbsent(attrs pcommon.Map, key, value string) {
	if v, ok := attrs.Get(key); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
		return
	}
	setOrRemove(attrs, key, value)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
