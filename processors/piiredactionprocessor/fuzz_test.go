package piiredactionprocessor

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"
)

// Run one with e.g.
//
//	go test ./processors/piiredactionprocessor -run '^$' -fuzz FuzzDetectCard -fuzztime 60s
//
// Without -fuzz, the seeds run as ordinary tests.

var fuzzSeeds = []string{
	"", "@", "a@b.co", "jane.doe+x@mail.example.co.uk.", "x%40y.com", "josé.garcía@correo.es", "git@github.com:a/b",
	"+1 415-555-2671", "(415) 555-2671", "+44 (0)20 7946 0958", "(+44) 20 7946 0958", "0049 30 12345678", "020-123 4567",
	"4111 1111 1111 1111", "3782 822463 10005", "4111111111111111abc", "1234 5678 9012 3456 7890",
	"DE89 3704 0044 0532 0130 00", "GB29NWBK60161331926819", "MT84MALT011000012345MTLCAST001S",
	"123-45-6788", "ssn 234567890", "666-12-3456",
	"192.168.0.1", "10.0.0.0/8", "1.2.3.4.5", "2001:db8::1", "[fe80::1%eth0]:80", "::ffff:192.0.2.1", "12:30:45", "a::b",
	"sk-proj-Xr4tY7uI9oP2aS5dF8gH1jK3lZ6xC0vB", "AKIAIOSFODNN7EXAMPLE", "ghp_1234567890abcdefghijABCDEFGHIJ123456",
	"xoxe.xoxp-1-abc123def456ghi789", "AIzaSyA1234567890abcdefghijklmnopqrstuv", piiJWT, piiPEM,
	"-----BEGIN PRIVATE KEY-----\nabc", "postgres://u:p4ss@h/db", "redis://:pw1234@h", "password=Tr0ub4dor&3&user=x",
	`"api_key": "abc123def456ghi"`, "パスワード：Himitsu2024", "my password is Summer2024!", "Bearer abcdef1234567890abcdef",
	"Basic dXNlcjpwYXNzd29yZA==", "2024-05-01T12:30:45Z 1714567890123 v1.2.3 123e4567-e89b-12d3-a456-426614174000",
	"\xff\xfe@\x00", strings.Repeat("1 ", 40), strings.Repeat("a@", 30) + "b.co",
}

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
}

// checkFindings runs a detector with only typ on and checks the generic
// invariants plus the type's own.
func checkFindings(t *testing.T, typ entityType, s string, check func(v string) bool) {
	d := newDetector([]string{builtinEntityNames[typ]})
	fs := d.scan(s, nil)
	for _, f := range fs {
		if f.start < 0 || f.end > len(s) || f.start >= f.end {
			t.Fatalf("bad bounds %+v in %q", f, s)
		}
		if f.typ != typ {
			t.Fatalf("type %d from the %s detector", f.typ, builtinEntityNames[typ])
		}
		if v := s[f.start:f.end]; !check(v) {
			t.Fatalf("%s finding %q in %q does not hold", builtinEntityNames[typ], v, s)
		}
	}
	res := resolveOverlaps(fs, allPriority)
	for i := 1; i < len(res); i++ {
		if res[i].start < res[i-1].end {
			t.Fatalf("overlap after resolve: %+v", res)
		}
	}
}

func FuzzDetectEmail(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkFindings(t, entEmail, s, func(v string) bool {
			at := strings.IndexByte(v, '@')
			if at < 0 {
				at = strings.Index(v, "%40")
			}
			return at > 0 && strings.Contains(v[at:], ".")
		})
	})
}

func FuzzDetectPhone(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkFindings(t, entPhone, s, func(v string) bool {
			n := len(digitsOf(v, nil))
			return n >= 8 && n <= 17
		})
	})
}

func FuzzDetectCard(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkFindings(t, entCard, s, func(v string) bool {
			d := digitsOf(v, nil)
			return len(d) >= 13 && len(d) <= 19 && luhnValid(d) && cardIIN(d)
		})
	})
}

func FuzzDetectIBAN(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkFindings(t, entIBAN, s, ibanValid)
	})
}

func FuzzDetectSSN(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkFindings(t, entSSN, s, func(v string) bool {
			d := digitsOf(v, nil)
			return len(d) == 9 && ssnValid(d)
		})
	})
}

func FuzzDetectIP(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkFindings(t, entIP, s, func(v string) bool {
			_, err := netip.ParseAddr(v)
			return err == nil
		})
	})
}

func FuzzDetectSecret(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkFindings(t, entSecret, s, func(v string) bool {
			if strings.HasPrefix(v, "-----BEGIN ") {
				return true // a PEM block is redacted whole, whatever its body holds
			}
			for i := 0; i < len(v); i++ {
				if v[i] < 0x20 {
					return false
				}
			}
			return v[0] > ' ' && v[len(v)-1] > ' ' && (len(v) < 4 || v != strings.Repeat(v[:1], len(v)))
		})
	})
}

func FuzzCustomEntity(f *testing.F) {
	addSeeds(f)
	f.Add("EMP-123456 and 021000021")
	cds, err := newCustomDetectors([]CustomEntityConfig{
		{Name: "employee_id", Pattern: `EMP-\d{6}`},
		{Name: "routing", Pattern: `\d{9}`, Validator: "aba_routing"},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, cd := range cds {
			for _, fd := range cd.scan(s, nil) {
				v := s[fd.start:fd.end]
				if fd.end <= fd.start || (cd.validate != nil && !cd.validate(v)) {
					t.Fatalf("bad custom finding %q", v)
				}
			}
		}
	})
}

// FuzzRedactText: every detected value is gone from the redacted text.
func FuzzRedactText(f *testing.F) {
	addSeeds(f)
	p, err := newPIIProcessor(processortestSettings(), defaultCfg())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w := newWorker(p)
		w.reset(ModeRedacted)
		var vals []string
		w.onFind = func(_ entityType, v string) { vals = append(vals, v) }
		out, changed := w.redactText(s)
		if changed != (len(vals) > 0) {
			t.Fatalf("changed=%v with %d findings", changed, len(vals))
		}
		if len(vals) > 0 && out == s {
			t.Fatalf("findings %q but unchanged", vals)
		}
	})
}

var jsonSeeds = []string{
	`{}`, `[]`, `[1,-0.5e+10,true,false,null,"x"]`, `{"a":{"b":[{"c":"jane@example.com"}]}}`,
	`{"password":"hunter2!","api_key":"k9Xy2mQw8Rt5Zp3L","role":"user"}`,
	`[{"role":"user","parts":[{"type":"text","content":"card 4111 1111 1111 1111\nmail jane@example.com"}]}]`,
	`{"arguments":"{\"email\":\"jane@example.com\",\"nested\":\"{\\\"ip\\\":\\\"10.0.0.1\\\"}\"}"}`,
	`{"k":"\u006aane@example.com \ud83d\ude00 \ud800 \"q\" \\ \/"}`, `{"jane@example.com":1}`, ` [ "a" , { } ] `,
	`{"a":"` + "\x80\xff" + `"}`, `[` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `]`,
	`{"a":1}x`, `{"a":}`, `["\u12"]`, `[01]`, `{"a" 1}`,
}

// FuzzJSONWalker: valid JSON in gives valid JSON out, in every mode; in
// full mode the document is unchanged.
func FuzzJSONWalker(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	cfg := defaultCfg()
	cfg.HashKey = testHashKey
	p, err := newPIIProcessor(processortestSettings(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w := newWorker(p)
		for _, m := range []Mode{ModeRedacted, ModeHashed, ModeFull} {
			w.reset(m)
			out, changed := w.redact(s, 0)
			// The walker handles documents (objects, arrays); a bare
			// scalar is a plain string to redact.
			if !looksJSON(s) || !json.Valid([]byte(s)) {
				continue
			}
			if !json.Valid([]byte(out)) {
				t.Fatalf("mode %s: valid JSON in, invalid out:\nin:  %q\nout: %q", m, s, out)
			}
			if m == ModeFull && (changed || out != s) {
				t.Fatalf("full mode changed %q", s)
			}
		}
	})
}

// FuzzDecodeJSONString: the decoder agrees with encoding/json on valid
// UTF-8 string tokens, and appendJSONString round-trips.
func FuzzDecodeJSONString(f *testing.F) {
	for _, s := range []string{`"a"`, `"\n\t\"\\\/\b\f\r"`, `"\u00e9\ud83d\ude00"`, `"\ud800x"`, `"\udc00\ud800"`, `"é"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		var want string
		if !utf8.ValidString(tok) || len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' || json.Unmarshal([]byte(tok), &want) != nil {
			return
		}
		jw := jsonWalker{s: tok}
		ts, te, esc, ok := jw.stringToken()
		if !ok || ts != 0 || te != len(tok) {
			t.Fatalf("token %q not accepted", tok)
		}
		got := tok[1 : len(tok)-1]
		if esc {
			got = decodeJSONString(got)
		}
		if got != want {
			t.Fatalf("decode %q: got %q want %q", tok, got, want)
		}
		var back string
		enc := appendJSONString(nil, got)
		if err := json.Unmarshal(enc, &back); err != nil || back != got {
			t.Fatalf("re-encode %q: %q (%v)", got, enc, err)
		}
	})
}
