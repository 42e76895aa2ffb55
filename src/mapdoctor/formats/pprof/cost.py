"""What decoding a profile will cost in memory, from counts taken before anything is built.

A 61 KB gzipped profile can hold one sample with sixty million frames, and a valid profile
of a few hundred KB two million samples: decoded, they need gigabytes. Decoding is checked
against the memory budget before each expensive step:

1. from the uncompressed size alone (every parse copies the bytes);
2. from the *census* (the top level split, every message left encoded: see
   ``schema.CENSUS_MESSAGES``): numbers of samples, locations, functions and strings, and the
   bytes of the samples, before the locations, functions and strings are parsed;
3. for each chunk of samples (``wire.WireProfile.chunks``), from the exact numbers of frames,
   values and labels its merged view holds, before the chunk's model is built.

The costs per item are the resident memory measured for each part of decoding (the C
parser's messages, the Python model, the temporary lists of the resolver), rounded up by
about a fifth so that the estimate stays above what is really used (``tests/
test_pprof_budget.py`` checks that against measurements). Python 3.11, 64-bit.
"""

from __future__ import annotations

from dataclasses import dataclass

# The decoded model, per item (resident bytes, with margin).
SAMPLE = 200  # Sample object, its stack and values tuples' headers, list slot
FRAME = 9  # a stack tuple slot (Locations are shared)
VALUE = 8  # a values tuple slot (equal tuples are shared)
DISTINCT_VALUE = 40  # an int object, for each distinct value of a chunk
LABEL = 12  # per labelled sample: the shared label dicts are referenced
DISTINCT_LABEL = 700  # a label encoding seen for the first time: decoded, cached, its dicts
LOCATION = 480  # parsed message, Location, its lines tuple, one Line
LINE = 140  # each further Line of a location (inlined calls)
FUNCTION = 320
MAPPING = 300
STRING = 180  # plus twice its length: parser copy and Python str
#: The census: a view per encoded message.
VIEW = 32
#: The bytes themselves and the parser's copy of them (the census' copy is freed before the
#: view with encoded samples is parsed).
COPIES = 2
#: Temporary views of one chunk, per encoded byte and per item (both views of the chunk, the
#: parser's growing arrays, the resolver's temporary lists).
CHUNK_PER_BYTE = 3
CHUNK_PER_ITEM = 56
CHUNK_PER_SAMPLE = 400


@dataclass(frozen=True, slots=True)
class Census:
    """Counts of the top level of an encoded profile."""

    samples: int
    sample_bytes: int
    mappings: int
    locations: int
    location_bytes: int
    functions: int
    strings: int
    string_bytes: int

    def bound(self, encoded: int) -> int:
        """Memory of decoding everything but the frames, values and labels of samples (each
        of which needs at least one encoded byte, counted at the cheapest item's cost)."""
        return (fixed(self, encoded) + SAMPLE * self.samples
                + min(FRAME, VALUE, LABEL) * max(0, self.sample_bytes - 2 * self.samples))

    def describe(self) -> str:
        return (f"{self.samples} samples in {self.sample_bytes} bytes, {self.locations} locations, "
                f"{self.functions} functions, {self.strings} strings")


@dataclass(frozen=True, slots=True)
class Columns:
    """Exact counts of a chunk of samples, from its merged view."""

    frames: int
    values: int
    distinct_values: int
    labels: int
    distinct_labels: int


def fixed(census: Census, encoded: int) -> int:
    """The bytes and everything but the samples: locations (with a line each), functions,
    mappings, strings. Extra lines of inlined calls are bounded by the locations' bytes."""
    views = VIEW * (census.samples + census.mappings + census.locations + census.functions + census.strings)
    extra_lines = max(0, census.location_bytes // 4 - census.locations)
    return (COPIES * encoded + views + LOCATION * census.locations + LINE * extra_lines
            + FUNCTION * census.functions + MAPPING * census.mappings + STRING * census.strings
            + 2 * census.string_bytes)


def chunk_model(samples: int, c: Columns) -> int:
    """What a chunk of samples adds to the model for good."""
    return (SAMPLE * samples + FRAME * c.frames + VALUE * c.values + DISTINCT_VALUE * c.distinct_values
            + LABEL * c.labels + DISTINCT_LABEL * c.distinct_labels)


def chunk_views(encoded: int, c: Columns, samples: int) -> int:
    """The temporary memory of decoding one chunk."""
    return CHUNK_PER_BYTE * encoded + CHUNK_PER_ITEM * (c.frames + c.values + c.labels) + CHUNK_PER_SAMPLE * samples


def projected(model_so_far: int, samples_done: int, samples: int) -> int:
    """The whole model, extrapolated from the chunks decoded so far (for the refusal's figure)."""
    return model_so_far * samples // max(1, samples_done)
