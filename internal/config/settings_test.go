package config

import (
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// mapEnv is a lookupEnv over a fixed map, so tests never see the real
// environment.
func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// resolve runs the flag, environment and file layers the way a command does.
func resolve(t *testing.T, args []string, env map[string]string) (Settings, error) {
	t.Helper()
	s := Defaults()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["HOME"]; !ok {
		env["HOME"] = "/home/test"
	}
	err := s.Resolve(fs, mapEnv(env))
	return s, err
}

func TestPrecedence(t *testing.T) {
	file := writeConfig(t, "addr: 127.0.0.3:8080\ninterval: 3s\ndata_dir: /from/file\n")
	tests := []struct {
		name                      string
		flag, env                 bool
		useFile                   bool
		wantAddr, wantDir         string
		wantInterval              time.Duration
		configFromEnvInsteadOfArg bool
	}{
		{name: "default", wantAddr: DefaultAddr, wantInterval: DefaultInterval,
			wantDir: "/home/test/.local/share/pbatunnel"},
		{name: "file over default", useFile: true,
			wantAddr: "127.0.0.3:8080", wantInterval: 3 * time.Second, wantDir: "/from/file"},
		{name: "env over file", useFile: true, env: true,
			wantAddr: "127.0.0.2:8080", wantInterval: 2 * time.Second, wantDir: "/from/env"},
		{name: "env over default", env: true,
			wantAddr: "127.0.0.2:8080", wantInterval: 2 * time.Second, wantDir: "/from/env"},
		{name: "flag over env and file", useFile: true, env: true, flag: true,
			wantAddr: "127.0.0.1:9999", wantInterval: time.Second, wantDir: "/from/flag"},
		{name: "flag over file", useFile: true, flag: true,
			wantAddr: "127.0.0.1:9999", wantInterval: time.Second, wantDir: "/from/flag"},
		{name: "config path from env", useFile: true, configFromEnvInsteadOfArg: true,
			wantAddr: "127.0.0.3:8080", wantInterval: 3 * time.Second, wantDir: "/from/file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args []string
			env := map[string]string{}
			if tt.flag {
				args = append(args, "--addr", "127.0.0.1:9999", "--interval", "1s", "--data-dir", "/from/flag")
			}
			if tt.env {
				env["PBATUNNEL_ADDR"] = "127.0.0.2:8080"
				env["PBATUNNEL_INTERVAL"] = "2s"
				env["PBATUNNEL_DATA_DIR"] = "/from/env"
			}
			if tt.useFile {
				if tt.configFromEnvInsteadOfArg {
					env["PBATUNNEL_CONFIG"] = file
				} else {
					args = append(args, "--config", file)
				}
			}
			s, err := resolve(t, args, env)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if s.Addr != tt.wantAddr || s.Interval != tt.wantInterval || s.DataDir != tt.wantDir {
				t.Errorf("got addr=%s interval=%s data-dir=%s, want %s %s %s",
					s.Addr, s.Interval, s.DataDir, tt.wantAddr, tt.wantInterval, tt.wantDir)
			}
		})
	}
}

// TestPrecedencePerSetting checks that layers are merged setting by setting,
// not as a whole: a flag for one setting does not hide the file's value for
// another.
func TestPrecedencePerSetting(t *testing.T) {
	file := writeConfig(t, `
addr: 127.0.0.3:8080
interval: 3s
retention:
  max_samples: 10
  max_age: 1h
recent_window: 2m
trend_window: 20m
allowed_hosts: [file.example.com]
session_timeout: 5m
max_sessions: 50
capture_payloads: true
capture_max_bytes: 1000
redact_keys: [ssn]
call_ring: 500
`)
	s, err := resolve(t, []string{"--config", file, "--addr", "127.0.0.1:9999", "--max-sessions", "7", "--capture-max-bytes", "500"},
		map[string]string{"PBATUNNEL_LOG_FORMAT": "json", "PBATUNNEL_LOG_LEVEL": "debug", "PBATUNNEL_ALLOWED_HOST": "a.example.com, b.example.com:8443",
			"PBATUNNEL_REDACT_KEY": "pin, ssn"})
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		Addr:         "127.0.0.1:9999",
		Interval:     3 * time.Second,
		DataDir:      "/home/test/.local/share/pbatunnel",
		ConfigFile:   file,
		LogFormat:    LogJSON,
		LogLevel:     slog.LevelDebug,
		MaxSamples:   10,
		MaxAge:       time.Hour,
		RecentWindow: 2 * time.Minute,
		TrendWindow:  20 * time.Minute,
		PollInterval: DefaultPollInterval,
		// The environment's list replaces the file's; the file's timeout
		// stands; the flag's cap wins.
		AllowedHosts:   []string{"a.example.com", "b.example.com:8443"},
		SessionTimeout: 5 * time.Minute,
		MaxSessions:    7,
		// Capture from the file, its bound from the flag, the keys from
		// the environment.
		CapturePayloads: true,
		CaptureMaxBytes: 500,
		RedactKeys:      []string{"pin", "ssn"},
		CallRing:        500,
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("Resolve mismatch (-want +got):\n%s", diff)
	}
}

func TestResolveErrors(t *testing.T) {
	badFile := writeConfig(t, "adr: 127.0.0.1:8080\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{name: "env interval not a duration", env: map[string]string{"PBATUNNEL_INTERVAL": "banana"},
			want: []string{"PBATUNNEL_INTERVAL", `"banana"`}},
		{name: "env interval too short", env: map[string]string{"PBATUNNEL_INTERVAL": "10ms"},
			want: []string{"PBATUNNEL_INTERVAL", "at least 100ms"}},
		{name: "env addr", env: map[string]string{"PBATUNNEL_ADDR": "nowhere"},
			want: []string{"PBATUNNEL_ADDR", "host:port"}},
		{name: "env log format", env: map[string]string{"PBATUNNEL_LOG_FORMAT": "xml"},
			want: []string{"PBATUNNEL_LOG_FORMAT", `"xml"`}},
		{name: "env log level", env: map[string]string{"PBATUNNEL_LOG_LEVEL": "loud"},
			want: []string{"PBATUNNEL_LOG_LEVEL"}},
		{name: "every bad variable named",
			env:  map[string]string{"PBATUNNEL_LOG_LEVEL": "loud", "PBATUNNEL_INTERVAL": "x"},
			want: []string{"PBATUNNEL_LOG_LEVEL", "PBATUNNEL_INTERVAL"}},
		{name: "config file unknown key", args: []string{"--config", badFile},
			want: []string{"loading config", badFile + ":1: adr: unknown key"}},
		{name: "config file missing", env: map[string]string{"PBATUNNEL_CONFIG": "/nonexistent/pbatunnel.yaml"},
			want: []string{"loading config", "/nonexistent/pbatunnel.yaml"}},
		{name: "env store not PostgreSQL", env: map[string]string{"PBATUNNEL_STORE": "/var/lib/memory.db"},
			want: []string{"PBATUNNEL_STORE", "postgres://"}},
		{name: "store without a host", args: []string{"--store", "postgres:///db"},
			want: []string{"no host"}},
		{name: "store that does not parse", args: []string{"--store", "postgres://app:s3c#ret@db/x"},
			want: []string{"--store", "not a URL that parses", "percent-encode"}},
		{name: "config file store", args: []string{"--config", writeConfig(t, "store: mysql://db\n")},
			want: []string{"store", "postgres://"}},
		{name: "no home for the data dir", env: map[string]string{"HOME": ""},
			want: []string{"no data directory", "PBATUNNEL_DATA_DIR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolve(t, tt.args, tt.env)
			if err == nil {
				t.Fatal("Resolve succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// A bad environment variable for a setting given as a flag is never read,
// so it cannot fail the command.
func TestFlagShadowsBadEnv(t *testing.T) {
	s, err := resolve(t, []string{"--interval", "5s"}, map[string]string{"PBATUNNEL_INTERVAL": "banana"})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if s.Interval != 5*time.Second {
		t.Errorf("Interval = %s, want 5s", s.Interval)
	}
}

func TestFlagValidation(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--interval", "99ms"}, "at least 100ms"},
		{[]string{"--interval", "soon"}, `invalid duration "soon"`},
		{[]string{"--addr", "127.0.0.1"}, "host:port"},
		{[]string{"--addr", "127.0.0.1:70000"}, "0 to 65535"},
		{[]string{"--log-format", "yaml"}, `"yaml"`},
		{[]string{"--log-level", "chatty"}, "log-level"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := resolve(t, tt.args, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDefaultDataDir(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"xdg", map[string]string{"XDG_DATA_HOME": "/xdg", "HOME": "/home/u"}, "/xdg/pbatunnel"},
		{"relative xdg is ignored", map[string]string{"XDG_DATA_HOME": "rel", "HOME": "/home/u"},
			"/home/u/.local/share/pbatunnel"},
		{"home", map[string]string{"HOME": "/home/u"}, "/home/u/.local/share/pbatunnel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := resolve(t, nil, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if s.DataDir != tt.want {
				t.Errorf("DataDir = %q, want %q", s.DataDir, tt.want)
			}
		})
	}
}

func TestRelativeDataDirFlagIsMadeAbsolute(t *testing.T) {
	s, err := resolve(t, []string{"--data-dir", "state"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(s.DataDir) || filepath.Base(s.DataDir) != "state" {
		t.Errorf("DataDir = %q, want an absolute path ending in state", s.DataDir)
	}
}

func TestEnvVar(t *testing.T) {
	for flagName, want := range map[string]string{
		"addr":       "PBATUNNEL_ADDR",
		"data-dir":   "PBATUNNEL_DATA_DIR",
		"log-format": "PBATUNNEL_LOG_FORMAT",
	} {
		if got := EnvVar(flagName); got != want {
			t.Errorf("EnvVar(%q) = %q, want %q", flagName, got, want)
		}
	}
}

func TestHardeningSettingsRefuseBadValues(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"--allowed-host", "http://x/"}, want: "not a URL"},
		{env: map[string]string{"PBATUNNEL_ALLOWED_HOST": "ok.example.com,bad/host"}, want: "PBATUNNEL_ALLOWED_HOST"},
		{args: []string{"--session-timeout", "0s"}, want: "positive"},
		{args: []string{"--max-sessions", "0"}, want: "at least 1"},
		{args: []string{"--auth-token", "   "}, want: "visible ASCII"},
		{env: map[string]string{"PBATUNNEL_AUTH_TOKEN": "two words"}, want: "visible ASCII"},
	} {
		_, err := resolve(t, tt.args, tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: err = %v, want %q", tt.args, tt.env, err, tt.want)
		}
	}
	for _, cfg := range []string{"allowed_hosts: [\"http://x/\"]\n", "session_timeout: 0s\n", "max_sessions: 0\n"} {
		if _, err := resolve(t, []string{"--config", writeConfig(t, cfg)}, nil); err == nil {
			t.Errorf("config %q accepted", cfg)
		}
	}
}

// The call ring's size comes from --call-ring, PBATUNNEL_CALL_RING or
// call_ring, in that order, and shows in /api/config; a size below 1 or
// above MaxCallRing is refused, naming where it came from.
func TestCallRingSetting(t *testing.T) {
	file := writeConfig(t, "call_ring: 300\n")
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{name: "default", want: monitor.DefaultCallRing},
		{name: "flag", args: []string{"--call-ring", "50"}, want: 50},
		{name: "environment", env: map[string]string{"PBATUNNEL_CALL_RING": "70"}, want: 70},
		{name: "file", args: []string{"--config", file}, want: 300},
		{name: "environment over file", args: []string{"--config", file}, env: map[string]string{"PBATUNNEL_CALL_RING": "70"}, want: 70},
		{name: "flag over environment and file", args: []string{"--config", file, "--call-ring", "50"},
			env: map[string]string{"PBATUNNEL_CALL_RING": "70"}, want: 50},
		{name: "smallest", args: []string{"--call-ring", "1"}, want: 1},
		{name: "largest", args: []string{"--call-ring", strconv.Itoa(MaxCallRing)}, want: MaxCallRing},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := resolve(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if s.CallRing != tt.want {
				t.Errorf("CallRing = %d, want %d", s.CallRing, tt.want)
			}
			if got := s.Public()["call_ring"]; got != tt.want {
				t.Errorf("Public call_ring = %v, want %d", got, tt.want)
			}
		})
	}

	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{name: "flag zero", args: []string{"--call-ring", "0"},
			want: []string{`invalid value "0" for flag -call-ring: must be at least 1 call, got 0`}},
		{name: "flag negative", args: []string{"--call-ring", "-5"},
			want: []string{`-call-ring: must be at least 1 call, got -5`}},
		{name: "flag too large", args: []string{"--call-ring", "10000000"},
			want: []string{"-call-ring: must be at most 1000000 calls, got 10000000", "250 bytes"}},
		{name: "flag not a number", args: []string{"--call-ring", "lots"},
			want: []string{`want a whole number of calls, got "lots"`}},
		{name: "environment zero", env: map[string]string{"PBATUNNEL_CALL_RING": "0"},
			want: []string{`environment variable PBATUNNEL_CALL_RING: invalid value "0": must be at least 1 call, got 0`}},
		{name: "environment too large", env: map[string]string{"PBATUNNEL_CALL_RING": "1000001"},
			want: []string{"PBATUNNEL_CALL_RING", "must be at most 1000000 calls, got 1000001"}},
		{name: "file zero", args: []string{"--config", writeConfig(t, "call_ring: 0\n")},
			want: []string{":1: call_ring: must be at least 1 call, got 0"}},
		{name: "file negative", args: []string{"--config", writeConfig(t, "interval: 1s\ncall_ring: -1\n")},
			want: []string{":2: call_ring: must be at least 1 call, got -1"}},
		{name: "file too large", args: []string{"--config", writeConfig(t, "call_ring: 5000000\n")},
			want: []string{":1: call_ring: must be at most 1000000 calls, got 5000000"}},
		{name: "file not a number", args: []string{"--config", writeConfig(t, "call_ring: lots\n")},
			want: []string{":1: call_ring: cannot unmarshal !!str `lots` into int"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolve(t, tt.args, tt.env)
			if err == nil {
				t.Fatal("Resolve succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// --store is taken from the flag, the environment or the file, in that
// order, and /api/config never shows its password.
func TestStoreSetting(t *testing.T) {
	file := writeConfig(t, "store: postgres://file@db.example:5432/pbatunnel\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "default", want: ""},
		{name: "file", args: []string{"--config", file}, want: "postgres://file@db.example:5432/pbatunnel"},
		{name: "env over file", args: []string{"--config", file},
			env: map[string]string{"PBATUNNEL_STORE": "postgresql://env@db/x"}, want: "postgresql://env@db/x"},
		{name: "flag over env", args: []string{"--store", "postgres://flag@db/x"},
			env: map[string]string{"PBATUNNEL_STORE": "postgresql://env@db/x"}, want: "postgres://flag@db/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := resolve(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if s.Store != tt.want {
				t.Errorf("Store = %q, want %q", s.Store, tt.want)
			}
		})
	}
	s, err := resolve(t, []string{"--store", "postgres://app:s3cret@db:5432/x?sslmode=require&password=other&sslpassword=keypass"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Public()["store"].(string)
	if strings.Contains(got, "s3cret") || strings.Contains(got, "other") || strings.Contains(got, "keypass") ||
		!strings.Contains(got, "app:xxxxx@db:5432") {
		t.Errorf("Public store = %q: the password shows, or the rest is lost", got)
	}
}

// A bad --store is refused without its password in the message, whether
// the flag, the environment or the file gave it: the flag package's own
// message would quote the whole URL.
func TestStoreErrorsHidePassword(t *testing.T) {
	for _, url := range []string{"postgres://app:s3cret@/x", "postgres://app:s3c#ret@db/x", "mysql://app:s3cret@db/x"} {
		tests := []struct {
			name string
			args []string
			env  map[string]string
			want string
		}{
			{name: "flag", args: []string{"--store", url}, want: "--store"},
			{name: "env", env: map[string]string{"PBATUNNEL_STORE": url}, want: "PBATUNNEL_STORE"},
			{name: "file", args: []string{"--config", writeConfig(t, "store: '"+url+"'\n")}, want: "store"},
		}
		for _, tt := range tests {
			t.Run(tt.name+" "+url, func(t *testing.T) {
				s := Defaults()
				fs := flag.NewFlagSet("test", flag.ContinueOnError)
				var out strings.Builder
				fs.SetOutput(&out)
				s.RegisterFlags(fs)
				err := fs.Parse(tt.args)
				if err == nil {
					err = s.Resolve(fs, mapEnv(tt.env))
				}
				if err == nil {
					t.Fatal("accepted")
				}
				msg := err.Error() + out.String()
				if strings.Contains(msg, "s3c") || !strings.Contains(msg, tt.want) {
					t.Errorf("message %q: shows the password, or does not say %q", msg, tt.want)
				}
			})
		}
	}
}
