package main

// idle: the service serves pprof and does nothing else; the baseline of an
// uneventful capture.

func init() {
	register(&scenario{
		name:       "idle",
		about:      "serves pprof and does nothing else (baseline)",
		noSelfLoad: true,
	})
}
