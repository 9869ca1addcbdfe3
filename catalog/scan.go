package catalog

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// A tool's description goes into the model's context as it is: a server
// can write instructions to the model there ("tool poisoning"). Scan
// flags what such descriptions use. A finding is a reason to read the
// description, not proof of intent: a plain description may mention a
// path, and a poisoned one may use none of these.

// Kinds of finding.
const (
	FindingTag       = "instruction_tag" // <IMPORTANT>, <system>, [INST]…
	FindingAddressed = "addresses_model" // "ignore previous instructions", "do not tell the user"…
	FindingInvisible = "invisible_text"  // zero-width, bidi controls, tag characters
	FindingSecrets   = "sensitive_path"  // ~/.ssh, id_rsa, .env, /etc/passwd…
	FindingExfil     = "sends_data_away" // "send … to http…", "include the contents of"
)

// A Finding is one thing a description holds that tool poisoning uses.
type Finding struct {
	Kind string `json:"kind"`
	// Match is what was found, cut to 80 bytes; invisible characters as
	// their code points (U+200B).
	Match string `json:"match"`
}

var (
	tagPattern = regexp.MustCompile(`(?i)<\s*/?\s*(important|system|instructions?|secret|hidden|admin|sudo|priority)\b[^>]*>|\[/?INST\]|<\|im_start\|>`)
	// Words addressed to the model rather than describing the tool.
	addressedPattern = regexp.MustCompile(`(?i)\b(ignore (all |any )?(previous|prior|above) (instructions|rules)|do not (tell|inform|mention|show) (this to )?the user|don't (tell|inform|mention) the user|without (telling|informing) the user|before (using|calling) (this|the) tool|you must (always|first|never)|the user (must not|should not) (know|see))\b`)
	secretsPattern   = regexp.MustCompile(`(?i)(~/\.ssh|\bid_(rsa|ed25519|ecdsa)\b|\.ssh/|/etc/(passwd|shadow)|\.aws/credentials|\.env\b|\.npmrc|\.netrc|\.git-credentials|\bmcp\.json\b|claude_desktop_config\.json)`)
	exfilPattern     = regexp.MustCompile(`(?i)\b(send|post|upload|forward|exfiltrate)\b[^.]{0,60}\bhttps?://|\b(include|pass|put) (the )?(full |entire )?(contents?|text) of\b`)
)

// Scan returns what a description holds that tool poisoning uses.
func Scan(desc string) []Finding {
	var out []Finding
	add := func(kind, match string) {
		if len(match) > 80 {
			match = match[:80]
		}
		out = append(out, Finding{Kind: kind, Match: match})
	}
	for _, p := range []struct {
		kind string
		re   *regexp.Regexp
	}{{FindingTag, tagPattern}, {FindingAddressed, addressedPattern}, {FindingSecrets, secretsPattern}, {FindingExfil, exfilPattern}} {
		if m := p.re.FindString(desc); m != "" {
			add(p.kind, m)
		}
	}
	var hidden []string
	for _, r := range desc {
		if invisible(r) {
			hidden = append(hidden, fmt.Sprintf("U+%04X", r))
			if len(hidden) == 5 {
				break
			}
		}
	}
	if len(hidden) > 0 {
		add(FindingInvisible, strings.Join(hidden, " "))
	}
	return out
}

// invisible reports characters a reader does not see but a model reads:
// zero-width and formatting characters, bidirectional controls, and the
// Unicode tag block (which spells hidden ASCII).
func invisible(r rune) bool {
	switch {
	case r >= 0xE0000 && r <= 0xE007F: // tags
		return true
	case r == 0x200B, r == 0x200C, r == 0x200D, r == 0x2060, r == 0xFEFF: // zero width
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069: // bidi controls
		return true
	}
	return unicode.Is(unicode.Cf, r) && r != 0x00AD // other format characters, the soft hyphen aside
}
