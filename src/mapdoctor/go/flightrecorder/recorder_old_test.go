//go:build !go1.25

package flightrecorder

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestUnsupportedBeforeGo125(t *testing.T) {
	rec := New(Config{})
	if err := rec.Start(); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Start: %v, want ErrUnsupported", err)
	}
	w := httptest.NewRecorder()
	rec.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Path, nil))
	if w.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", w.Code)
	}
}
