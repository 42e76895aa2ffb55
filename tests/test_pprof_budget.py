"""The pprof decoder under the memory budget: bombs are refused before they are built, with
one line; what is decoded stays within the estimate the budget is checked against."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clirun import SRC, run_cli
from testbytes import gzip_bytes, pprof_deep_stack, pprof_many_samples, pprof_shape

#: Whole-process ceiling for any one input under the default budget.
RSS_CEILING_KIB = 512 * 1024


def assert_refused_by_budget(path: Path) -> str:
    run = run_cli(["analyze", path], timeout=60)
    assert not run.hung, "did not finish in 60 s"
    assert run.returncode == 2, run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}: pprof: decoding it would need about "), run.err
    assert "--max-memory" in lines[0]
    assert run.peak_rss_kib < RSS_CEILING_KIB, f"peak RSS {run.peak_rss_kib} KiB"
    return lines[0]


def test_sixty_million_frame_stack_is_refused_before_it_is_built(tmp_path: Path) -> None:
    p = tmp_path / "deep.pb.gz"
    p.write_bytes(pprof_deep_stack(60_000_000))
    assert len(p.read_bytes()) < 100_000  # ~60 KB on disk
    assert "1 samples in 60000008 bytes" in assert_refused_by_budget(p)


def test_two_million_samples_are_refused_within_the_budget(tmp_path: Path) -> None:
    p = tmp_path / "many.pb.gz"
    p.write_bytes(pprof_many_samples(2_000_000))
    assert "2000000 samples" in assert_refused_by_budget(p)
    assert len(p.read_bytes()) < 5 << 20


def test_raising_the_budget_decodes_what_the_default_refuses(tmp_path: Path) -> None:
    from mapdoctor.errors import InputError
    from mapdoctor.formats.limits import Budget, memory_budget
    from mapdoctor.formats.pprof import decode_profile

    data = pprof_many_samples(200_000)
    with memory_budget(Budget(32 << 20)), pytest.raises(InputError, match="more than the 32 MiB budget"):
        decode_profile(data, "p")
    with memory_budget(Budget(1 << 30)):
        assert len(decode_profile(data, "p").samples) == 200_000


def test_a_refusal_mid_way_names_what_was_counted() -> None:
    """Chunks are checked as they come: a profile that only its frames make too big passes
    the census and is refused when its chunks add up to more than the budget."""
    from mapdoctor.errors import InputError
    from mapdoctor.formats.limits import Budget, memory_budget
    from mapdoctor.formats.pprof import decode_profile, wire

    data = pprof_shape("stacks", 40_000)
    census = wire.census_counts(wire.parse_census(data, "p")).bound(len(data))
    whole = wire.estimate_memory(data, "p")
    assert census < whole
    with memory_budget(Budget((census + whole) // 2)), pytest.raises(InputError) as err:
        decode_profile(data, "p")
    assert err.value.what == "pprof" and "40000 samples" in err.value.why and "frames in the first" in err.value.why


_MEASURE = r"""
import gc, sys
sys.path.insert(0, sys.argv[2])
from mapdoctor.formats.limits import Budget, memory_budget
from mapdoctor.formats.pprof import decode_profile
from mapdoctor.formats.pprof.wire import estimate_memory
data = open(sys.argv[1], "rb").read()
est = estimate_memory(data, "x")
gc.collect()
def status(key):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) * 1024 for l in fh if l.startswith(key))
before = status("VmRSS:")
with memory_budget(Budget(8 << 30)):
    decode_profile(data, "x")
print(est, max(1, status("VmHWM:") - before + len(data)))
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc to read the resident size")
@pytest.mark.parametrize(("kind", "n"), [
    ("samples", 150_000), ("deep", 1_000_000), ("stacks", 30_000), ("labels", 50_000),
    ("locations", 50_000), ("inlined", 25_000), ("functions", 100_000), ("strings", 150_000),
])
def test_estimate_bounds_what_decoding_uses(tmp_path: Path, kind: str, n: int) -> None:
    """The budget is checked against an estimate: it must not be below what decoding really
    uses (or the budget is not a bound), nor far above it (or good profiles are refused)."""
    p = tmp_path / f"{kind}.pb"
    p.write_bytes(pprof_shape(kind, n))
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(p), str(SRC)], capture_output=True, text=True,
                         timeout=120, check=True)
    estimate, used = map(int, out.stdout.split())
    assert used <= estimate <= 2.5 * used, f"estimate {estimate >> 20} MiB, used {used >> 20} MiB"


def test_census_rejects_the_same_profiles_as_before(tmp_path: Path) -> None:
    """Concatenated profiles are still refused (now counted in the census view)."""
    from mapdoctor.errors import InputError
    from mapdoctor.formats.pprof import decode_profile
    from testbytes import pb_varint, pprof_raw, pprof_sample

    one = pprof_raw([pprof_sample([1], [1])]) + pb_varint(9, 5)
    with pytest.raises(InputError, match="2 concatenated profiles"):
        decode_profile(gzip_bytes(one + one), "two")
