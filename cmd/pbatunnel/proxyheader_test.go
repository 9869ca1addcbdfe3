package main

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUpstreamHeaderFlag(t *testing.T) {
	env := map[string]string{"UP_TOKEN": "up-secret", "TENANT": "t1", "EMPTY": ""}
	lookupEnv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tt := range []struct {
		name   string
		values []string // one Set each
		want   http.Header
		names  string
		err    string
	}{
		{name: "plain", values: []string{"X-Tenant: t1"}, want: http.Header{"X-Tenant": {"t1"}}, names: "X-Tenant"},
		{name: "variable", values: []string{"authorization:Bearer ${UP_TOKEN}"},
			want: http.Header{"Authorization": {"Bearer up-secret"}}, names: "Authorization"},
		{name: "variables and a bare dollar", values: []string{"X-Key: $a-${TENANT}-${UP_TOKEN}$"},
			want: http.Header{"X-Key": {"$a-t1-up-secret$"}}, names: "X-Key"},
		{name: "repeated", values: []string{"X-Tenant: t1", "X-Tenant: t2", "X-Other: o"},
			want: http.Header{"X-Tenant": {"t1", "t2"}, "X-Other": {"o"}}, names: "X-Other, X-Tenant"},
		{name: "one a line, as in the variable", values: []string{"Authorization: Bearer ${UP_TOKEN}\r\n\nX-Tenant: ${TENANT}\n"},
			want: http.Header{"Authorization": {"Bearer up-secret"}, "X-Tenant": {"t1"}}, names: "Authorization, X-Tenant"},
		{name: "empty value", values: []string{"X-Empty:"}, want: http.Header{"X-Empty": {""}}, names: "X-Empty"},
		{name: "empty variable", values: []string{"X-Tenant: ${EMPTY}"}, err: "the value of header X-Tenant: environment variable EMPTY is not set"},
		{name: "not a variable name", values: []string{"X-Tenant: ${1X}"}, err: "the value of header X-Tenant: ${1X}: want the name of an environment variable"},
		{name: "refused before its value is read", values: []string{"Te: ${MISSING}"}, err: "header Te cannot be set for the upstream: hop-by-hop"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &upstreamHeaderFlag{lookupEnv: lookupEnv}
			var err error
			for _, v := range tt.values {
				if err = f.Set(v); err != nil {
					break
				}
			}
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Set = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.h); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if got := f.String(); got != tt.names {
				t.Errorf("String() = %q, want the names %q", got, tt.names)
			}
		})
	}
}
