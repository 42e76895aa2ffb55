// Package flightrecorder keeps a Go execution trace of the last seconds of a
// service in memory (runtime/trace.FlightRecorder, Go 1.25 and later) and
// serves it over HTTP, so that a trace taken when a latency spike is noticed
// covers the seconds before it, not only the seconds after.
//
// It uses only the standard library. The usual set-up, next to net/http/pprof:
//
//	import (
//		_ "net/http/pprof"
//		"mapdoctor/flightrecorder"
//	)
//
//	func main() {
//		if _, err := flightrecorder.Start(flightrecorder.Config{MinAge: 15 * time.Second}); err != nil {
//			log.Printf("flight recorder: %v", err) // Go < 1.25: not available, nothing else changes
//		}
//		...
//	}
//
// Start registers the handler at [Path] (/debug/pprof/flightrecorder) on
// http.DefaultServeMux. A GET there returns the recorded window as an
// execution trace (the format `go tool trace` reads); ?debug=1 returns one
// line of text saying whether it runs and with which limits. mapdoctor's
// `diagnose` and `watch` look for it and use it instead of a live trace.
//
// With a custom mux, use [New], [Recorder.Start] and mux.Handle(Path, rec).
//
// The cost: the runtime traces continuously (a few percent of CPU on a busy
// service) and keeps up to Config.MaxBytes of trace in memory.
//
// Built with Go older than 1.25 the package compiles, and Start returns
// [ErrUnsupported].
package flightrecorder
