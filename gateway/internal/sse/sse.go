// Package sse reads and writes server-sent events (the WHATWG
// text/event-stream format) as OpenAI and Anthropic stream them: `event:`
// and `data:` fields, events separated by a blank line, comments starting
// with ':'. Lines are bounded so a hostile upstream cannot make the
// gateway buffer without limit.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEventBytes bounds one event (all its lines together).
const DefaultMaxEventBytes = 4 << 20

// ErrEventTooLarge is returned when an event exceeds the reader's bound.
var ErrEventTooLarge = errors.New("sse: event too large")

// Event is one dispatched event. Data lines are joined with '\n'.
type Event struct {
	Name string
	Data []byte
	ID   string
}

// Reader parses events from a stream.
type Reader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewReader returns a Reader; maxEventBytes <= 0 means DefaultMaxEventBytes.
func NewReader(r io.Reader, maxEventBytes int) *Reader {
	if maxEventBytes <= 0 {
		maxEventBytes = DefaultMaxEventBytes
	}
	return &Reader{r: bufio.NewReaderSize(r, 16<<10), max: maxEventBytes}
}

// Next returns the next event with data. It returns io.EOF at a clean end
// of stream (a trailing event without the final blank line is still
// dispatched) and io.ErrUnexpectedEOF never: a truncated stream simply ends.
// The returned Data is valid until the next call.
func (r *Reader) Next() (Event, error) {
	var ev Event
	r.buf = r.buf[:0]
	hasData := false
	size := 0
	for {
		line, err := r.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && hasData {
				ev.Data = r.buf
				return ev, nil
			}
			return Event{}, err
		}
		size += len(line)
		if size > r.max {
			return Event{}, fmt.Errorf("%w (more than %d bytes)", ErrEventTooLarge, r.max)
		}
		if len(line) == 0 { // dispatch
			if hasData {
				ev.Data = r.buf
				return ev, nil
			}
			ev = Event{}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := bytes.Cut(line, []byte{':'})
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "data":
			if hasData {
				r.buf = append(r.buf, '\n')
			}
			r.buf = append(r.buf, value...)
			hasData = true
		case "event":
			ev.Name = string(value)
		case "id":
			if !bytes.ContainsRune(value, 0) {
				ev.ID = string(value)
			}
		}
	}
}

// readLine returns one line without its terminator (LF, CRLF or a lone CR
// followed by anything but LF is treated by splitting at LF and trimming
// CR, which covers every stream seen in practice).
func (r *Reader) readLine() ([]byte, error) {
	var line []byte
	for {
		frag, err := r.r.ReadSlice('\n')
		if len(line)+len(frag) > r.max {
			return nil, fmt.Errorf("%w (line longer than %d bytes)", ErrEventTooLarge, r.max)
		}
		switch {
		case err == nil:
			if line == nil {
				line = frag
			} else {
				line = append(line, frag...)
			}
			line = line[:len(line)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			line = append(line, frag...)
		default:
			if len(frag) > 0 || len(line) > 0 {
				line = append(line, frag...)
				if n := len(line); n > 0 && line[n-1] == '\r' {
					line = line[:n-1]
				}
				return line, nil
			}
			return nil, err
		}
	}
}

// AppendData appends a `data:` event carrying payload (which must not
// contain newlines, as JSON from encoding/json never does) to dst.
func AppendData(dst, payload []byte) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, payload...)
	return append(dst, '\n', '\n')
}

// AppendEvent appends a named event.
func AppendEvent(dst []byte, name string, payload []byte) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, name...)
	dst = append(dst, '\n')
	return AppendData(dst, payload)
}

// Done is OpenAI's end-of-stream sentinel event.
const Done = "data: [DONE]\n\n"
