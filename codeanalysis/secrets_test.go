package codeanalysis

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Fixture secrets are assembled at run time, so that this file does not
// itself hold anything shaped like a credential.
var (
	fakeAWSKey      = "AKIA" + "Q3EGXYZ7LMNOP2RS"
	fakeGitHubToken = "gh" + "p_" + strings.Repeat("a1B2c3D4e5", 3) + "F6g7H8"
	fakePrivateKey  = "-----BEGIN " + "RSA PRIVATE KEY-----"
)

func TestSecretDetectors(t *testing.T) {
	type secretCase struct {
		name   string
		file   string
		code   string
		rule   string
		want   []int
		secret string // must not appear in any snippet
	}
	cases := []secretCase{
		{"aws go", "a.go", src("package lib", "var k = \""+fakeAWSKey+"\"", "var doc = \"AKIAIOSFODNN7EXAMPLE\""), "secret-aws-key", []int{2}, fakeAWSKey},
		{"aws python", "a.py", src("# key: "+fakeAWSKey, "x = 1"), "secret-aws-key", []int{1}, fakeAWSKey},
		{"aws js", "a.js", src("const x = 1;", "const id = `"+fakeAWSKey+"`;"), "secret-aws-key", []int{2}, fakeAWSKey},
		{"aws negative", "a.js", src("const id = 'AKIA-not-a-key';"), "secret-aws-key", []int{}, ""},
		{"github go", "a.go", src("package lib", "", "const t = \""+fakeGitHubToken+"\""), "secret-github-token", []int{3}, fakeGitHubToken},
		{"github python", "a.py", src("TOKEN = '" + fakeGitHubToken + "'"), "secret-github-token", []int{1}, fakeGitHubToken},
		{"github js", "a.ts", src("", "auth({ token: \""+fakeGitHubToken+"\" });"), "secret-github-token", []int{2}, fakeGitHubToken},
		{"github negative", "a.py", src("prefix = 'ghp_'"), "secret-github-token", []int{}, ""},
		{"private key go", "a.go", src("package lib", "const k = `"+fakePrivateKey, "MIIEowIBAAKCAQEA", "-----END RSA PRIVATE KEY-----`"), "secret-private-key", []int{2}, ""},
		{"private key one line", "a.go", src("package lib", "const k = \""+fakePrivateKey+"\\nMIIEowIBAAKCAQEAsecretmaterial\""), "secret-private-key", []int{2}, "MIIEowIBAAKCAQEAsecretmaterial"},
		{"private key python", "a.py", src("KEY = '''", fakePrivateKey, "MIIE", "'''"), "secret-private-key", []int{2}, ""},
		{"private key js", "a.js", src("const k = `" + fakePrivateKey + "`;"), "secret-private-key", []int{1}, ""},
		{"private key negative", "a.js", src("const k = '-----BEGIN PUBLIC KEY-----';"), "secret-private-key", []int{}, ""},
		{"hardcoded go", "a.go", src("package lib", "var dbPassword = \"s3cR3t-Pa55w0rd-9x7q\""), "secret-hardcoded", []int{2}, "s3cR3t-Pa55w0rd-9x7q"},
		{"hardcoded python", "a.py", src("connect(user='app', password='s3cR3t-Pa55w0rd-9x7q')"), "secret-hardcoded", []int{1}, "s3cR3t-Pa55w0rd-9x7q"},
		{"hardcoded js", "a.js", src("this.apiKey = 'Qm9vLTk4MjE3YWJjZGVm';"), "secret-hardcoded", []int{1}, "Qm9vLTk4MjE3YWJjZGVm"},
		{"hardcoded negative", "a.py", src("password = os.environ['PASSWORD']", "token_url = 'https://x/oauth/token'", "secret = 'password'"), "secret-hardcoded", []int{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := analyzeOne(t, c.file, c.code, TypeSecurity)
			got := only(res, c.rule)
			if diff := cmp.Diff(c.want, lines(got)); diff != "" {
				t.Errorf("%s lines (-want +got):\n%s%s", c.rule, diff, dump(res.Findings))
			}
			for _, f := range res.Findings {
				if c.secret != "" && strings.Contains(f.Snippet, c.secret) {
					t.Errorf("snippet shows the secret: %q", f.Snippet)
				}
			}
			for _, f := range got {
				if f.Severity != SeverityError {
					t.Errorf("secrets are errors: %+v", f)
				}
				if c.secret != "" && !strings.Contains(f.Snippet, "********") {
					t.Errorf("snippet not masked: %q", f.Snippet)
				}
			}
		})
	}
}

// A secret is masked in every snippet of its file, whatever the rule.
func TestSecretMaskedInOtherFindings(t *testing.T) {
	code := src(
		"package lib",
		"var apiToken = \"Zx81kPq0LmW2vB7nQ4\" // TODO: rotate "+fakeAWSKey,
	)
	res := analyzeOne(t, "a.go", code, TypePatterns)
	todo := only(res, "todo-comment")
	if len(todo) != 1 {
		t.Fatalf("want one TODO:%s", dump(res.Findings))
	}
	for _, s := range []string{"Zx81kPq0LmW2vB7nQ4", fakeAWSKey} {
		if strings.Contains(todo[0].Snippet, s) || strings.Contains(todo[0].Message, s) {
			t.Errorf("finding shows %q: %+v", s, todo[0])
		}
	}
}

func TestNameWords(t *testing.T) {
	cases := map[string][]string{
		"APIKey":         {"api", "key"},
		"dbPassword":     {"db", "password"},
		"client_secret":  {"client", "secret"},
		"AWS_SECRET_KEY": {"aws", "secret", "key"},
		"x-auth-token":   {"x", "auth", "token"},
		"tokenURL":       {"token", "url"},
		"":               nil,
	}
	for in, want := range cases {
		if diff := cmp.Diff(want, nameWords(in)); diff != "" {
			t.Errorf("nameWords(%q) (-want +got):\n%s", in, diff)
		}
	}
}

func TestSensitiveNameAndValue(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "dbPassword": true, "API_KEY": true, "secretKey": true,
		"accessToken": true, "monkey": false, "keyName": false, "passwordField": false,
		"tokenURL": false, "sortKey": false, "tokenizer": false,
	} {
		if got := sensitiveName(name); got != want {
			t.Errorf("sensitiveName(%q) = %v, want %v", name, got, want)
		}
	}
	for value, want := range map[string]bool{
		"s3cR3t-Pa55w0rd-9x7q": true, "changeme": false, "password": false,
		"API_TOKEN": false, "https://example.org/x": false, "short": false,
		"has spaces in it 123": false, "abcdefgh": false, "${TOKEN}": false,
	} {
		if got := looksSecret(value); got != want {
			t.Errorf("looksSecret(%q) = %v, want %v", value, got, want)
		}
	}
}

func TestMask(t *testing.T) {
	if got := mask("Zx81kPq0LmW2vB7nQ4"); got != "Zx81********" {
		t.Errorf("mask = %q", got)
	}
	if got := mask("s3cr3tXY"); got != "s3********" {
		t.Errorf("mask short = %q", got)
	}
	if got := mask("é"); got != "********" {
		t.Errorf("mask tiny = %q", got)
	}
}
