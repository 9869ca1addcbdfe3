package codeanalysis

import (
	"math"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Detectors for secrets whose shape gives them away, wherever they appear
// (code, strings or comments: a key in a comment is just as leaked).
var (
	reAWSKey      = regexp.MustCompile(`\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b`)
	reGitHubToken = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})\b`)
	rePrivateKey  = regexp.MustCompile(`-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----`)
)

// scanSecretTokens reports the secrets recognisable by their shape alone,
// line by line.
func (r *fileReport) scanSecretTokens() {
	for i, line := range r.lines {
		if strings.Contains(line, "A") {
			for _, loc := range reAWSKey.FindAllStringIndex(line, -1) {
				if strings.Contains(line[loc[0]:loc[1]], "EXAMPLE") {
					continue // the key in AWS's own documentation
				}
				r.add(i+1, loc[0]+1, "secret-aws-key", SeverityError, "AWS access key ID in the source; revoke it and load it from the environment or a secret store")
			}
		}
		if strings.Contains(line, "_") {
			for _, loc := range reGitHubToken.FindAllStringIndex(line, -1) {
				r.add(i+1, loc[0]+1, "secret-github-token", SeverityError, "GitHub token in the source; revoke it and load it from the environment or a secret store")
			}
		}
		if strings.Contains(line, "-----BEGIN") {
			if loc := rePrivateKey.FindStringIndex(line); loc != nil {
				r.add(i+1, loc[0]+1, "secret-private-key", SeverityError, "private key block in the source; replace the key and keep it out of the repository")
			}
		}
	}
}

// maskSecrets hides every secret in a line: the literals found for the file
// (by secrets, which may be nil) and anything with the shape of a key.
func maskSecrets(line string, secrets *strings.Replacer) string {
	if secrets != nil {
		line = secrets.Replace(line)
	}
	line = reAWSKey.ReplaceAllStringFunc(line, mask)
	line = reGitHubToken.ReplaceAllStringFunc(line, mask)
	if loc := rePrivateKey.FindStringIndex(line); loc != nil && strings.TrimSpace(line[loc[1]:]) != "" {
		line = line[:loc[1]] + "********"
	}
	return line
}

// mask keeps the first few characters of a secret, enough to recognise it,
// and hides the rest behind a fixed number of stars, so that not even the
// length shows.
func mask(s string) string {
	keep := 4
	if utf8.RuneCountInString(s) < 16 {
		keep = 2
	}
	n := 0
	for i := range s {
		if n == keep {
			return s[:i] + "********"
		}
		n++
	}
	return "********"
}

// shapedSecret reports whether a literal holds a secret that the line
// detectors already report.
func shapedSecret(s string) bool {
	return reAWSKey.MatchString(s) || reGitHubToken.MatchString(s) || rePrivateKey.MatchString(s)
}

// Words that make a name sensitive, alone or as the pair before "key".
var (
	secretWords = map[string]bool{
		"password": true, "passwd": true, "pwd": true, "passphrase": true,
		"secret": true, "secrets": true, "token": true, "tokens": true,
		"credential": true, "credentials": true, "apikey": true,
		"authorization": true, "bearer": true, "privatekey": true,
		"secretkey": true, "accesskey": true, "clientsecret": true,
	}
	keyQualifiers = map[string]bool{
		"api": true, "access": true, "secret": true, "private": true,
		"signing": true, "encryption": true, "auth": true, "master": true,
		"client": true,
	}
	// A name ending in one of these is about a secret without holding one:
	// tokenURL, passwordField, secretName.
	notSecretSuffixes = map[string]bool{
		"url": true, "uri": true, "endpoint": true, "path": true, "file": true,
		"filename": true, "dir": true, "name": true, "type": true, "header": true,
		"field": true, "label": true, "prefix": true, "suffix": true, "env": true,
		"var": true, "id": true, "length": true, "len": true, "size": true,
		"count": true, "format": true, "pattern": true, "regex": true, "re": true,
		"kind": true, "mode": true, "policy": true, "param": true, "query": true,
		"placeholder": true, "hint": true, "message": true, "msg": true, "prompt": true,
	}
)

// nameWords splits an identifier into lower-case words: camelCase, snake_case,
// kebab-case and SCREAMING_CASE alike. "APIKey" is "api", "key".
func nameWords(name string) []string {
	var words []string
	rs := []rune(name)
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, strings.ToLower(string(rs[start:end])))
		}
		start = -1
	}
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		prev := rs[i-1]
		if unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev) ||
			(unicode.IsUpper(prev) && i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			flush(i)
			start = i
		}
	}
	flush(len(rs))
	return words
}

// sensitiveName reports whether a name says that its value is a secret.
func sensitiveName(name string) bool {
	words := nameWords(name)
	if len(words) == 0 || notSecretSuffixes[words[len(words)-1]] {
		return false
	}
	for i, w := range words {
		if secretWords[w] {
			return true
		}
		if w == "key" && i > 0 && keyQualifiers[words[i-1]] {
			return true
		}
	}
	return false
}

// looksSecret reports whether a literal value could be a real secret rather
// than a placeholder, a variable name or a word: long enough, no spaces,
// several kinds of character and high Shannon entropy.
func looksSecret(v string) bool {
	if len(v) < 8 || len(v) > 4096 || strings.ContainsAny(v, " \t\r\n") {
		return false
	}
	lower := strings.ToLower(v)
	for _, p := range []string{"changeme", "change-me", "change_me", "example", "placeholder", "your_", "your-", "xxxx", "****", "...", "dummy", "redacted", "<", ">", "${", "{{", "%s", "%v"} {
		if strings.Contains(lower, p) {
			return false
		}
	}
	for _, p := range []string{"http://", "https://", "/", "./", "file:"} {
		if strings.HasPrefix(lower, p) {
			return false
		}
	}
	upperSnake := true
	var lowerC, upperC, digitC, otherC bool
	for _, r := range v {
		switch {
		case unicode.IsLower(r):
			lowerC, upperSnake = true, false
		case unicode.IsUpper(r):
			upperC = true
		case unicode.IsDigit(r):
			digitC = true
		case r == '_':
			otherC = true
		default:
			otherC, upperSnake = true, false
		}
	}
	if upperSnake {
		return false // an environment variable's name, not its value
	}
	classes := 0
	for _, c := range []bool{lowerC, upperC, digitC, otherC} {
		if c {
			classes++
		}
	}
	return classes >= 2 && entropy(v) >= 3.0
}

// entropy is the Shannon entropy of s in bits per character.
func entropy(s string) float64 {
	counts := make(map[rune]int)
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	if n == 0 {
		return 0
	}
	var h float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}

// hardcodedSecret returns the secret in value, assigned to name, when it
// should be reported as secret-hardcoded: an authorization scheme
// ("Bearer ...") is looked past, and literals that the shape detectors
// recognise are left to them.
func hardcodedSecret(name, value string) (string, bool) {
	if !sensitiveName(name) {
		return "", false
	}
	for _, scheme := range []string{"Bearer ", "Basic ", "Token ", "token ", "bearer "} {
		value = strings.TrimPrefix(value, scheme)
	}
	if !looksSecret(value) || shapedSecret(value) {
		return "", false
	}
	return value, true
}

const hardcodedMessage = "hard-coded secret in %s; load it from the environment or a secret store"
