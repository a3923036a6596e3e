package piiredactionprocessor

import (
	"encoding/base64"
	"net/netip"
	"strings"
)

// ---------------------------------------------------------------------------
// Email.

// emailAt finds an email address around the '@' at position at.
func emailAt(t string, at int) (int, int, bool) {
	return emailAtSep(t, at, 1)
}

// emailAtSep: the '@' at position at is sepLen bytes long (3 for the
// URL-encoded %40).
func emailAtSep(t string, at, sepLen int) (int, int, bool) {
	s := at
	for s > 0 && at-s < 64 {
		if ctab[t[s-1]]&cLocal != 0 {
			s--
		} else if latinLetterBefore(t, s) {
			s -= 2
		} else {
			break
		}
	}
	for s < at && (t[s] == '.' || t[s] == '-' || t[s] == '+') {
		s++
	}
	if s == at || t[at-1] == '.' {
		return 0, 0, false
	}
	if s > 0 && (ctab[t[s-1]]&cLocal != 0 || latinLetterBefore(t, s)) {
		return 0, 0, false // local part longer than 64 bytes
	}
	e, ok := domainAt(t, at+sepLen)
	if !ok {
		return 0, 0, false
	}
	// git@github.com:org/repo.git is an SSH remote, not a mailbox.
	if e < len(t) && t[e] == ':' && t[s:at] == "git" {
		return 0, 0, false
	}
	return s, e, true
}

// domainAt parses a domain name starting at j and returns its end: at least
// two labels, the last one a plausible TLD.
func domainAt(t string, j int) (int, bool) {
	n := len(t)
	k := j
	good := -1
	labels := 0
	for k < n {
		ls := k
		for k < n {
			if ctab[t[k]]&cDomain != 0 {
				k++
			} else if latinLetterAt(t, k) {
				k += 2
			} else {
				break
			}
		}
		if k == ls || t[ls] == '-' || t[k-1] == '-' || k-ls > 63 {
			break
		}
		labels++
		if labels >= 2 && isTLD(t[ls:k]) {
			good = k
		}
		if k+1 < n && t[k] == '.' && (ctab[t[k+1]]&cDomain != 0 || latinLetterAt(t, k+1)) {
			k++
			continue
		}
		break
	}
	if good < 0 || !wordBoundaryAfter(t, good) {
		return 0, false
	}
	return good, true
}

func isTLD(l string) bool {
	if len(l) < 2 || len(l) > 24 {
		return false
	}
	if strings.HasPrefix(l, "xn--") {
		return true
	}
	for i := 0; i < len(l); i++ {
		if ctab[l[i]]&(cUpper|cLower) != 0 {
			continue
		}
		if latinLetterAt(l, i) { // .рф, .ελ
			i++
			continue
		}
		return false
	}
	// Retina assets and the like: logo@2x.png.
	switch strings.ToLower(l) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tiff":
		return false
	}
	return true
}

// latinLetterAt reports a two-byte UTF-8 letter of the Latin (U+00C0-
// U+024F: é, ü, ñ, ł), Greek or Cyrillic (U+0370-U+052F) scripts at i, which
// may appear in internationalised addresses (иван@почта.рф). CJK scripts are
// not accepted: they are written without spaces, so an address next to
// them (请发送至zhang@example.cn) must keep its bounds.
func latinLetterAt(t string, i int) bool {
	if i+1 >= len(t) || t[i+1] < 0x80 || t[i+1] > 0xBF {
		return false
	}
	switch c := t[i]; {
	case c >= 0xC3 && c <= 0xC9:
		// U+00D7 × and U+00F7 ÷ are not letters.
		return !(c == 0xC3 && (t[i+1] == 0x97 || t[i+1] == 0xB7))
	case c == 0xCD:
		return t[i+1] >= 0xB0 // Greek starts at U+0370
	case c >= 0xCE && c <= 0xD4:
		return true
	}
	return false
}

func latinLetterBefore(t string, s int) bool { return s >= 2 && latinLetterAt(t, s-2) }

// passwordIsAt handles prose: "my password is Tr0ub4dor&3", "Passwort ist
// Geheim123", "mot de passe est ...". w is the word at i (already known to
// be a password word).
func passwordIsAt(t string, i, wordEnd int) (int, int, bool) {
	j := wordEnd
	if j >= len(t) || t[j] != ' ' {
		return 0, 0, false
	}
	j++
	verb := 0
	for _, v := range [...]string{"is ", "ist ", "est ", "es ", "é ", "è "} {
		if strings.HasPrefix(t[j:], v) {
			verb = len(v)
			break
		}
	}
	if verb == 0 {
		return 0, 0, false
	}
	vs := j + verb
	for vs < len(t) && (t[vs] == '"' || t[vs] == '\'' || t[vs] == '`') {
		vs++
	}
	ve := vs
	for ve < len(t) && t[ve] > ' ' && t[ve] < 0x80 && t[ve] != '"' && t[ve] != '\'' && t[ve] != '`' && t[ve] != ',' && t[ve] != ';' {
		ve++
	}
	for ve > vs && (t[ve-1] == '.' || t[ve-1] == ')') {
		ve--
	}
	v := t[vs:ve]
	if len(v) < 6 || !plausibleSecret(v, keyPassword, false) {
		return 0, 0, false
	}
	return vs, ve, true
}

// ---------------------------------------------------------------------------
// URL credentials: scheme://user:password@host.

func urlPasswordAt(t string, at int) (int, int, bool) {
	lo := max(0, at-512)
	for j := at - 1; j >= lo; j-- {
		c := t[j]
		if c < 0x20 {
			return 0, 0, false
		}
		switch c {
		case ' ', '"', '\'', '<', '>', '`', '(', ')', '[', ']', '{', '}', ',':
			return 0, 0, false
		case '/':
			if j >= 2 && t[j-1] == '/' && t[j-2] == ':' {
				ui := t[j+1 : at]
				c := strings.IndexByte(ui, ':')
				if c < 0 || strings.IndexByte(ui, '/') >= 0 {
					return 0, 0, false
				}
				ps := j + 1 + c + 1
				if ps >= at || isPlaceholderValue(t[ps:at]) {
					return 0, 0, false
				}
				return ps, at, true
			}
		}
	}
	return 0, 0, false
}

// ---------------------------------------------------------------------------
// Secrets with a known prefix, at a word start.

// tokenEnd returns the end of the run of bytes of class set (plus the
// extra bytes) starting at i.
func runEnd(t string, i int, ok func(byte) bool) int {
	for i < len(t) && ok(t[i]) {
		i++
	}
	return i
}

func isAlnum(c byte) bool      { return ctab[c]&(cDigit|cUpper|cLower) != 0 }
func isTokenChar(c byte) bool  { return isWord(c) || c == '-' }             // [A-Za-z0-9_-]
func isUpperDigit(c byte) bool { return ctab[c]&(cDigit|cUpper) != 0 }      // [A-Z0-9]
func isB64URL(c byte) bool     { return isWord(c) || c == '-' || c == '=' } // base64url + padding
func isBearerChar(c byte) bool {
	return isWord(c) || c == '-' || c == '.' || c == '~' || c == '+' || c == '/' || c == '='
}

// secretAt recognises a secret at word start i and returns its span.
func secretAt(t string, i int) (int, int, bool) {
	if i >= len(t) {
		return 0, 0, false
	}
	r := t[i:]
	switch t[i] {
	case 's':
		if strings.HasPrefix(r, "sk-") {
			// OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic
			// (sk-ant-api03-, sk-ant-admin01-).
			e := runEnd(t, i+3, isTokenChar)
			if e-i >= 23 && hasDigitAndLetter(t[i+3:e]) {
				return i, e, true
			}
		} else if strings.HasPrefix(r, "sk_live_") || strings.HasPrefix(r, "sk_test_") {
			return prefixedToken(t, i, 8, 16, isAlnum)
		}
	case 'r':
		if strings.HasPrefix(r, "rk_live_") || strings.HasPrefix(r, "rk_test_") {
			return prefixedToken(t, i, 8, 16, isAlnum)
		}
	case 'A':
		if len(r) >= 20 && (strings.HasPrefix(r, "AKIA") || strings.HasPrefix(r, "ASIA") || strings.HasPrefix(r, "ABIA") || strings.HasPrefix(r, "ACCA")) {
			e := runEnd(t, i+4, isUpperDigit)
			if e-i == 20 && wordBoundaryAfter(t, e) {
				return i, e, true
			}
		} else if strings.HasPrefix(r, "AIza") {
			e := runEnd(t, i+4, isTokenChar)
			if e-i == 39 {
				return i, e, true
			}
		}
	case 'g':
		if len(r) > 4 && r[0] == 'g' && r[1] == 'h' && r[3] == '_' && strings.IndexByte("pousr", r[2]) >= 0 {
			return prefixedToken(t, i, 4, 30, isAlnum)
		}
		if strings.HasPrefix(r, "github_pat_") {
			return prefixedToken(t, i, 11, 40, isWord)
		}
	case 'x':
		if strings.HasPrefix(r, "xoxe.xox") { // Slack configuration token
			e := runEnd(t, i+5, isTokenChar)
			if e-i >= 20 && hasDigit(t[i+5:e]) {
				return i, e, true
			}
		}
		if len(r) > 5 && strings.HasPrefix(r, "xox") && strings.IndexByte("abposre", r[3]) >= 0 && r[4] == '-' {
			e := runEnd(t, i+5, isTokenChar)
			if e-i >= 15 && hasDigit(t[i+5:e]) {
				return i, e, true
			}
		}
	case 'e':
		if strings.HasPrefix(r, "eyJ") {
			return jwtAt(t, i)
		}
	case 'B', 'b':
		if hasPrefixFoldASCII(r, "bearer ") {
			s := i + 7
			for s < len(t) && t[s] == ' ' {
				s++
			}
			e := runEnd(t, s, isBearerChar)
			for e > s && t[e-1] == '.' {
				e--
			}
			if e-s >= 16 && hasDigitAndLetter(t[s:e]) {
				return s, e, true
			}
		} else if strings.HasPrefix(r, "Basic ") {
			s := i + 6
			e := runEnd(t, s, isBearerChar)
			if e-s >= 8 && basicCredentials(t[s:e]) {
				return s, e, true
			}
		}
	case 'h':
		if strings.HasPrefix(r, "hooks.slack.com/services/") {
			e := runEnd(t, i+25, func(c byte) bool { return isAlnum(c) || c == '/' })
			if e-(i+25) >= 20 {
				return i, e, true
			}
		}
	}
	return 0, 0, false
}

// prefixedToken: prefix of length pl followed by at least minLen bytes of
// class ok, ending at a word boundary.
func prefixedToken(t string, i, pl, minLen int, ok func(byte) bool) (int, int, bool) {
	e := runEnd(t, i+pl, ok)
	if e-(i+pl) >= minLen && wordBoundaryAfter(t, e) {
		return i, e, true
	}
	return 0, 0, false
}

// jwtAt: header.payload.signature, the first two base64url JSON objects
// (eyJ...), the signature possibly empty (alg none).
func jwtAt(t string, i int) (int, int, bool) {
	isB64 := func(c byte) bool { return isWord(c) || c == '-' }
	e1 := runEnd(t, i, isB64)
	if e1-i < 10 || e1 >= len(t) || t[e1] != '.' || !strings.HasPrefix(t[e1+1:], "eyJ") {
		return 0, 0, false
	}
	e2 := runEnd(t, e1+1, isB64)
	if e2-e1 < 10 || e2 >= len(t) || t[e2] != '.' {
		return 0, 0, false
	}
	e3 := runEnd(t, e2+1, isB64)
	if e3 == e2+1 {
		return i, e2 + 1, true
	}
	return i, e3, true
}

// basicCredentials: base64 of user:password.
func basicCredentials(s string) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	c := strings.IndexByte(string(b), ':')
	if c <= 0 || c == len(b)-1 {
		return false
	}
	for _, x := range b {
		if x < 0x20 || x == 0x7f {
			return false
		}
	}
	return true
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			return true
		}
	}
	return false
}

func hasDigitAndLetter(s string) bool {
	d, l := false, false
	for i := 0; i < len(s) && !(d && l); i++ {
		cl := ctab[s[i]]
		d = d || cl&cDigit != 0
		l = l || cl&(cUpper|cLower) != 0
	}
	return d && l
}

// ---------------------------------------------------------------------------
// PEM private keys.

func pemAt(t string, i int) (int, bool) {
	const begin = "-----BEGIN "
	if !strings.HasPrefix(t[i:], begin) {
		return 0, false
	}
	hs := i + len(begin)
	he := strings.Index(t[hs:min(len(t), hs+64)], "-----")
	if he < 0 || !strings.HasSuffix(t[hs:hs+he], "PRIVATE KEY") {
		return 0, false
	}
	for _, c := range []byte(t[hs : hs+he]) {
		if c != ' ' && ctab[c]&(cUpper|cDigit) == 0 {
			return 0, false // labels are upper case: RSA PRIVATE KEY, ENCRYPTED PRIVATE KEY
		}
	}
	body := hs + he + 5
	if k := strings.Index(t[body:], "-----END "); k >= 0 {
		es := body + k + 9
		if k2 := strings.Index(t[es:min(len(t), es+64)], "-----"); k2 >= 0 {
			return es + k2 + 5, true
		}
	}
	// Truncated key: redact the base64 body that follows.
	e := body
	for e < len(t) {
		c := t[e]
		if isAlnum(c) || c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r' || c == ' ' {
			e++
			continue
		}
		if c == '\\' && e+1 < len(t) && t[e+1] == 'n' {
			e += 2
			continue
		}
		break
	}
	for e > body && (t[e-1] == ' ' || t[e-1] == '\n' || t[e-1] == '\r') {
		e--
	}
	return e, true
}

// ---------------------------------------------------------------------------
// key=value / key: value secrets.

// keyKind classifies a key by its name.
type keyKind uint8

const (
	keyPlain    keyKind = iota
	keyPassword         // password, passwd, pwd, passphrase, and translations
	keyToken            // secret, api_key, access_token, private_key ...
)

var (
	passwordSuffixes = []string{"password", "passwd", "pwd", "passphrase", "passwort", "motdepasse", "contraseña",
		"contrasena", "senha", "wachtwoord", "пароль", "パスワード", "密码", "密碼", "비밀번호"}
	tokenSuffixes = []string{"secret", "secretkey", "secretaccesskey", "apikey", "apisecret", "apitoken", "accesstoken",
		"authtoken", "refreshtoken", "sessiontoken", "bearertoken", "idtoken", "privatekey", "token", "clientsecret",
		"signingkey", "encryptionkey", "webhooksecret", "credentials"}
)

// secretKeyKind classifies an attribute key, JSON member name or text key:
// lower-cased, with '_', '-', '.' and spaces removed, by its suffix.
func secretKeyKind(key string) keyKind {
	if len(key) < 2 {
		return keyPlain
	}
	// Cheap reject on the last byte: every suffix ends with one of these.
	if last := key[len(key)-1]; last < 0x80 {
		switch lowerASCII(last) {
		case 'd', 'e', 't', 'y', 'n', 'a', 's', 'w':
		default:
			return keyPlain
		}
	}
	// The last segment alone: DB_PASS, smtp.pw.
	seg := key
	if k := strings.LastIndexAny(key, "_-. "); k >= 0 {
		seg = key[k+1:]
	}
	if equalFoldASCII(seg, "pass") || equalFoldASCII(seg, "pw") {
		return keyPassword
	}
	var buf [64]byte
	n := len(buf)
	for i := len(key) - 1; i >= 0 && n > 0; i-- {
		c := key[i]
		if c == '_' || c == '-' || c == '.' || c == ' ' {
			continue
		}
		n--
		buf[n] = lowerASCII(c)
	}
	norm := string(buf[n:])
	for _, s := range passwordSuffixes {
		if strings.HasSuffix(norm, s) {
			return keyPassword
		}
	}
	for _, s := range tokenSuffixes {
		if strings.HasSuffix(norm, s) {
			return keyToken
		}
	}
	return keyPlain
}

// placeholderWords are values that name a secret instead of being one.
var placeholderWords = map[string]bool{
	"null": true, "nil": true, "none": true, "true": true, "false": true, "undefined": true, "redacted": true,
	"required": true, "optional": true, "string": true, "password": true, "secret": true, "token": true,
	"hidden": true, "masked": true, "empty": true, "yes": true, "no": true, "str": true, "bool": true,
	"example": true, "placeholder": true, "default": true, "env": true, "test": true,
}

// isPlaceholderValue reports values that are templates, masks or
// type names rather than secrets: ****, xxxx, ${PASSWORD}, {{token}},
// <your-key>, %s, $SECRET, os.environ[...], "string".
func isPlaceholderValue(v string) bool {
	if v == "" {
		return true
	}
	switch v[0] {
	case '<', '$', '{', '%', '[', '*':
		return true
	}
	same := true
	for i := 1; i < len(v); i++ {
		if v[i] != v[0] {
			same = false
			break
		}
	}
	if same {
		return true
	}
	lv := strings.ToLower(v)
	if placeholderWords[lv] {
		return true
	}
	for _, w := range [...]string{"your", "xxx", "***", "...", "example", "changeme_", "placeholder", "redacted", "os.environ", "getenv", "process.env"} {
		if strings.Contains(lv, w) {
			return true
		}
	}
	return false
}

// plausibleSecret decides whether v, the value of a key of kind k, is a
// secret. strong: the value was assigned with '=', quoted, or is a
// structured attribute / JSON member value; otherwise (prose "password:
// x") it must mix character classes.
func plausibleSecret(v string, k keyKind, strong bool) bool {
	if len(v) > 1024 || isPlaceholderValue(v) {
		return false
	}
	classes := 0
	var seen [3]bool
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return false // secrets carry no control characters
		}
		cl := ctab[v[i]]
		switch {
		case cl&cDigit != 0:
			seen[0] = true
		case cl&(cUpper|cLower) != 0:
			seen[1] = true
		default:
			seen[2] = true
		}
	}
	for _, s := range seen {
		if s {
			classes++
		}
	}
	switch k {
	case keyPassword:
		if len(v) < 4 {
			return false
		}
		return strong || classes >= 2
	case keyToken:
		return len(v) >= 8 && seen[0] && seen[1] && strings.IndexByte(v, ' ') < 0
	}
	return false
}

// keyValueSecretAt handles "key<sep>value" where sep (of length sepLen:
// '=', ':' or the full-width colon) is at position i and the key names a
// password or token.
func keyValueSecretAt(t string, i, sepLen int) (int, int, bool) {
	n := len(t)
	// The key: back over spaces and one closing quote.
	j := i
	for j > 0 && t[j-1] == ' ' {
		j--
	}
	if j > 0 && (t[j-1] == '"' || t[j-1] == '\'') {
		j--
	}
	ke := j
	for j > 0 && ke-j < 64 && (isWord(t[j-1]) || t[j-1] == '-' || t[j-1] == '.' || t[j-1] >= 0x80) {
		j--
	}
	if ke-j < 3 {
		return 0, 0, false
	}
	kind := secretKeyKind(t[j:ke])
	if kind == keyPlain && equalFoldASCII(t[j:ke], "passe") && j >= 7 && equalFoldASCII(t[j-7:j], "mot de ") {
		kind = keyPassword // French: mot de passe
	}
	if kind == keyPlain {
		return 0, 0, false
	}
	k := i + sepLen
	if t[i] == '=' && k < n && t[k] == '=' { // ==, a comparison
		return 0, 0, false
	}
	for k < n && (t[k] == ' ' || t[k] == '\t') {
		k++
	}
	if k >= n {
		return 0, 0, false
	}
	var quote byte
	if t[k] == '"' || t[k] == '\'' || t[k] == '`' {
		quote = t[k]
		k++
	}
	vs := k
	if vs >= n {
		return 0, 0, false
	}
	if s, e, ok := secretAt(t, vs); ok && s == vs && (quote == 0 || (e < n && t[e] == quote)) {
		return s, e, true
	}
	ve := vs
	if quote != 0 {
		for ve < n && t[ve] != quote && t[ve] != '\n' && ve-vs <= 1024 {
			if t[ve] == '\\' && ve+1 < n {
				ve++
			}
			ve++
		}
		if ve >= n || t[ve] != quote {
			return 0, 0, false
		}
	} else {
		for ve < n && ve-vs <= 1024 {
			c := t[ve]
			// '&' ends the value only when a query parameter follows
			// (password=x&user=y); otherwise it is part of it (Tr0ub4dor&3).
			if c == '&' && queryParamAt(t, ve+1) {
				break
			}
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';' || c == '"' ||
				c == '\'' || c == '}' || c == ')' || c == ']' || c == '<' || c == '>' || c == '`' || c == '\\' || c >= 0x7f || c < 0x20 {
				break
			}
			ve++
		}
		// A sentence full stop is not part of the value.
		if ve > vs && t[ve-1] == '.' && (ve == n || t[ve] == ' ' || t[ve] == '\n') {
			ve--
		}
	}
	v := t[vs:ve]
	// PWD=/home/user is the working directory, not a password.
	if kind == keyPassword && v != "" && (v[0] == '/' || v[0] == '~') && strings.HasSuffix(strings.ToLower(t[j:ke]), "pwd") {
		return 0, 0, false
	}
	strong := quote != 0 || t[i] == '='
	if !plausibleSecret(v, kind, strong) {
		return 0, 0, false
	}
	return vs, ve, true
}

// queryParamAt reports "name=" at i.
func queryParamAt(t string, i int) bool {
	j := i
	for j < len(t) && j-i < 64 && (isWord(t[j]) || t[j] == '-' || t[j] == '.' || t[j] == '[' || t[j] == ']') {
		j++
	}
	return j > i && j < len(t) && t[j] == '='
}

// ---------------------------------------------------------------------------
// IBAN, at a word start with two upper-case letters and two digits.

func ibanAt(t string, i int) (int, bool) {
	n := len(t)
	if i+4 > n || !isDigit(t[i+2]) || !isDigit(t[i+3]) {
		return 0, false
	}
	want := ibanLength(t[i], t[i+1])
	if want == 0 {
		return 0, false
	}
	var buf [34]byte
	copy(buf[:4], t[i:i+4])
	got := 4
	j := i + 4
	groupLen := 0
	for got < want && j < n {
		c := t[j]
		if isUpperDigit(c) {
			buf[got] = c
			got++
			groupLen++
			j++
			continue
		}
		if (c == ' ' || c == '-') && j+1 < n && isUpperDigit(t[j+1]) && (groupLen == 4 || (j == i+4)) {
			groupLen = 0
			j++
			continue
		}
		break
	}
	if got != want || !wordBoundaryAfter(t, j) {
		return 0, false
	}
	if mod97(buf[:want]) != 1 {
		return 0, false
	}
	return j, true
}

// ---------------------------------------------------------------------------
// IPv6, anchored at a ':'.

func isHexColonDot(c byte) bool { return ctab[c]&cHex != 0 || c == ':' || c == '.' }

func ipv6At(t string, c int) (int, int, bool) {
	n := len(t)
	s := c
	for s > 0 && c-s < 4 && ctab[t[s-1]]&cHex != 0 {
		s--
	}
	if s > 0 && (isWord(t[s-1]) || t[s-1] == ':' || t[s-1] == '.') {
		return 0, 0, false
	}
	if s == c && (c+1 >= n || t[c+1] != ':') {
		return 0, 0, false
	}
	e := c
	for e < n && e-s < 45 && isHexColonDot(t[e]) {
		e++
	}
	for e > c && (t[e-1] == '.' || (t[e-1] == ':' && (e-2 < s || t[e-2] != ':'))) {
		e--
	}
	if !wordBoundaryAfter(t, e) || e-s < 3 {
		return 0, 0, false
	}
	cand := t[s:e]
	if !hasDigit(cand) || strings.Count(cand, ":") < 2 {
		return 0, 0, false
	}
	a, err := netip.ParseAddr(cand)
	if err != nil || !a.Is6() || a.IsUnspecified() {
		return 0, 0, false
	}
	return s, e, true
}
