package flightrecorder

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Path is where Start serves the recorder, beside net/http/pprof's handlers.
const Path = "/debug/pprof/flightrecorder"

// ErrUnsupported is returned by Start when the program is built with Go < 1.25.
var ErrUnsupported = errors.New("the flight recorder needs Go 1.25 or later (runtime/trace.FlightRecorder)")

// Config bounds the recorded window.
type Config struct {
	// MinAge is how far back the window should reach (default 10s). The
	// runtime keeps whole generations of about a second each, so a snapshot
	// often reaches a little further back.
	MinAge time.Duration
	// MaxBytes caps the memory the window may take (default 10 MiB); it wins
	// over MinAge on a busy service.
	MaxBytes uint64
}

func (c Config) withDefaults() Config {
	if c.MinAge <= 0 {
		c.MinAge = 10 * time.Second
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 10 << 20
	}
	return c
}

// snapshotWait bounds how long a request waits for another snapshot in progress.
const snapshotWait = 10 * time.Second

// Start creates a recorder, starts it and registers it at Path on
// http.DefaultServeMux. It may be called once per process.
func Start(cfg Config) (*Recorder, error) {
	rec := New(cfg)
	if err := rec.Start(); err != nil {
		return nil, err
	}
	http.Handle(Path, rec)
	return rec, nil
}

func (r *Recorder) describe() string {
	state := "stopped"
	if r.Enabled() {
		state = fmt.Sprintf("running since %s", r.since.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("flight recorder: %s; min age %s, max bytes %d\n", state, r.cfg.MinAge, r.cfg.MaxBytes)
}

func serveText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}
