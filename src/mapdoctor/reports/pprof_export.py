"""Write a cause's sub-profile as a gzipped pprof file (``--export-pprof``; ``-`` is stdout)."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

from mapdoctor.analysis.subprofile import SubProfile
from mapdoctor.formats.pprof import encode_profile


def write_subprofile(sub: SubProfile, target: str, *, quiet: bool = False) -> None:
    data = gzip.compress(encode_profile(sub.profile), mtime=0)
    if target == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(target).write_bytes(data)
    if quiet:
        return
    view = "go tool pprof -top FILE (after saving it)" if target == "-" else f"go tool pprof -top {target}"
    print(f"wrote {target}: the {sub.kind.value} samples of {sub.source} ({100 * sub.share:.1f}% of its CPU); "
          f"view with: {view}", file=sys.stderr)
