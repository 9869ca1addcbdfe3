package codeanalysis

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"unicode/utf8"
)

// binaryProbe is how much of a file is examined to tell text from binary.
const binaryProbe = 8 << 10

// readText reads the regular file at the resolved path real, refusing it when
// it is larger than limit or is not text. display names the file in errors.
func (f *rootFiles) readText(real, display string, limit int64) ([]byte, error) {
	fi, err := f.stat(real)
	if err != nil {
		return nil, openErr(display, err)
	}
	// Checked before opening: opening a FIFO would block.
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %q is not a regular file", ErrBadRequest, display)
	}
	if fi.Size() > limit {
		return nil, tooLarge(display, fi.Size(), limit)
	}
	file, err := f.openFile(real)
	if err != nil {
		return nil, openErr(display, err)
	}
	defer file.Close()
	// Read one byte past the limit, in case the file grew since Stat.
	n := limit
	if n < math.MaxInt64 {
		n++
	}
	data, err := io.ReadAll(io.LimitReader(file, n))
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", display, osErr(err))
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(display, int64(len(data)), limit)
	}
	if reason := binaryReason(data); reason != "" {
		return nil, fmt.Errorf("%w: %q %s", ErrBinary, display, reason)
	}
	return data, nil
}

func openErr(display string, err error) error {
	if missing(err) {
		return fmt.Errorf("%w: %q", ErrNotFound, display)
	}
	return fmt.Errorf("opening %q: %w", display, osErr(err))
}

func tooLarge(display string, size, limit int64) error {
	return fmt.Errorf("%w: %q is %s, the limit is %s", ErrTooLarge, display, sizeText(size), sizeText(limit))
}

// sizeText writes a byte count exactly, and the way people read sizes when
// it is large.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%d bytes (%.1f GiB)", n, float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%d bytes (%.1f MiB)", n, float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d bytes (%.1f KiB)", n, float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// binaryReason says why data is not text, or returns "" when it is. Text may
// hold a few invalid UTF-8 bytes (a Latin-1 comment); more than one in ten
// means an encoding the scanner cannot read, or no text at all.
func binaryReason(data []byte) string {
	head := data
	if len(head) > binaryProbe {
		head = head[:binaryProbe]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return "has a NUL byte in its first 8 KiB"
	}
	invalid := 0
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size == 1 {
			// A rune cut by the end of the probe is not invalid.
			if len(head) < len(data) && !utf8.FullRune(head[i:]) {
				break
			}
			invalid++
		}
		i += size
	}
	if invalid*10 > len(head) {
		return fmt.Sprintf("is mostly invalid UTF-8 (%d of its first %d bytes)", invalid, len(head))
	}
	return ""
}
