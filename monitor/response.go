package monitor

import (
	"math"
	"sync/atomic"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// TokenBounds are the upper bounds of the response-token histogram that
// exporters write (mcp_tool_response_tokens): from a one-line answer to a
// result that fills a large share of a model's context.
var TokenBounds = [...]float64{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000}

// responseStats are what a tool's responses cost: their size on the wire
// and in model tokens. Lock-free; the token counts arrive after the call,
// from whoever counts them (RecordResponse).
type responseStats struct {
	bytesSum, bytesN   atomic.Int64
	tokensSum, tokensN atomic.Int64
	tokens             histogram // log-linear, for percentiles
	// tokenExp counts at TokenBounds for exporters (the bucket after the
	// last bound is +Inf), read with its sum of one moment.
	tokenExp boundHist
}

// TokenBounds and their +Inf bucket fit in a boundHist.
var _ [boundBuckets - len(TokenBounds) - 1]struct{}

func (r *responseStats) addBytes(n int64) {
	if n > 0 {
		r.bytesSum.Add(n)
		r.bytesN.Add(1)
	}
}

func (r *responseStats) addTokens(n int64) {
	if n <= 0 {
		return
	}
	r.tokensSum.Add(n)
	r.tokensN.Add(1)
	r.tokens.add(bucketOf(uint64(n)))
	i := 0
	for i < len(TokenBounds) && float64(n) > TokenBounds[i] {
		i++
	}
	r.tokenExp.add(i, uint64(n))
}

// ResponseSummary is what a tool's responses cost, at a sample: averages
// over the responses whose size or tokens were measured, and the p95 of
// the tokens (within PercentileRelativeError).
type ResponseSummary struct {
	BytesAvg, TokensAvg, TokensP95 metric.Reading
	// TokensCounted is how many responses had their tokens counted.
	TokensCounted uint64
}

func (r *responseStats) summarize(scratch *histCounts) ResponseSummary {
	var s ResponseSummary
	if n := r.bytesN.Load(); n > 0 {
		s.BytesAvg = metric.Measured(float64(r.bytesSum.Load()) / float64(n))
	} else {
		s.BytesAvg = metric.NoData("no response size measured")
	}
	n := r.tokensN.Load()
	if n == 0 {
		s.TokensAvg = metric.NoData("no response tokens counted")
		s.TokensP95 = s.TokensAvg
		return s
	}
	s.TokensCounted = uint64(n)
	s.TokensAvg = metric.Measured(float64(r.tokensSum.Load()) / float64(n))
	*scratch = histCounts{}
	r.tokens.addTo(scratch)
	p, _ := scratch.percentile(0.95, 0, math.MaxInt64)
	s.TokensP95 = metric.Measured(float64(p))
	return s
}

// TokenHistogram is one tool's response tokens in TokenBounds buckets, for
// exporters: Counts[i] counts responses of at most TokenBounds[i] tokens
// and more than the bound before (the last, beyond the last bound).
type TokenHistogram struct {
	Tool   string
	Counts [len(TokenBounds) + 1]uint64
	Sum    int64
}

// LiveTokenHistograms reads the response-token histogram of every tool
// with at least one response counted, as it stands: counts and sum of one
// moment, like LiveToolHistograms.
func (m *Monitor) LiveTokenHistograms() []TokenHistogram {
	var out []TokenHistogram
	var counts [boundBuckets]uint64
	m.tools.each(func(name string, t *toolStats) {
		n, sum := t.responses.tokenExp.read(&counts)
		if n == 0 {
			return
		}
		h := TokenHistogram{Tool: name, Sum: int64(sum)}
		copy(h.Counts[:], counts[:])
		out = append(out, h)
	})
	return out
}

// RecordResponse records what was learned about a call's response after
// RecordCall: its size in bytes and in model tokens (0: not measured). It
// adds them to the tool's figures (for a known tool of a tools/call) and
// to the call kept in the ring, if the ring still holds it. Token counts
// come from a worker off the recording path; this is how they join the
// call.
func (m *Monitor) RecordResponse(callID uint64, tool string, bytes, tokens int64) {
	if tool != "" {
		if t := m.tools.get(tool); t != nil {
			t.responses.addBytes(bytes)
			t.responses.addTokens(tokens)
		}
	}
	r := &m.calls
	if n := uint64(len(r.slots)); n > 0 && callID != 0 {
		s := &r.slots[(callID-1)%n]
		s.mu.Lock()
		if s.c.ID == callID {
			if bytes > 0 {
				s.c.ResponseBytes = bytes
			}
			if tokens > 0 {
				s.c.ResponseTokens = tokens
			}
		}
		s.mu.Unlock()
	}
}
