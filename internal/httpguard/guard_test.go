package httpguard_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpguard"
)

func TestGuard(t *testing.T) {
	tests := []struct {
		name    string
		allowed []string
		host    string
		origin  string
		want    int
		wantMsg string
	}{
		{name: "loopback v4", host: "127.0.0.1:8080", want: 200},
		{name: "loopback v4 other address", host: "127.0.0.2", want: 200},
		{name: "localhost", host: "localhost:8080", want: 200},
		{name: "localhost upper case", host: "LOCALHOST:1", want: 200},
		{name: "name under localhost", host: "app.localhost:8080", want: 200},
		{name: "loopback v6", host: "[::1]:8080", want: 200},
		{name: "rebinding name", host: "rebind.evil.com", want: 403, wantMsg: "--allowed-host rebind.evil.com"},
		{name: "rebinding name with port", host: "rebind.evil.com:8080", want: 403, wantMsg: "--allowed-host rebind.evil.com"},
		{name: "name that contains localhost", host: "localhost.evil.com", want: 403},
		{name: "lan address not named", host: "192.168.1.5:8080", want: 403},
		{name: "empty host", host: "", want: 403},
		{name: "allowed name", allowed: []string{"dash.example.com"}, host: "dash.example.com:443", want: 200},
		{name: "allowed name any case", allowed: []string{"Dash.Example.com"}, host: "DASH.example.COM", want: 200},
		{name: "allowed name with port", allowed: []string{"dash.example.com:8443"}, host: "dash.example.com:8443", want: 200},
		{name: "allowed name other port", allowed: []string{"dash.example.com:8443"}, host: "dash.example.com:9000", want: 403},
		{name: "allowed default port, port left out", allowed: []string{"dash.example.com:443"}, host: "dash.example.com", want: 200},
		{name: "allowed default port, origin", allowed: []string{"dash.example.com:443"}, host: "127.0.0.1", origin: "https://dash.example.com", want: 200},
		{name: "allowed address", allowed: []string{"192.168.1.5"}, host: "192.168.1.5:8080", want: 200},
		{name: "allowed v6", allowed: []string{"[fd00::5]"}, host: "[fd00::5]:8080", want: 200},
		{name: "star allows all", allowed: []string{"*"}, host: "anything.example", want: 200},
		{name: "loopback origin", host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080", want: 200},
		{name: "localhost origin", host: "127.0.0.1:8080", origin: "http://localhost:3000", want: 200},
		{name: "foreign origin", host: "127.0.0.1:8080", origin: "http://evil.com", want: 403, wantMsg: "origin"},
		{name: "null origin", host: "127.0.0.1:8080", origin: "null", want: 403},
		{name: "file origin", host: "127.0.0.1:8080", origin: "file://", want: 403},
		{name: "allowed origin", allowed: []string{"dash.example.com"}, host: "127.0.0.1:8080", origin: "https://dash.example.com", want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := httpguard.New(httpguard.Options{AllowedHosts: tt.allowed})
			if err != nil {
				t.Fatal(err)
			}
			h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			r := httptest.NewRequest(http.MethodGet, "http://x/api/config", nil)
			r.Host = tt.host
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.want, w.Body)
			}
			if tt.want != 403 {
				return
			}
			var body struct{ Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("403 body is not JSON: %q", w.Body)
			}
			if !strings.Contains(body.Error, tt.wantMsg) {
				t.Errorf("error %q does not contain %q", body.Error, tt.wantMsg)
			}
		})
	}
}

func TestNewRejectsBadHosts(t *testing.T) {
	for _, h := range []string{"", "http://example.com", "example.com/path", "example.com:port", "user@example.com", "."} {
		if _, err := httpguard.New(httpguard.Options{AllowedHosts: []string{h}}); err == nil {
			t.Errorf("New accepted allowed host %q", h)
		}
	}
	for _, h := range []string{"example.com", "example.com:8443", "192.168.1.5", "[::1]:80", "fd00::5", "*"} {
		if _, err := httpguard.New(httpguard.Options{AllowedHosts: []string{h}}); err != nil {
			t.Errorf("New refused allowed host %q: %v", h, err)
		}
	}
}
