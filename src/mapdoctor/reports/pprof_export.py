"""Write a cause's sub-profile as a gzipped pprof file (``--export-pprof``)."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

from mapdoctor.analysis.subprofile import SubProfile
from mapdoctor.formats.pprof import encode_profile


def write_subprofile(sub: SubProfile, target: str) -> None:
    data = gzip.compress(encode_profile(sub.profile), mtime=0)
    Path(target).write_bytes(data)
    print(f"wrote {target}: the {sub.kind.value} samples of {sub.source} ({100 * sub.share:.1f}% of its CPU); "
          f"view with: go tool pprof -top {target}", file=sys.stderr)
