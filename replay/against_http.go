package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/sse"
)

// AgainstURL is Against for a server at a Streamable HTTP endpoint: each
// recorded request is POSTed in order, in the session the recorded
// initialize opens, with header on every request (such as its
// Authorization). The session is deleted at the end.
func AgainstURL(ctx context.Context, rec *Recording, endpoint string, header http.Header, timeout time.Duration) ([]Difference, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c := &httpPeer{url: endpoint, header: header, client: &http.Client{}}
	defer c.end()
	return check(ctx, rec, c, timeout)
}

// httpPeer is the client side of one Streamable HTTP session.
type httpPeer struct {
	url      string
	header   http.Header
	client   *http.Client
	session  string
	protocol string
}

func (c *httpPeer) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if c.session != "" {
		req.Header.Set("Mcp-Session-Id", c.session)
	}
	if c.protocol != "" {
		req.Header.Set("Mcp-Protocol-Version", c.protocol)
	}
	return c.client.Do(req)
}

// call POSTs a request and returns its answer, {"result": …} or
// {"error": …}, from a JSON body or the event stream.
func (c *httpPeer) call(ctx context.Context, body []byte, id string) (json.RawMessage, error) {
	res, err := c.post(ctx, body)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if s := res.Header.Get("Mcp-Session-Id"); s != "" {
		c.session = s
	}
	kind, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	var found json.RawMessage
	take := func(data []byte) {
		for _, raw := range messages(data) {
			if a, ok := answerOf(raw, id); ok && found == nil {
				found = a
			}
		}
	}
	switch {
	case kind == "text/event-stream":
		sc := &sse.Scanner{Max: maxRecordLine, OnEvent: take}
		buf := make([]byte, 32<<10)
		for found == nil {
			n, err := res.Body.Read(buf)
			sc.Scan(buf[:n])
			if err != nil {
				break
			}
		}
	case kind == "application/json":
		b, err := io.ReadAll(io.LimitReader(res.Body, maxRecordLine))
		if err != nil {
			return nil, err
		}
		take(b)
	}
	if found == nil {
		return nil, fmt.Errorf("HTTP %d with no answer to the request", res.StatusCode)
	}
	return found, nil
}

// initialized takes the protocol version the answer agreed for the
// session's later requests, and sends the notification.
func (c *httpPeer) initialized(ctx context.Context, answer json.RawMessage) error {
	if v := protocolOf(answer); v != "" {
		c.protocol = v
	}
	res, err := c.post(ctx, []byte(initializedLine))
	if err != nil {
		return nil // the server may not need it; its later answers tell
	}
	return res.Body.Close()
}

// end deletes the session, if one was opened.
func (c *httpPeer) end() {
	if c.session == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.url, nil)
	if err != nil {
		return
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	req.Header.Set("Mcp-Session-Id", c.session)
	if res, err := c.client.Do(req); err == nil {
		res.Body.Close()
	}
}

// answerOf is the answer in raw when it responds to id.
func answerOf(raw []byte, id string) (json.RawMessage, bool) {
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &m) != nil || m.Method != "" || string(m.ID) != id {
		return nil, false
	}
	answer := map[string]json.RawMessage{"result": m.Result}
	if m.Error != nil {
		answer = map[string]json.RawMessage{"error": m.Error}
	}
	b, _ := json.Marshal(answer)
	return b, true
}

// protocolOf is the protocol version an initialize answer agreed.
func protocolOf(answer json.RawMessage) string {
	var a struct {
		Result struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	_ = json.Unmarshal(answer, &a)
	return a.Result.ProtocolVersion
}
