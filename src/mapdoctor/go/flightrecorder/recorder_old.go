//go:build !go1.25

package flightrecorder

import (
	"net/http"
	"time"
)

// Recorder stands in for the Go 1.25+ recorder; it never records.
type Recorder struct {
	cfg   Config
	since time.Time
}

// New makes a recorder that cannot start on this Go version.
func New(cfg Config) *Recorder { return &Recorder{cfg: cfg.withDefaults()} }

// Start returns ErrUnsupported: runtime/trace.FlightRecorder is Go 1.25+.
func (r *Recorder) Start() error { return ErrUnsupported }

// Stop does nothing.
func (r *Recorder) Stop() {}

// Enabled is always false.
func (r *Recorder) Enabled() bool { return false }

// ServeHTTP answers 404, as if no recorder were mounted, so clients fall back to a live trace.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	serveText(w, http.StatusNotFound, ErrUnsupported.Error()+"\n")
}
