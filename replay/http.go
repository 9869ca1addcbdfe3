package replay

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpguard"
)

// maxBody bounds a request body, as the proxy's default does.
const maxBody = 16 << 20

// HTTPHandler serves the recording over Streamable HTTP: each POST's
// message is answered in a JSON body (a batch with a batch); a
// notification or a response of the client's gets 202. initialize starts
// a session, named in Mcp-Session-Id. There is no stream of the server's
// own: GET is refused with 405, which clients take as "no stream".
// Host and Origin are checked as serve checks them, loopback names only.
func (s *Server) HTTPHandler() (http.Handler, error) {
	guard, err := httpguard.New(httpguard.Options{})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mcp", s.serveHTTP)
	return guard.Handler(mux), nil
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
	case http.MethodDelete:
		w.WriteHeader(http.StatusOK) // the session ends; there is nothing of it to keep
		return
	default:
		w.Header().Set("Allow", "POST, DELETE")
		http.Error(w, "a replay has no stream of its own: POST requests", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		status := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(errorResponse([]byte("null"), codeParse, "reading the request body: "+err.Error()))
		return
	}
	body = bytes.TrimSpace(body)
	var answer []byte
	initialize := false
	if len(body) > 0 && body[0] == '[' {
		answer = s.answerBatch(body)
	} else {
		answer = s.Answer(body)
		initialize = isInitialize(body)
	}
	if answer == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if initialize {
		w.Header().Set("Mcp-Session-Id", newSessionID())
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(answer)
}

func isInitialize(body []byte) bool {
	var m struct {
		Method string `json:"method"`
	}
	return json.Unmarshal(body, &m) == nil && m.Method == "initialize"
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
