package main

// The HTTP services: plain net/http servers with no trace annotations, each
// with a few load clients inside the same program that call it over loopback
// (keep-alive connections, a pause between requests, so the load stays bounded
// on a small machine). Each service is slow on some requests for exactly one
// reason, which lives in the service's own file.
//
// The service measures its own requests, from the moment the first bytes of a
// request are read off the connection to the moment its response has been
// written to it (the earliest and latest points a server can see), and, for the
// requests that began and ended while an execution trace was being recorded,
// reports count and percentiles on /requests: what a trace of the same window
// must find.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/trace"
	"sort"
	"sync/atomic"
	"time"
)

type httpService struct {
	// handle serves request number n (0, 1, 2, ... in arrival order).
	handle func(n uint64)
	// clients is the number of load clients; think is the mean pause between
	// two requests of one client.
	clients int
	think   time.Duration
	// background, when set, runs in its own goroutine beside the server.
	background func()
}

// tracedLog holds the latencies of the requests that ran while an execution
// trace was being recorded (tracing on at their start and at their end). The lab
// takes one trace per run of a service, so these are the requests of that trace.
type tracedLog struct {
	count atomic.Int64
	durs  [1 << 20]int64
}

var traced tracedLog

func (l *tracedLog) record(tracedAtStart bool, start time.Time) {
	d := time.Since(start)
	if d < 0 || !tracedAtStart || !trace.IsEnabled() {
		return
	}
	if i := l.count.Add(1) - 1; i < int64(len(l.durs)) {
		l.durs[i] = d.Nanoseconds()
	}
}

// snapshot computes percentiles the way mapdoctor does: the value at index
// n*q of the sorted latencies.
func (l *tracedLog) snapshot() map[string]any {
	n := l.count.Load()
	if n > int64(len(l.durs)) {
		n = int64(len(l.durs))
	}
	d := make([]int64, n)
	copy(d, l.durs[:n])
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(q int64) float64 {
		if n == 0 {
			return 0
		}
		i := n * q / 100
		if i > n-1 {
			i = n - 1
		}
		return float64(d[i]) / 1e6
	}
	out := map[string]any{"count": n, "p50_ms": at(50), "p99_ms": at(99)}
	if n > 0 {
		out["max_ms"] = float64(d[n-1]) / 1e6
	}
	return out
}

// serveHTTP starts the service on its own loopback listener, then its clients.
func serveHTTP(svc *httpService) {
	runtime.GOMAXPROCS(2) // the same scheduler on every machine
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "mapdoctorlab: %v\n", err)
		os.Exit(1)
	}
	http.HandleFunc("/requests", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(traced.snapshot())
	})
	var seq atomic.Uint64
	mux := http.NewServeMux()
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		conn, _ := r.Context().Value(connKey{}).(*timedConn)
		svc.handle(seq.Add(1) - 1)
		// The response is on the wire before the clock stops: what the client waits for.
		w.Header().Set("Content-Length", "3")
		_, _ = w.Write([]byte("ok\n"))
		w.(http.Flusher).Flush()
		if conn != nil {
			conn.idle.Store(true)
			traced.record(conn.traced.Load(), time.Unix(0, conn.firstRead.Load()))
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		}}
	go func() { _ = srv.Serve(timedListener{ln}) }()
	url := "http://" + ln.Addr().String() + "/api"
	for i := 0; i < svc.clients; i++ {
		go loadClient(url, svc.think, int64(i))
	}
	if svc.background != nil {
		go svc.background()
	}
}

type connKey struct{}

// timedConn notes when the first bytes of each request are read: the start of
// the request as far as the server can tell.
type timedConn struct {
	net.Conn
	idle      atomic.Bool // the previous response has been written
	firstRead atomic.Int64
	traced    atomic.Bool // tracing was on at that moment
}

func (c *timedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.idle.Swap(false) {
		c.firstRead.Store(time.Now().UnixNano())
		c.traced.Store(trace.IsEnabled())
	}
	return n, err
}

type timedListener struct{ net.Listener }

func (l timedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &timedConn{Conn: c}
	tc.idle.Store(true)
	return tc, nil
}

// loadClient calls url over one keep-alive connection, pausing between calls
// (uniform in [think/2, 3*think/2]) so that the next request never queues
// behind the previous one on the server.
func loadClient(url string, think time.Duration, seed int64) {
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true},
		Timeout:   30 * time.Second,
	}
	rng := rand.New(rand.NewSource(seed + 1))
	buf := make([]byte, 512)
	for {
		resp, err := client.Get(url)
		if err == nil {
			for {
				if _, err := resp.Body.Read(buf); err != nil {
					break
				}
			}
			resp.Body.Close()
		}
		time.Sleep(think/2 + time.Duration(rng.Int63n(int64(think))))
	}
}

// spin is plain CPU work of about units*10 µs (calibrated once at start-up):
// no allocation, no maps, no locks.
var spinPerUnit = calibrateSpin()

var spinSink atomic.Uint64

func spinRounds(rounds int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < rounds; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func calibrateSpin() int {
	best := time.Duration(1 << 62)
	const rounds = 200000
	for i := 0; i < 5; i++ {
		t := time.Now()
		spinSink.Add(spinRounds(rounds))
		if d := time.Since(t); d < best {
			best = d
		}
	}
	per := int(float64(rounds) * float64(10*time.Microsecond) / float64(best))
	if per < 1 {
		per = 1
	}
	return per
}

func spin(units int) {
	spinSink.Add(spinRounds(units * spinPerUnit))
}

// registerHTTP registers an HTTP service as a lab scenario.
func registerHTTP(name, about string, setup func(), svc *httpService) {
	register(&scenario{
		name:       name,
		about:      about,
		noSelfLoad: true,
		setup: func() {
			if setup != nil {
				setup()
			}
			serveHTTP(svc)
		},
	})
}
