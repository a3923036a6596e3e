package piiredactionprocessor

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allDetector has every built-in type on.
var allDetector = newDetector(builtinEntityNames[:])

var allPriority = newRegistry(nil).priority

// found renders the entities of s as "type:value" for table tests.
func found(s string) []string {
	fs := resolveOverlaps(allDetector.scan(s, nil), allPriority)
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, builtinEntityNames[f.typ]+":"+s[f.start:f.end])
	}
	return out
}

func TestDetectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		// Email.
		{"write to jane.doe+news@example.co.uk.", []string{"email:jane.doe+news@example.co.uk"}},
		{"<JANE_DOE@Example.COM>", []string{"email:JANE_DOE@Example.COM"}},
		{"mailto:a.b@c.io,x", []string{"email:a.b@c.io"}},
		{"请发送邮件至zhang.wei@example.cn谢谢", []string{"email:zhang.wei@example.cn"}},
		{"logo@2x.png and @types/node and lodash@4.17.21 and user@localhost", nil},
		{"git@github.com:org/repo.git", nil},
		// Phone.
		{"call +1 415-555-2671 now", []string{"phone:+1 415-555-2671"}},
		{"+14155552671", []string{"phone:+14155552671"}},
		{"+44 20 7946 0958", []string{"phone:+44 20 7946 0958"}},
		{"+49 (0)30 1234567", []string{"phone:+49 (0)30 1234567"}},
		{"+1 (415) 555-2671", []string{"phone:+1 (415) 555-2671"}},
		{"(415) 555-2671", []string{"phone:(415) 555-2671"}},
		{"415-555-2671 or 415.555.2671 or 415 555 2671", []string{"phone:415-555-2671", "phone:415.555.2671", "phone:415 555 2671"}},
		{"1-800-555-0199", []string{"phone:1-800-555-0199"}},
		{"020 7946 0958", []string{"phone:020 7946 0958"}},
		{"Tel. 030 12345678", []string{"phone:030 12345678"}},
		{"01 23 45 67 89", []string{"phone:01 23 45 67 89"}},
		{"電話番号は03-1234-5678です", []string{"phone:03-1234-5678"}},
		{"手机 138 0013 8000", []string{"phone:138 0013 8000"}},
		{"phone: 4155552671", []string{"phone:4155552671"}},
		{"order 4155552671", nil},
		{"2024-05-01 12:30:45, +15%, $1,234.56, v1.2.3, 3.14159", nil},
		// Cards.
		{"card 4111 1111 1111 1111 exp 12/29", []string{"credit_card:4111 1111 1111 1111"}},
		{"4111-1111-1111-1111", []string{"credit_card:4111-1111-1111-1111"}},
		{"5555555555554444", []string{"credit_card:5555555555554444"}},
		{"amex 3782 822463 10005", []string{"credit_card:3782 822463 10005"}},
		{"4111 1111 1111 1112", nil},                         // Luhn fails
		{"timestamp 1714567890123 id 1234567890123456", nil}, // no IIN
		// IBAN.
		{"IBAN: DE89 3704 0044 0532 0130 00.", []string{"iban:DE89 3704 0044 0532 0130 00"}},
		{"GB29NWBK60161331926819", []string{"iban:GB29NWBK60161331926819"}},
		{"GB29NWBK60161331926818", nil},
		// SSN.
		{"SSN 123-45-6788", []string{"us_ssn:123-45-6788"}},
		{"000-12-3456 666-12-3456 900-12-3456 123-00-4567", nil},
		{"ssn: 234567890", []string{"us_ssn:234567890"}},
		// IP.
		{"from 192.168.1.10:8080 and 10.0.0.0/8", []string{"ip_address:192.168.1.10", "ip_address:10.0.0.0"}},
		{"version 1.2.3.4 and 1.2.3.400 and 10.0.19045.3803", nil},
		{"2001:db8::8a2e:370:7334 and [fe80::1]:443", []string{"ip_address:2001:db8::8a2e:370:7334", "ip_address:fe80::1"}},
		{"12:30:45 std::vector a::b 00:1a:2b:3c:4d:5e", nil},
		// Secrets.
		{"key sk-proj-AbCdEf1234567890AbCdEf1234567890", []string{"secret:sk-proj-AbCdEf1234567890AbCdEf1234567890"}},
		{"sk-ant-api03-abcDEF123456789012345678901234567890", []string{"secret:sk-ant-api03-abcDEF123456789012345678901234567890"}},
		{"AKIAIOSFODNN7EXAMPLE", []string{"secret:AKIAIOSFODNN7EXAMPLE"}},
		{"ghp_1234567890abcdefghijABCDEFGHIJ123456", []string{"secret:ghp_1234567890abcdefghijABCDEFGHIJ123456"}},
		{"xoxb-1234567890-abcdefghij", []string{"secret:xoxb-1234567890-abcdefghij"}},
		{"AIzaSyA1234567890abcdefghijklmnopqrstuv", []string{"secret:AIzaSyA1234567890abcdefghijklmnopqrstuv"}},
		{"postgres://admin:s3cr3t!@db.internal:5432/app", []string{"secret:s3cr3t!"}},
		{"password=hunter2&user=bob", []string{"secret:hunter2"}},
		{`{"api_key": "abc123def456ghi"}`, []string{"secret:abc123def456ghi"}},
		{"DB_PASSWORD=Tr0ub4dor", []string{"secret:Tr0ub4dor"}},
		{"Password: must be 8 chars; password=${DB_PASSWORD}; PWD=/home/me; tokens=1024", nil},
		{"Authorization: Bearer abcdef1234567890abcdef", []string{"secret:abcdef1234567890abcdef"}},
		{"sk-learn is a library", nil},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc=\n-----END RSA PRIVATE KEY-----", []string{"secret:-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc=\n-----END RSA PRIVATE KEY-----"}},
		{"パスワード：Himitsu2024", []string{"secret:Himitsu2024"}},
		{"hook https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX ok", []string{"secret:hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"}},
		{"Authorization: Basic dXNlcjpwYXNzd29yZA==", []string{"secret:dXNlcjpwYXNzd29yZA=="}},
		{"Basic information about Basic usage", nil},
		{"client_secret: 9f8e7d6c5b4a3210", []string{"secret:9f8e7d6c5b4a3210"}},
		{"mot de passe : Soleil2024!", []string{"secret:Soleil2024!"}},
		{"impasse: Rue2024", nil},
		{"DB_PASS=Falcon01* and --password=hunter22", []string{"secret:Falcon01*", "secret:hunter22"}},
		{"my password is Summer2024! ok", []string{"secret:Summer2024!"}},
		{"the password is required", nil},
		{"WhatsApp (+44) 20 7946 0958 or 0049 30 12345678", []string{"phone:(+44) 20 7946 0958", "phone:0049 30 12345678"}},
		{"Schreiben Sie an jürgen.müller@münchen.de", []string{"email:jürgen.müller@münchen.de"}},
		{"?email=jane%40example.com&x=1", []string{"email:jane%40example.com"}},
		{"Пишите на иван.петров@почта.рф, спасибо", []string{"email:иван.петров@почта.рф"}},
		{"xoxe.xoxp-1-abc123def456ghi789jkl", []string{"secret:xoxe.xoxp-1-abc123def456ghi789jkl"}},
		// Hard negatives.
		{"uuid 123e4567-e89b-12d3-a456-426614174000 sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", nil},
	}
	for _, tt := range tests {
		got := found(tt.in)
		if len(tt.want) == 0 {
			assert.Empty(t, got, "%q", tt.in)
			continue
		}
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestValidators(t *testing.T) {
	t.Parallel()
	assert.True(t, luhnValid([]byte("4111111111111111")))
	assert.False(t, luhnValid([]byte("4111111111111112")))
	assert.True(t, ibanValid("DE89 3704 0044 0532 0130 00"))
	assert.False(t, ibanValid("DE89 3704 0044 0532 0130 01"))
	assert.False(t, ibanValid("XX89370400440532013000"))
	assert.True(t, ssnValid([]byte("123456788")))
	assert.False(t, ssnValid([]byte("078051120")))
	assert.True(t, validators["aba_routing"]("021000021"))
	assert.False(t, validators["aba_routing"]("021000022"))
	assert.True(t, validators["verhoeff"]("2363"))
	assert.False(t, validators["verhoeff"]("2364"))
	require.Len(t, validatorNames(), 5)
}

func TestResolveOverlaps(t *testing.T) {
	t.Parallel()
	prio := allPriority
	fs := []finding{{10, 20, entEmail}, {0, 5, entPhone}, {12, 30, entSecret}, {3, 8, entIP}}
	got := resolveOverlaps(fs, prio)
	assert.Equal(t, []finding{{0, 5, entPhone}, {12, 30, entSecret}}, got)
}

func TestKeyPatterns(t *testing.T) {
	t.Parallel()
	ks := newKeySet([]string{"gen_ai.prompt.*.content", "a.**.z", "exact.key", "**.secret"})
	for k, want := range map[string]bool{
		"gen_ai.prompt.0.content":   true,
		"gen_ai.prompt.12.content":  true,
		"gen_ai.prompt.0.role":      false,
		"gen_ai.prompt.content":     false,
		"a.z":                       true,
		"a.b.c.z":                   true,
		"a.b.c":                     false,
		"exact.key":                 true,
		"exact.key.more":            false,
		"x.y.secret":                true,
		"secret":                    true,
		"gen_ai.prompt.0.content.x": false,
	} {
		assert.Equal(t, want, ks.match(k), k)
	}
}

func TestSecretKeyKind(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]keyKind{
		"password": keyPassword, "DB_PASSWORD": keyPassword, "db.password": keyPassword, "Passwort": keyPassword,
		"パスワード": keyPassword, "api_key": keyToken, "apiKey": keyToken, "X-API-Key": keyToken,
		"client_secret": keyToken, "access_token": keyToken, "max_tokens": keyPlain, "content": keyPlain,
		"role": keyPlain, "id": keyPlain, "https": keyPlain,
	} {
		assert.Equal(t, want, secretKeyKind(k), k)
	}
}

func ExampleMode() {
	for _, s := range []string{"mail jane@example.com", "card 4111 1111 1111 1111"} {
		fmt.Println(strings.Join(found(s), ","))
	}
	// Output:
	// email:jane@example.com
	// credit_card:4111 1111 1111 1111
}
