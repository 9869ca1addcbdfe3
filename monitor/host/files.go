package host

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// pseudoFileReader reads small /proc, /sys and cgroup files into one reused
// buffer, so a sample does not allocate a fresh buffer per file. (These files
// report a size of 0 or 4096 whatever their content, so os.ReadFile cannot
// size its buffer well either.)
type pseudoFileReader struct{ buf []byte }

// read returns the file's content, valid until the next call.
func (r *pseudoFileReader) read(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if r.buf == nil {
		r.buf = make([]byte, 4096)
	}
	n := 0
	for {
		if n == len(r.buf) {
			r.buf = append(r.buf, make([]byte, len(r.buf))...)
		}
		m, err := f.Read(r.buf[n:])
		n += m
		if err == io.EOF {
			return r.buf[:n], nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readUint reads a file holding one unsigned number.
func (r *pseudoFileReader) readUint(path string) (uint64, error) {
	b, err := r.read(path)
	if err != nil {
		return 0, err
	}
	v, ok := parseUintBytes(bytes.TrimSpace(b))
	if !ok {
		return 0, fmt.Errorf("%s: not a number: %.40q", path, b)
	}
	return v, nil
}

// readKey finds "key value" in a flat-keyed file such as memory.stat or
// cpu.stat.
func (r *pseudoFileReader) readKey(path, key string) (uint64, error) {
	b, err := r.read(path)
	if err != nil {
		return 0, err
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(line) > len(key) && line[len(key)] == ' ' && string(line[:len(key)]) == key {
			if v, ok := parseUintBytes(bytes.TrimSpace(line[len(key)+1:])); ok {
				return v, nil
			}
			return 0, fmt.Errorf("%s: %s is not a number", path, key)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

// parseUintBytes parses a decimal without the string conversion
// strconv.ParseUint would need.
func parseUintBytes(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, false // overflow
		}
		v = v*10 + d
	}
	return v, true
}

// errReading is the unavailable reading for a failed read: what was being
// read and a short form of why.
func errReading(what string, err error) metric.Reading {
	return metric.Unavailable("%s: %s", what, shortErr(err))
}

// shortErr drops the operation from path errors ("open /x: denied" becomes
// "/x: denied"), since the reading already says what was being read, and
// caps the length so a reason stays a short note.
func shortErr(err error) string {
	var s string
	var pe *fs.PathError
	if errors.As(err, &pe) {
		s = pe.Path + ": " + pe.Err.Error()
	} else {
		s = err.Error()
	}
	const maxLen = 160
	if len(s) > maxLen {
		s = s[:maxLen-3] + "..."
	}
	return s
}

// fmtBytes renders a byte count for reasons, e.g. "7.8 GiB".
func fmtBytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatUint(b, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit && exp < 5; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}
