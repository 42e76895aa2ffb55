//go:build go1.25

package flightrecorder

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func busyWork(stop <-chan struct{}) {
	m := map[int]int{}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		m[i%50000] = i
		if i%100000 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestServesTheWindowAsATrace(t *testing.T) {
	rec := New(Config{MinAge: 2 * time.Second})
	srv := httptest.NewServer(rec)
	defer srv.Close()

	resp, body := get(t, srv.URL)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("before Start: status %d, want 503", resp.StatusCode)
	}
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	defer rec.Stop()
	if err := rec.Start(); err == nil {
		t.Fatal("a second Start must fail")
	}
	stop := make(chan struct{})
	go busyWork(stop)
	time.Sleep(1500 * time.Millisecond)
	close(stop)

	// Concurrent snapshots are served one after the other, never refused.
	var wg sync.WaitGroup
	bodies := make([][]byte, 3)
	for i := range bodies {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, b := get(t, srv.URL)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d: %s", resp.StatusCode, b)
			}
			bodies[i] = b
		}(i)
	}
	wg.Wait()
	for _, b := range bodies {
		if !bytes.HasPrefix(b, []byte("go 1.")) || !bytes.Contains(b[:16], []byte(" trace\x00")) {
			t.Fatalf("not an execution trace: %q", b[:min(len(b), 16)])
		}
		if len(b) < 1000 {
			t.Fatalf("a trace of %d bytes after 1.5 s of work", len(b))
		}
	}
	resp, body = get(t, srv.URL+"?debug=1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "running since") {
		t.Fatalf("debug=1: %d %q", resp.StatusCode, body)
	}
	post, err := http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: status %d", post.StatusCode)
	}
}
