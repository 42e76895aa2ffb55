// Package mapdoctoraccuracy holds purpose-written benchmarks for the situations the Go
// distribution's own benchmarks do not cover on both lab toolchains (a hinted fill, a
// cleared and refilled map, huge keys, goroutines serialised on one mutex). The accuracy
// suite (accuracy/run.py) profiles them next to GOROOT's benchmarks and tools; its labels
// mark them as repo programs.
package mapdoctoraccuracy
