"""mapdoctor: is it map growth? A verdict from a Go service's runtime data."""

__version__ = "0.1.0"
