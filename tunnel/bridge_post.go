package tunnel

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
)

// post takes a POST of the client's: a message or a batch, sent to the
// session's child a line each. Answers come on the POST's own response:
// an event stream, or one JSON body for a client that takes no stream.
// A POST without requests is accepted at once (202).
func (b *Bridge) post(w http.ResponseWriter, r *http.Request) {
	// JSON only: a web page cannot send that without the browser asking
	// first (CORS), which nothing here answers.
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		writeRPCError(w, http.StatusUnsupportedMediaType, nil, -32700, "Content-Type must be application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(b.opts.MaxBodySize)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeRPCError(w, http.StatusRequestEntityTooLarge, nil, -32600, "request body larger than "+strconv.Itoa(b.opts.MaxBodySize)+" bytes")
			return
		}
		writeRPCError(w, http.StatusBadRequest, nil, -32700, "reading the request body: "+err.Error())
		return
	}
	msgs, raws, batch, err := splitBody(body)
	if err != nil {
		writeRPCError(w, http.StatusBadRequest, nil, -32700, err.Error())
		return
	}
	requests := 0
	var initID []byte
	for i := range msgs {
		switch msgs[i].kind() {
		case kindRequest:
			if !plainID(msgs[i].ID) {
				// A server may answer 2.0 as 2, or not at all: the
				// answer could not find its way back.
				writeRPCError(w, http.StatusBadRequest, nil, -32600, "a request id must be a string or an integer, not "+string(msgs[i].ID))
				return
			}
			requests++
			if msgs[i].Method == "initialize" {
				initID = msgs[i].ID
			}
		case kindOther:
			writeRPCError(w, http.StatusBadRequest, nil, -32600, "not a JSON-RPC request, notification or response")
			return
		}
	}

	var s *bridgeSession
	if r.Header.Get(headerSession) == "" {
		if initID == nil || len(msgs) != 1 {
			// A client of the stateless protocol (server/discover and
			// the like) learns from the error, with its request's id,
			// to begin a session with initialize.
			var id []byte
			if len(msgs) == 1 && msgs[0].kind() == kindRequest {
				id = msgs[0].ID
			}
			writeRPCError(w, http.StatusBadRequest, id, -32600, "missing "+headerSession+" header: a session begins with an initialize request, alone in its POST")
			return
		}
		s, err = b.newSession()
		switch {
		case errors.Is(err, errTooManySessions):
			writeRPCError(w, http.StatusServiceUnavailable, initID, -32000,
				"too many sessions: "+strconv.Itoa(b.opts.MaxSessions)+" are open (--max-sessions); end one, or wait for an idle one to close")
			return
		case err != nil:
			writeRPCError(w, http.StatusBadGateway, initID, codeUpstreamExit, "starting the MCP server failed: "+err.Error())
			return
		}
		w.Header().Set(headerSession, s.id)
	} else if s = b.sessionOf(w, r); s == nil {
		return
	}
	s.touch()
	for i := range msgs {
		if msgs[i].kind() == kindNotification && msgs[i].Method == methodCancelled && len(msgs[i].cancelID) > 0 {
			s.cancelled(msgs[i].cancelID)
		}
	}
	if requests == 0 {
		if err := s.send(r.Context(), raws); err != nil {
			writeRPCError(w, http.StatusNotFound, nil, -32001, "session not found: it ended; initialize again")
			return
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	// An event stream unless the client takes JSON alone.
	st := newBridgeStream(w, accepts(r, "text/event-stream") || !accepts(r, "application/json"))
	st.batch = batch
	defer s.release(st)
	if err := s.send(r.Context(), s.open(st, msgs, raws)); err != nil {
		// The session ended under the request: nothing of it reached
		// the server.
		st.finish()
		writeRPCError(w, http.StatusNotFound, nil, -32001, "session not found: it ended; initialize again")
		return
	}
	st.start()
	select {
	case <-st.done: // all answered
	case <-r.Context().Done(): // the client went; answers left go to its GET stream
	case <-s.done: // the session is over: the tunnel has answered what the child left
	}
}

// plainID reports whether a raw id is a JSON string or an integer, as MCP
// asks: those come back from a server as they went.
func plainID(id []byte) bool {
	if len(id) == 0 {
		return false
	}
	if id[0] == '"' {
		return true // decode checked the string
	}
	digits := id
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// splitBody reads a POST body: a message, or a batch of them, with each
// message's own bytes.
func splitBody(body []byte) (msgs []message, raws [][]byte, batch bool, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, nil, false, errors.New("empty request body")
	}
	if body[0] != '[' {
		if msgs, err = decode(body, nil); err != nil || len(msgs) != 1 {
			return nil, nil, false, errors.New("the body is not a JSON-RPC message")
		}
		return msgs, [][]byte{body}, false, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil || len(elems) == 0 {
		return nil, nil, true, errors.New("the body is not a JSON-RPC batch")
	}
	for _, e := range elems {
		m, err := decode(e, nil)
		if err != nil || len(m) != 1 {
			return nil, nil, true, errors.New("an element of the batch is not a JSON-RPC message")
		}
		msgs = append(msgs, m[0])
		raws = append(raws, bytes.TrimSpace(e))
	}
	return msgs, raws, true, nil
}
