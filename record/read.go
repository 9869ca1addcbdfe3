package record

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// maxReadLine bounds one line read back from a recording.
const maxReadLine = 64 << 20

// Read reads a recording's lines in order, handing each to each. A line
// that is not one (a write a full disk cut short) is skipped and counted.
func Read(r io.Reader, each func(Line)) (skipped int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxReadLine)
	for sc.Scan() {
		var l Line
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			skipped++
			continue
		}
		each(l)
	}
	return skipped, sc.Err()
}

// ReadFile reads the recording at path whole.
func ReadFile(path string) (lines []Line, skipped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	skipped, err = Read(f, func(l Line) { lines = append(lines, l) })
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return lines, skipped, nil
}
