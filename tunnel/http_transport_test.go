package tunnel

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The default Transport speaks HTTP/2 to an https server that offers it,
// asks for no compression, and keeps as many idle connections to the one
// server as a busy client needs.
func TestDefaultTransport(t *testing.T) {
	var proto, acceptEncoding string
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto, acceptEncoding = r.Proto, r.Header.Get("Accept-Encoding")
		io.WriteString(w, "ok")
	}))
	up.EnableHTTP2 = true
	up.StartTLS()
	defer up.Close()

	tr := newTransport(false)
	defer tr.CloseIdleConnections()
	roots := x509.NewCertPool()
	roots.AddCert(up.Certificate())
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.RootCAs = roots
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, up.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if proto != "HTTP/2.0" {
		t.Errorf("the server was reached over %s, want HTTP/2.0", proto)
	}
	if acceptEncoding != "" {
		t.Errorf("the Transport asked for %q: it must not change the bodies", acceptEncoding)
	}
	if tr.MaxIdleConnsPerHost < 64 {
		t.Errorf("MaxIdleConnsPerHost = %d: too few for one busy upstream", tr.MaxIdleConnsPerHost)
	}
}
