"""The model: what a Go program's runtime data says, independent of where it came from."""
