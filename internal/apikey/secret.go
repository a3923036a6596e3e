package apikey

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateSecret returns the server secret: from value when it is not
// empty (hex or raw, at least 32 bytes), else from the file at path,
// creating the file with a new random secret (mode 0600) when it does not
// exist. Every process that verifies keys must use the same secret.
func LoadOrCreateSecret(value, path string) ([]byte, error) {
	if value != "" {
		return decodeSecret(value, "configured secret")
	}
	b, err := os.ReadFile(path)
	if err == nil {
		return decodeSecret(strings.TrimSpace(string(b)), path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read server secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate server secret: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create secret dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process won the race
		return LoadOrCreateSecret("", path)
	}
	if err != nil {
		return nil, fmt.Errorf("create server secret file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write server secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write server secret: %w", err)
	}
	return raw, nil
}

func decodeSecret(s, from string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) >= 32 {
		return b, nil
	}
	if len(s) >= 32 {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("server secret from %s is too short: need at least 32 bytes (64 hex characters)", from)
}
