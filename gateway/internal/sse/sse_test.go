package sse

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readAll(t *testing.T, s string, max int) []Event {
	r := NewReader(strings.NewReader(s), max)
	var out []Event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		ev.Data = append([]byte(nil), ev.Data...)
		out = append(out, ev)
	}
}

func TestReader(t *testing.T) {
	evs := readAll(t, ": comment\nevent: message_start\ndata: {\"a\":1}\n\ndata:no-space\r\n\r\ndata: line1\ndata: line2\nid: 7\n\nevent: ping\n\ndata: tail-without-blank-line", 0)
	require.Len(t, evs, 4)
	require.Equal(t, "message_start", evs[0].Name)
	require.Equal(t, `{"a":1}`, string(evs[0].Data))
	require.Equal(t, "no-space", string(evs[1].Data))
	require.Equal(t, "line1\nline2", string(evs[2].Data))
	require.Equal(t, "7", evs[2].ID)
	require.Equal(t, "tail-without-blank-line", string(evs[3].Data))
	require.Empty(t, evs[3].Name, "an event name does not carry over a dispatch without data")
}

func TestReaderBoundsEvents(t *testing.T) {
	r := NewReader(strings.NewReader("data: "+strings.Repeat("x", 100)+"\n\n"), 50)
	_, err := r.Next()
	require.ErrorIs(t, err, ErrEventTooLarge)
	r = NewReader(strings.NewReader(strings.Repeat("data: xxxxxxxxxx\n", 20)+"\n"), 100)
	_, err = r.Next()
	require.ErrorIs(t, err, ErrEventTooLarge)
}

func TestAppend(t *testing.T) {
	require.Equal(t, "data: {}\n\n", string(AppendData(nil, []byte("{}"))))
	require.Equal(t, "event: e\ndata: {}\n\n", string(AppendEvent(nil, "e", []byte("{}"))))
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{"data: x\n\n", "event: a\ndata: b\r\n\r\n", ": c\n\ndata:\n\n", "data: [DONE]\n\n", "\r\r\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(strings.NewReader(string(b)), 1024)
		for i := 0; ; i++ {
			ev, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrEventTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(ev.Data) > 1024 {
				t.Fatalf("event larger than the bound: %d", len(ev.Data))
			}
			if i > len(b) {
				t.Fatal("more events than input bytes")
			}
		}
	})
}
