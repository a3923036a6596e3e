package piiredactionprocessor

// The built-in detectors are hand-written scanners driven by one pass over
// the text. Instead of running one regular expression per entity type over
// every string, the pass looks at each byte once through a class table and
// only dispatches where an entity can start:
//
//   - a digit at a word start: the digit run (with single ' ', '-' or '.'
//     separators) is classified once as IPv4, SSN, card or phone;
//   - a letter at a word start: known secret prefixes (sk-, AKIA, ghp_,
//     xoxb-, AIza, eyJ, Bearer ...) and IBAN country codes; otherwise the
//     whole word is skipped;
//   - '@': email (and URL credentials, scheme://user:password@host);
//   - ':' and '=': key/value secrets (password=..., "api_key": ...) and
//     IPv6; '+' and '(': phone numbers; '-': PEM private keys.
//
// Every candidate is then checked by its validator (Luhn, mod-97, SSN
// ranges, NANP rules, netip parsing ...).

// Byte classes.
const (
	cWord   uint8 = 1 << iota // [A-Za-z0-9_]
	cDigit                    // [0-9]
	cUpper                    // [A-Z]
	cLower                    // [a-z]
	cHex                      // [0-9A-Fa-f]
	cLocal                    // email local part: [A-Za-z0-9._%+-]
	cDomain                   // domain label: [A-Za-z0-9-]
	cTrig                     // dispatch: @ : = + ( - % and 0xEF (full-width colon)
)

var ctab = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case b >= '0' && b <= '9':
			t[c] |= cWord | cDigit | cHex | cLocal | cDomain
		case b >= 'A' && b <= 'Z':
			t[c] |= cWord | cUpper | cLocal | cDomain
			if b <= 'F' {
				t[c] |= cHex
			}
		case b >= 'a' && b <= 'z':
			t[c] |= cWord | cLower | cLocal | cDomain
			if b <= 'f' {
				t[c] |= cHex
			}
		case b == '_':
			t[c] |= cWord | cLocal
		case b == '.' || b == '%' || b == '+':
			t[c] |= cLocal
		case b == '-':
			t[c] |= cLocal | cDomain
		}
		switch b {
		case '@', ':', '=', '+', '(', '-', '%', 0xEF:
			t[c] |= cTrig
		}
	}
	return t
}()

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWord(c byte) bool { return ctab[c]&cWord != 0 }

// skipWord returns the end of the [A-Za-z0-9_] run starting at i.
func skipWord(t string, i int) int {
	for i < len(t) && ctab[t[i]]&cWord != 0 {
		i++
	}
	return i
}

// wordBoundaryAfter reports whether position e ends a word.
func wordBoundaryAfter(t string, e int) bool {
	return e >= len(t) || ctab[t[e]]&cWord == 0
}

// detector runs the built-in entity scanners. It is immutable after
// construction and safe for concurrent use.
type detector struct {
	on [numBuiltinEntities]bool
	// numbers: any of the digit-run types is on.
	numbers bool
}

func newDetector(entities []string) *detector {
	d := &detector{}
	for _, e := range entities {
		if i := builtinByName(e); i >= 0 {
			d.on[i] = true
		}
	}
	d.numbers = d.on[entPhone] || d.on[entCard] || d.on[entSSN] || d.on[entIP]
	return d
}

// scan appends the built-in entities found in t to out. Findings may
// overlap; resolveOverlaps picks the winners.
func (d *detector) scan(t string, out []finding) []finding {
	n := len(t)
	i := 0
	for i < n {
		cl := ctab[t[i]]
		switch {
		case cl&cDigit != 0:
			// Word start: words are always skipped whole, so a word byte seen
			// here starts a word.
			if d.numbers {
				out, i = d.number(t, i, out)
			} else {
				i = skipWord(t, i)
			}
		case cl&cWord != 0:
			out, i = d.word(t, i, out)
		case cl&cTrig != 0:
			out, i = d.trigger(t, i, out)
		default:
			i++
		}
	}
	return out
}

// word handles a word starting with a letter or '_': secrets with a known
// prefix and IBANs. It returns the position after the word (or after the
// entity, when that is longer).
func (d *detector) word(t string, i int, out []finding) ([]finding, int) {
	end := skipWord(t, i)
	if d.on[entSecret] {
		if s, e, ok := secretAt(t, i); ok {
			out = append(out, finding{s, e, entSecret})
			return out, max(e, end)
		}
	}
	if d.on[entSecret] && end-i >= 8 && (t[i] == 'p' || t[i] == 'P') {
		if w := t[i:end]; equalFoldASCII(w, "password") || equalFoldASCII(w, "passwort") || equalFoldASCII(w, "passcode") {
			if s, e, ok := passwordIsAt(t, i, end); ok {
				out = append(out, finding{s, e, entSecret})
				return out, e
			}
		}
	}
	if d.on[entIBAN] && end-i >= 4 && ctab[t[i]]&cUpper != 0 {
		if e, ok := ibanAt(t, i); ok {
			out = append(out, finding{i, e, entIBAN})
			return out, max(e, end)
		}
	}
	return out, end
}

// trigger handles the punctuation that can start or anchor an entity.
func (d *detector) trigger(t string, i int, out []finding) ([]finding, int) {
	switch t[i] {
	case '@':
		if d.on[entSecret] {
			if s, e, ok := urlPasswordAt(t, i); ok {
				return append(out, finding{s, e, entSecret}), i + 1
			}
		}
		if d.on[entEmail] {
			if s, e, ok := emailAt(t, i); ok {
				return append(out, finding{s, e, entEmail}), e
			}
		}
	case ':', '=':
		if d.on[entSecret] {
			if s, e, ok := keyValueSecretAt(t, i, 1); ok {
				return append(out, finding{s, e, entSecret}), e
			}
		}
		if t[i] == ':' && d.on[entIP] {
			if s, e, ok := ipv6At(t, i); ok {
				return append(out, finding{s, e, entIP}), e
			}
		}
	case '+':
		if d.on[entPhone] && i+1 < len(t) && isDigit(t[i+1]) && (i == 0 || !isWord(t[i-1])) {
			if e, ok := plusPhoneAt(t, i); ok {
				return append(out, finding{i, e, entPhone}), e
			}
		}
	case '(':
		if d.on[entPhone] && i+2 < len(t) && (i == 0 || !isWord(t[i-1])) {
			if isDigit(t[i+1]) {
				if e, ok := parenPhoneAt(t, i); ok {
					return append(out, finding{i, e, entPhone}), e
				}
			} else if t[i+1] == '+' && isDigit(t[i+2]) {
				// (+44) 20 7946 0958
				if e, ok := plusPhoneAt(t, i+1); ok {
					return append(out, finding{i, e, entPhone}), e
				}
			}
		}
	case '-':
		if d.on[entSecret] && i+10 < len(t) && t[i+1] == '-' {
			if e, ok := pemAt(t, i); ok {
				return append(out, finding{i, e, entSecret}), e
			}
		}
	case '%':
		// URL-encoded '@' in query strings: ?email=jane%40example.com.
		if d.on[entEmail] && i+3 < len(t) && t[i+1] == '4' && t[i+2] == '0' && i > 0 {
			if s, e, ok := emailAtSep(t, i, 3); ok {
				return append(out, finding{s, e, entEmail}), e
			}
		}
	case 0xEF:
		// U+FF1A FULLWIDTH COLON (EF BC 9A), common in Chinese and Japanese.
		if d.on[entSecret] && i+2 < len(t) && t[i+1] == 0xBC && t[i+2] == 0x9A {
			if s, e, ok := keyValueSecretAt(t, i, 3); ok {
				return append(out, finding{s, e, entSecret}), e
			}
			return out, i + 3
		}
	}
	return out, i + 1
}

// ---------------------------------------------------------------------------
// Digit runs: IPv4, SSN, payment cards, phone numbers.

const (
	maxGroups     = 8
	maxRunDigits  = 32
	contextWindow = 32
)

func isNumSep(c byte) bool { return c == ' ' || c == '-' || c == '.' }

// numRun is a digit run: groups of digits separated by single separators.
type numRun struct {
	gs, ge [maxGroups]int  // group start/end
	sep    [maxGroups]byte // sep[g] precedes group g (sep[0] unused)
	k      int
}

// number classifies the digit run starting at the word start i.
func (d *detector) number(t string, i int, out []finding) ([]finding, int) {
	n := len(t)
	var r numRun
	j, total := i, 0
	for {
		s := j
		for j < n && isDigit(t[j]) {
			j++
		}
		r.gs[r.k], r.ge[r.k] = s, j
		total += j - s
		r.k++
		if r.k == maxGroups || total > maxRunDigits {
			break
		}
		if j+1 < n && isNumSep(t[j]) && isDigit(t[j+1]) {
			r.sep[r.k] = t[j]
			j++
			continue
		}
		break
	}
	runEnd := j
	wordAfter := !wordBoundaryAfter(t, runEnd)
	next := runEnd
	if wordAfter {
		next = skipWord(t, runEnd)
	}
	// Fast path: a lone short number (the common case in prose).
	if r.k == 1 && total < 9 {
		return out, next
	}
	// A run that goes on past the group limit is a long numeric blob
	// (a table row, a dotted OID): skip it whole.
	if r.k == maxGroups || total > maxRunDigits {
		for next < n && (isDigit(t[next]) || (isNumSep(t[next]) && next+1 < n && isDigit(t[next+1]))) {
			next++
		}
		return out, skipWord(t, next)
	}
	// A card-shaped block (4111 1111 1111 1111) that is not a valid card is
	// one number (a reference, a masked or test value): its parts are not
	// tried on their own.
	whole := false
	if r.k >= 3 {
		var lens [maxGroups]int
		sep := r.sep[1]
		uniform := sep == ' ' || sep == '-'
		for g := 0; g < r.k; g++ {
			lens[g] = r.ge[g] - r.gs[g]
			if g > 0 && r.sep[g] != sep {
				uniform = false
			}
		}
		whole = uniform && cardShape(lens[:r.k]) && total >= 13
	}
	// Try the longest entity first, starting at each group that follows a
	// space (a dash or dot would make it part of a larger number).
	for a := 0; a < r.k; a++ {
		if whole && a > 0 {
			break
		}
		if a > 0 && r.sep[a] != ' ' {
			continue
		}
		for b := r.k; b > a; b-- {
			if b < r.k && r.sep[b] != ' ' {
				continue
			}
			if (b == r.k && wordAfter) || (whole && b < r.k) {
				continue
			}
			if typ, ok := d.classify(t, &r, a, b); ok {
				out = append(out, finding{r.gs[a], r.ge[b-1], typ})
				return out, r.ge[b-1]
			}
		}
	}
	return out, next
}

// classify decides whether groups [a, b) of r form an entity.
func (d *detector) classify(t string, r *numRun, a, b int) (entityType, bool) {
	k := b - a
	var lens [maxGroups]int
	total := 0
	for g := a; g < b; g++ {
		lens[g-a] = r.ge[g] - r.gs[g]
		total += lens[g-a]
	}
	var sep byte
	uniform := true
	hasDot := false
	for g := a + 1; g < b; g++ {
		if sep == 0 {
			sep = r.sep[g]
		} else if r.sep[g] != sep {
			uniform = false
		}
		hasDot = hasDot || r.sep[g] == '.'
	}
	start, end := r.gs[a], r.ge[b-1]
	if k == 1 && total < 9 {
		return 0, false
	}

	if hasDot {
		if !uniform {
			return 0, false
		}
		if k == 4 && d.on[entIP] && ipv4Groups(t, r, a) && !versionContext(t, start) {
			// x.x.x.0 is a network address, not a host, unless it is written
			// as a CIDR block (10.0.0.0/8); 1.0.0.0 is far more often a
			// version.
			if t[end-1] != '0' || t[end-2] != '.' || (end < len(t) && t[end] == '/') {
				return entIP, true
			}
		}
		// 555.123.4567, 01.23.45.67.89
		if d.on[entPhone] && phoneShape(t, lens[:k], total, r.gs[a], '.') {
			return entPhone, true
		}
		return 0, false
	}

	var digits [maxRunDigits]byte
	dn := 0
	for g := a; g < b; g++ {
		dn += copy(digits[dn:], t[r.gs[g]:r.ge[g]])
	}
	dg := digits[:dn]

	if d.on[entSSN] {
		if k == 3 && uniform && (sep == '-' || sep == ' ') && lens[0] == 3 && lens[1] == 2 && lens[2] == 4 && ssnValid(dg) {
			return entSSN, true
		}
		if k == 1 && total == 9 && ssnValid(dg) && hasContext(t, start, ssnContext) {
			return entSSN, true
		}
	}
	if d.on[entCard] && total >= 13 && total <= 19 {
		if (k == 1 || (uniform && (sep == ' ' || sep == '-') && cardShape(lens[:k]))) && cardIIN(dg) && luhnValid(dg) {
			return entCard, true
		}
	}
	if d.on[entPhone] {
		if k == 1 {
			if phoneBare(dg) && hasContext(t, start, phoneContext) {
				return entPhone, true
			}
			// National number with trunk prefix, unformatted: 07700900123.
			if (total == 10 || total == 11) && dg[0] == '0' && dg[1] != '0' && hasContext(t, start, phoneContext) {
				return entPhone, true
			}
			return 0, false
		}
		if uniform && phoneShape(t, lens[:k], total, r.gs[a], sep) {
			return entPhone, true
		}
		// Mixed separators: NANP (555 123-4567, 1 800-555-0199) and an area
		// code with a dash (020-123 4567).
		if nanpShape(t, lens[:k], r.gs[a]) {
			return entPhone, true
		}
		if trunkDashShape(t, r, a, b, lens[:k], total) {
			return entPhone, true
		}
	}
	return 0, false
}

// ipv4Groups checks four dotted groups starting at group a: 0-255 without
// leading zeros.
func ipv4Groups(t string, r *numRun, a int) bool {
	for g := a; g < a+4; g++ {
		l := r.ge[g] - r.gs[g]
		if l > 3 || (l > 1 && t[r.gs[g]] == '0') {
			return false
		}
		v := 0
		for _, c := range []byte(t[r.gs[g]:r.ge[g]]) {
			v = v*10 + int(c-'0')
		}
		if v > 255 {
			return false
		}
	}
	return true
}

// versionContext reports whether the word before position i names a
// version ("version 1.2.3.4", "v 2.0.0.1", "build 10.0.0.1").
func versionContext(t string, i int) bool {
	j := i
	for j > 0 && (t[j-1] == ' ' || t[j-1] == ':') {
		j--
	}
	s := j
	for s > 0 && ctab[t[s-1]]&(cUpper|cLower) != 0 {
		s--
	}
	w := t[s:j]
	for _, v := range [...]string{"version", "ver", "v", "build", "release", "firmware", "fw"} {
		if equalFoldASCII(w, v) {
			return true
		}
	}
	return false
}

// cardShape accepts the usual print groupings: 4-4-4-4(-3), 4-4-4-1..4,
// 4-6-5 (Amex), 4-6-4 (Diners).
func cardShape(lens []int) bool {
	k := len(lens)
	if k == 3 && lens[0] == 4 && lens[1] == 6 && (lens[2] == 5 || lens[2] == 4) {
		return true
	}
	if k < 3 || k > 5 {
		return false
	}
	for i, l := range lens {
		if i == k-1 {
			return l >= 1 && l <= 4
		}
		if l != 4 {
			return false
		}
	}
	return true
}

// cardIIN checks the issuer prefix and length of the major card networks:
// Visa, Mastercard (51-55, 2221-2720), Amex (34, 37), Discover, Diners,
// JCB, UnionPay and Maestro.
func cardIIN(d []byte) bool {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p4 := p2*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	switch d[0] {
	case '4': // Visa
		return n == 13 || n == 16 || n == 19
	case '5':
		if p2 >= 51 && p2 <= 55 {
			return n == 16
		}
		return p2 == 50 || (p2 >= 56 && p2 <= 58) // Maestro
	case '2':
		return p4 >= 2221 && p4 <= 2720 && n == 16
	case '3':
		switch {
		case p2 == 34 || p2 == 37:
			return n == 15
		case p2 == 36 || p2 == 38 || p2 == 39 || (p2 == 30 && d[2] <= '5'):
			return n >= 14 && n <= 16
		case p4 >= 3528 && p4 <= 3589:
			return n >= 16
		}
		return false
	case '6':
		switch {
		case p4 == 6011 || p2 == 65 || (p2 == 64 && d[2] >= '4'): // Discover
			return n >= 16
		case p2 == 62: // UnionPay
			return n >= 16
		case p2 == 63 || p2 == 67: // Maestro
			return n >= 13
		}
		return false
	}
	return false
}

// phoneBare accepts an unformatted 10-digit NANP number (with context).
func phoneBare(d []byte) bool {
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	return len(d) == 10 && d[0] >= '2' && d[3] >= '2'
}

// phoneShape accepts uniformly separated national formats:
//   - NANP: 415-555-2671, 415.555.2671, 415 555 2671, 1-800-555-0199;
//   - trunk prefix 0: 020 7946 0958, 030 1234567, 06-12345678,
//     01 23 45 67 89, 03-1234-5678, 0412 345 678;
//   - Chinese mobiles: 138 0013 8000.
func phoneShape(t string, lens []int, total int, first int, sep byte) bool {
	k := len(lens)
	if nanpShape(t, lens, first) {
		return true
	}
	// 00 international prefix: 0049 30 12345678, 0044 20 7946 0958.
	if k >= 2 && lens[0] >= 3 && lens[0] <= 5 && t[first] == '0' && t[first+1] == '0' && t[first+2] != '0' && total >= 11 && total <= 17 {
		for _, l := range lens[1:] {
			if l < 2 {
				return false
			}
		}
		return sep != '.' || k >= 4
	}
	if t[first] == '0' && k >= 2 && lens[0] >= 2 && lens[0] <= 5 && total >= 9 && total <= 12 {
		for _, l := range lens[1:] {
			if l < 2 {
				return false
			}
		}
		if sep == '.' && k < 4 {
			return false
		}
		return t[first+1] != '0'
	}
	if k == 3 && lens[0] == 3 && lens[1] == 4 && lens[2] == 4 && t[first] == '1' && t[first+1] >= '3' && sep != '.' {
		return true
	}
	return false
}

// trunkDashShape: 0AA-BBB CCCC, an area code with trunk prefix set off by a
// dash, the rest grouped by spaces in groups of at least 3 digits.
func trunkDashShape(t string, r *numRun, a, b int, lens []int, total int) bool {
	if b-a < 3 || lens[0] < 2 || lens[0] > 4 || t[r.gs[a]] != '0' || t[r.gs[a]+1] == '0' || r.sep[a+1] != '-' || total < 9 || total > 11 {
		return false
	}
	for g := a + 2; g < b; g++ {
		if r.sep[g] != ' ' {
			return false
		}
	}
	for _, l := range lens[1:] {
		if l < 3 {
			return false
		}
	}
	return true
}

// nanpShape: 3-3-4 or 1-3-3-4 with a valid area code (first digit 2-9).
func nanpShape(t string, lens []int, first int) bool {
	switch {
	case len(lens) == 3 && lens[0] == 3 && lens[1] == 3 && lens[2] == 4:
		return t[first] >= '2'
	case len(lens) == 4 && lens[0] == 1 && t[first] == '1' && lens[1] == 3 && lens[2] == 3 && lens[3] == 4:
		return t[first+2] >= '2'
	}
	return false
}

var (
	phoneContext = []string{"phone", "tel", "mobile", "cell", "call", "text me", "whatsapp", "fax", "sms", "contact",
		"telefon", "téléphone", "teléfono", "telefone", "telefono", "handy", "portable", "móvil", "celular",
		"電話", "携帯", "手机", "电话", "номер", "телефон"}
	ssnContext = []string{"ssn", "social security", "ss#", "ss #", "tax id", "taxpayer"}
)

// hasContext reports whether one of the words occurs (ignoring ASCII case)
// in the contextWindow bytes before position i.
func hasContext(t string, i int, words []string) bool {
	s := max(0, i-contextWindow)
	w := t[s:i]
	for _, kw := range words {
		if containsFoldASCII(w, kw) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// containsFoldASCII: sub is lower case.
func containsFoldASCII(s, sub string) bool {
	if len(sub) == 0 {
		return true
	}
	c0 := sub[0]
	for i := 0; i+len(sub) <= len(s); i++ {
		if lowerASCII(s[i]) != c0 {
			continue
		}
		j := 1
		for j < len(sub) && lowerASCII(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

func hasPrefixFoldASCII(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFoldASCII(s[:len(prefix)], prefix)
}

// plusPhoneAt parses an international number at '+': +14155552671,
// +44 20 7946 0958, +49 (0)30 1234567, +1 (415) 555-2671, +33.1.23.45.67.89.
func plusPhoneAt(t string, i int) (int, bool) {
	n := len(t)
	j := i + 1
	digits, groups, dots, lastEnd := 0, 0, 0, 0
	firstLen := 0
	for j < n {
		switch {
		case isDigit(t[j]):
			s := j
			for j < n && isDigit(t[j]) {
				j++
			}
			digits += j - s
			if groups == 0 {
				firstLen = j - s
			}
			groups++
			lastEnd = j
		case t[j] == '(' && groups > 0:
			// (0) trunk or (415) area code.
			s := j + 1
			e := s
			for e < n && isDigit(t[e]) {
				e++
			}
			if e == s || e-s > 4 || e >= n || t[e] != ')' {
				goto done
			}
			digits += e - s
			groups++
			j = e + 1
			lastEnd = j
			if j < n && (t[j] == ' ' || t[j] == '-') && j+1 < n && isDigit(t[j+1]) {
				j++
			}
			continue
		default:
			goto done
		}
		if digits > 15 {
			return 0, false
		}
		// (+44) 20 7946 0958: the country code in parentheses.
		if groups == 1 && i > 0 && t[i-1] == '(' && j+2 < n && t[j] == ')' && t[j+1] == ' ' && isDigit(t[j+2]) {
			j += 2
			continue
		}
		if j+1 < n && isNumSep(t[j]) && (isDigit(t[j+1]) || t[j+1] == '(') {
			if t[j] == '.' {
				dots++
			}
			j++
			continue
		}
		break
	}
done:
	if digits < 8 || digits > 15 || !wordBoundaryAfter(t, lastEnd) {
		return 0, false
	}
	if groups > 1 && firstLen > 4 {
		return 0, false
	}
	if dots > 0 && (groups < 4 || dots != groups-1) {
		return 0, false
	}
	// A decimal after the number (+1234567.50) is an amount, not a phone.
	if lastEnd+1 < n && (t[lastEnd] == '.' || t[lastEnd] == ',') && isDigit(t[lastEnd+1]) {
		return 0, false
	}
	return lastEnd, true
}

// parenPhoneAt parses a number with a parenthesised area code at '(':
// (415) 555-2671, (020) 7946 0958, (11) 91234-5678.
func parenPhoneAt(t string, i int) (int, bool) {
	n := len(t)
	s := i + 1
	e := s
	for e < n && isDigit(t[e]) {
		e++
	}
	areaLen := e - s
	if areaLen < 2 || areaLen > 5 || e >= n || t[e] != ')' {
		return 0, false
	}
	j := e + 1
	if j < n && (t[j] == ' ' || t[j] == '-') {
		j++
	}
	digits := areaLen
	var lens [6]int
	k := 0
	lastEnd := 0
	for j < n && isDigit(t[j]) && k < len(lens) {
		gs := j
		for j < n && isDigit(t[j]) {
			j++
		}
		lens[k] = j - gs
		k++
		digits += j - gs
		lastEnd = j
		if j+1 < n && (t[j] == ' ' || t[j] == '-' || t[j] == '.') && isDigit(t[j+1]) {
			j++
			continue
		}
		break
	}
	if k == 0 || !wordBoundaryAfter(t, lastEnd) {
		return 0, false
	}
	if areaLen == 3 && t[s] != '0' {
		// NANP: (415) 555-2671 or (415) 5552671.
		if t[s] < '2' || digits != 10 {
			return 0, false
		}
		return lastEnd, k == 1 && lens[0] == 7 || k == 2 && lens[0] == 3 && lens[1] == 4
	}
	if digits < 10 || digits > 12 {
		return 0, false
	}
	for _, l := range lens[:k] {
		if l < 2 {
			return 0, false
		}
	}
	return lastEnd, true
}
