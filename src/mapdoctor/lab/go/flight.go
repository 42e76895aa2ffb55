package main

// -flightrecorder D keeps the last D of execution trace in memory (Go 1.25+,
// runtime/trace.FlightRecorder) and serves it at /debug/pprof/flightrecorder,
// the way a service using mapdoctor's flightrecorder package does.

import (
	"flag"
	"fmt"
	"os"

	"mapdoctor/flightrecorder"
)

var flightWindow = flag.Duration("flightrecorder", 0,
	"keep this much execution trace in a flight recorder at "+flightrecorder.Path+" (Go 1.25+; 0: off)")

// startFlightRecorder runs after flag parsing; on Go < 1.25 it says so and
// the service runs without one (clients then fall back to a live trace).
func startFlightRecorder() {
	if *flightWindow <= 0 {
		return
	}
	if _, err := flightrecorder.Start(flightrecorder.Config{MinAge: *flightWindow}); err != nil {
		fmt.Fprintf(os.Stderr, "mapdoctorlab: flight recorder: %v\n", err)
	}
}


