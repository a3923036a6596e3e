package storeutil

import (
	"bytes"
	"fmt"
	"time"

	"github.com/llm-observatory/observatory/internal/storage"
)

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", storage.ErrInvalidRecord, fmt.Sprintf(format, a...))
}

func createdAt(t time.Time, now func() time.Time) time.Time {
	if t.IsZero() {
		t = now()
	}
	return NormalizeTime(t)
}

// NormalizeOrg validates o (an id is required) and returns its stored form:
// clean strings, CreatedAt UTC at microseconds (now when zero).
func NormalizeOrg(o storage.Org, now func() time.Time) (storage.Org, error) {
	if o.ID == "" {
		return o, invalid("org id is required")
	}
	o.ID, o.Name = CleanString(o.ID), CleanString(o.Name)
	o.CreatedAt = createdAt(o.CreatedAt, now)
	return o, nil
}

// NormalizeProject validates p (id and org id required) and returns its
// stored form, as NormalizeOrg.
func NormalizeProject(p storage.Project, now func() time.Time) (storage.Project, error) {
	if p.ID == "" || p.OrgID == "" {
		return p, invalid("project id and org id are required")
	}
	p.ID, p.OrgID, p.Name = CleanString(p.ID), CleanString(p.OrgID), CleanString(p.Name)
	p.CreatedAt = createdAt(p.CreatedAt, now)
	return p, nil
}

// NormalizeAPIKey validates k (id, org, project and hash required) and
// returns its stored form: clean strings, times UTC at microseconds
// (CreatedAt now when zero), an empty Scopes as nil, copies of the slices.
func NormalizeAPIKey(k storage.APIKey, now func() time.Time) (storage.APIKey, error) {
	if k.ID == "" || k.OrgID == "" || k.ProjectID == "" {
		return k, invalid("api key id, org id and project id are required")
	}
	if len(k.Hash) == 0 {
		return k, invalid("api key %q has no hash", k.ID)
	}
	k.ID, k.OrgID, k.ProjectID = CleanString(k.ID), CleanString(k.OrgID), CleanString(k.ProjectID)
	k.Name, k.Prefix = CleanString(k.Name), CleanString(k.Prefix)
	k.Hash = bytes.Clone(k.Hash)
	if len(k.Scopes) == 0 {
		k.Scopes = nil
	} else {
		sc := make([]string, len(k.Scopes))
		for i, s := range k.Scopes {
			sc[i] = CleanString(s)
		}
		k.Scopes = sc
	}
	k.CreatedAt = createdAt(k.CreatedAt, now)
	if k.RevokedAt != nil {
		t := NormalizeTime(*k.RevokedAt)
		k.RevokedAt = &t
	}
	return k, nil
}

// ErrProjectOtherOrg is returned (wrapping storage.ErrInvalidRecord) when a
// project id is created again under a different org.
func ErrProjectOtherOrg(id, org, existing string) error {
	return invalid("project %q already exists in org %q, not %q", id, existing, org)
}

// ErrKeyExists is returned (wrapping storage.ErrInvalidRecord) when an API
// key's id or hash is already stored.
func ErrKeyExists(id string) error {
	return invalid("api key %q: a key with this id or hash already exists", id)
}

// NotFound wraps storage.ErrNotFound with what was looked for.
func NotFound(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), storage.ErrNotFound)
}

// InvalidQuery wraps storage.ErrInvalidQuery with a message.
func InvalidQuery(msg string) error {
	return fmt.Errorf("%w: %s", storage.ErrInvalidQuery, msg)
}
