// Command mapdoctorlab is a small HTTP service that reproduces one runtime
// situation at a time (map growth, slice growth, sync.Map churn, lock
// contention, GC pressure, a map write race) so that its profiles, execution
// traces and logs can be captured with net/http/pprof.
//
// It prints exactly one line, "listening on 127.0.0.1:PORT", once it accepts
// connections, so a harness started with -addr 127.0.0.1:0 can find the port.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/* on http.DefaultServeMux
	"os"
	"runtime"
	"runtime/trace"
	"sort"
	"strings"
	"time"
)

func main() {
	name := flag.String("scenario", "", "scenario to run (-list prints them)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address; port 0 picks a free port")
	workers := flag.Int("workers", 2, "self-load goroutines running work units back to back")
	list := flag.Bool("list", false, "print the scenario names with a description and exit")
	flag.Parse()
	startFlightRecorder()

	if *list {
		for _, sc := range sortedScenarios() {
			fmt.Printf("%-12s %s\n", sc.name, sc.about)
		}
		return
	}
	sc, ok := scenarios[*name]
	if !ok {
		fmt.Fprintf(os.Stderr, "mapdoctorlab: unknown scenario %q (known: %s)\n", *name, strings.Join(scenarioNames(), ", "))
		os.Exit(2)
	}

	// Sampling rates chosen so that the mutex and block profiles of a few
	// seconds carry data without slowing the service noticeably.
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(10000)

	if sc.setup != nil {
		sc.setup()
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mapdoctorlab: %v\n", err)
		os.Exit(1)
	}
	http.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(requestStats.snapshotJSON(sc.name))
	})
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		d := doRequest(r.Context(), sc)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"latency_us\": %.1f}\n", float64(d.Nanoseconds())/1e3)
	})

	// os.Stdout is unbuffered: the line is written with one write call.
	fmt.Printf("listening on %s\n", ln.Addr())

	for i := 0; i < sc.loadGoroutines(*workers); i++ {
		go selfLoad(sc)
	}
	if sc.background != nil {
		go sc.background()
	}

	srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintf(os.Stderr, "mapdoctorlab: %v\n", err)
		os.Exit(1)
	}
}

// selfLoad runs work units back to back until the process is killed.
func selfLoad(sc *scenario) {
	ctx := context.Background()
	for {
		doRequest(ctx, sc)
	}
}

// doRequest runs one work unit as a trace task with a "request" region, so an
// execution trace carries each request's latency, and records the latency.
func doRequest(ctx context.Context, sc *scenario) time.Duration {
	ctx, task := trace.NewTask(ctx, "request")
	defer task.End()
	start := time.Now()
	trace.WithRegion(ctx, "request", sc.unit)
	d := time.Since(start)
	requestStats.record(d)
	return d
}

// scenario is one reproducible situation. Each lives in its own file, so the
// profiles' file:line point at a self-explaining place.
type scenario struct {
	name  string
	about string
	// setup runs once before serving (pre-generates long-lived data).
	setup func()
	// unit is one work unit, a "request".
	unit func()
	// goroutinesPerWorker scales -workers (0 means 1); noSelfLoad disables it.
	goroutinesPerWorker int
	noSelfLoad          bool
	// background, when set, runs in its own goroutine after the listener is up.
	background func()
}

func (sc *scenario) loadGoroutines(workers int) int {
	if sc.noSelfLoad || workers < 0 {
		return 0
	}
	if sc.goroutinesPerWorker > 0 {
		return workers * sc.goroutinesPerWorker
	}
	return workers
}

var scenarios = map[string]*scenario{}

func register(sc *scenario) {
	if sc.unit == nil {
		sc.unit = func() {}
	}
	scenarios[sc.name] = sc
}

func scenarioNames() []string {
	names := make([]string, 0, len(scenarios))
	for n := range scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func sortedScenarios() []*scenario {
	out := make([]*scenario, 0, len(scenarios))
	for _, n := range scenarioNames() {
		out = append(out, scenarios[n])
	}
	return out
}
