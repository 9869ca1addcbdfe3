package tunnel

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
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

	tr := newTransport()
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

// flushCounter is a ResponseWriter that counts its flushes and what was
// written before each.
type flushCounter struct {
	httptest.ResponseRecorder
	mu      sync.Mutex
	flushes []int // bytes written at each flush
	written int
}

func (f *flushCounter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.written += len(p)
	return len(p), nil
}

func (f *flushCounter) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushes = append(f.flushes, f.written)
}

func (f *flushCounter) got() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.flushes)
}

// The headers of a response wait a moment for its body, so that both go
// out in one write; alone, they go out after the moment; a flush after
// some of the body goes out at once; after stop, nothing more.
func TestFlushWriterJoinsHeadersWithBody(t *testing.T) {
	w := &flushCounter{}
	fw := newFlushWriter(w)
	fw.WriteHeader(http.StatusOK)
	if err := fw.FlushError(); err != nil {
		t.Fatal(err)
	}
	if got := w.got(); len(got) != 0 {
		t.Fatalf("flushes %v right after the headers, want none yet", got)
	}
	fw.Write([]byte("data: {}\n\n"))
	fw.FlushError()
	if got := w.got(); !slices.Equal(got, []int{10}) {
		t.Fatalf("flushes %v, want one, with the event", got)
	}
	time.Sleep(5 * headerFlushDelay)
	fw.stop()
	if got := w.got(); !slices.Equal(got, []int{10}) {
		t.Errorf("flushes %v, want no second one for the headers", got)
	}

	// A silent stream: the headers go out by themselves.
	w = &flushCounter{}
	fw = newFlushWriter(w)
	fw.FlushError()
	deadline := time.Now().Add(10 * time.Second)
	for len(w.got()) == 0 && time.Now().Before(deadline) {
		time.Sleep(headerFlushDelay)
	}
	fw.stop()
	if got := w.got(); !slices.Equal(got, []int{0}) {
		t.Errorf("flushes %v for a silent stream, want the headers' alone", got)
	}

	// Stopped before the moment: no flush once the handler has returned.
	w = &flushCounter{}
	fw = newFlushWriter(w)
	fw.FlushError()
	fw.stop()
	time.Sleep(5 * headerFlushDelay)
	if got := w.got(); len(got) != 0 {
		t.Errorf("flushes %v after stop", got)
	}
}
