// Package apikeyauthextension is a collector server authenticator for
// LLM Observatory project API keys. It puts the key's tenant (org and
// project) into the request's client.Info so the genai processor can stamp
// it on every span, and it counts ingest request outcomes by reason when
// also configured as a receiver middleware.
package apikeyauthextension

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/llm-observatory/observatory/internal/apikey"
)

var typeStr = component.MustNewType("apikeyauth")

// NewFactory returns the factory used by OCB-built collectors: the
// extension opens the key store named by database_url.
func NewFactory() extension.Factory {
	return newFactory(nil)
}

// NewFactoryWithVerifier returns a factory whose extensions use v instead
// of opening a database; observatory run shares its store this way.
func NewFactoryWithVerifier(v *apikey.Verifier) extension.Factory {
	return newFactory(v)
}

func newFactory(v *apikey.Verifier) extension.Factory {
	return extension.NewFactory(typeStr,
		func() component.Config { return createDefaultConfig() },
		func(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
			c := cfg.(*Config)
			if v == nil && c.DatabaseURL == "" {
				return nil, errors.New("apikeyauth: database_url is required")
			}
			e, err := newExtension(c, set, v)
			if err != nil {
				return nil, fmt.Errorf("apikeyauth: %w", err)
			}
			return e, nil
		},
		component.StabilityLevelAlpha)
}
