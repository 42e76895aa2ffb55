//go:build go1.25

package flightrecorder

import (
	"bytes"
	"net/http"
	"runtime/trace"
	"strconv"
	"time"
)

// Recorder is a runtime/trace.FlightRecorder served over HTTP.
type Recorder struct {
	cfg   Config
	fr    *trace.FlightRecorder
	since time.Time
	// busy is a one-slot semaphore: the runtime allows one WriteTo at a time.
	busy chan struct{}
}

// New makes a recorder; it records nothing until Start.
func New(cfg Config) *Recorder {
	cfg = cfg.withDefaults()
	return &Recorder{
		cfg:  cfg,
		fr:   trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: cfg.MinAge, MaxBytes: cfg.MaxBytes}),
		busy: make(chan struct{}, 1),
	}
}

// Start begins recording. It fails if another flight recorder runs.
func (r *Recorder) Start() error {
	if err := r.fr.Start(); err != nil {
		return err
	}
	r.since = time.Now()
	return nil
}

// Stop ends recording and frees the window.
func (r *Recorder) Stop() { r.fr.Stop() }

// Enabled reports whether the recorder runs.
func (r *Recorder) Enabled() bool { return r.fr.Enabled() }

// ServeHTTP writes the recorded window as an execution trace.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		serveText(w, http.StatusMethodNotAllowed, "method not allowed\n")
		return
	}
	if req.FormValue("debug") != "" {
		serveText(w, http.StatusOK, r.describe())
		return
	}
	if !r.Enabled() {
		serveText(w, http.StatusServiceUnavailable, "flight recorder not running\n")
		return
	}
	select {
	case r.busy <- struct{}{}:
		defer func() { <-r.busy }()
	case <-time.After(snapshotWait):
		serveText(w, http.StatusServiceUnavailable, "another snapshot is being written\n")
		return
	case <-req.Context().Done():
		return
	}
	// The snapshot is taken into memory first: an error half-way must not
	// leave the client with a truncated trace and a 200 status.
	var buf bytes.Buffer
	if _, err := r.fr.WriteTo(&buf); err != nil {
		serveText(w, http.StatusInternalServerError, "flight recorder: "+err.Error()+"\n")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="flightrecorder.trace"`)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("X-Flight-Recorder-Min-Age", r.cfg.MinAge.String())
	if req.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(buf.Bytes())
}
