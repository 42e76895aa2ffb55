"""Debian packages for the tests that drive real servers and tools.

Prometheus, Alertmanager, Chromium and gdb's ``gcore`` are what users have; the tests that need
them call :func:`need`, which finds the command or, on a Debian machine where the tests run as
root (CI), installs its package with apt-get once per test run. So the README's one test command
does the whole set-up. Where neither works (no apt-get, not root, no mirror) the test is skipped
with the reason, never passed.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

#: apt-get waits this long for another apt process's lock, then gives up (a busy CI machine).
LOCK_TIMEOUT_S = 600
#: Bound on one apt-get run (update, or an install of Chromium and its libraries).
APT_TIMEOUT_S = 900

_updated = False
_failed: dict[str, str] = {}


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run(["apt-get", "-qq", "-o", f"DPkg::Lock::Timeout={LOCK_TIMEOUT_S}", *args],
                          capture_output=True, text=True, timeout=APT_TIMEOUT_S, env=env, check=False)


def _install(package: str) -> str | None:
    """Install ``package``; None on success, else why not."""
    global _updated
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    if os.geteuid() != 0:
        return "not root, so apt-get cannot install it"
    try:
        if not _updated:
            done = _apt("update")
            if done.returncode != 0:
                return "apt-get update failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
            _updated = True
        done = _apt("install", "-y", "--no-install-recommends", package)
    except subprocess.TimeoutExpired:
        return f"apt-get took longer than {APT_TIMEOUT_S} s"
    if done.returncode != 0:
        return "apt-get install failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    return None


def find(*commands: str) -> str | None:
    for name in commands:
        path = shutil.which(name)
        if path:
            return path
    return None


def need(package: str, *commands: str) -> str:
    """The path of the first of ``commands`` found, installing Debian's ``package`` if none is."""
    path = find(*commands)
    if path is not None:
        return path
    if package not in _failed:
        why = _install(package)
        path = find(*commands)
        if path is not None:
            return path
        _failed[package] = why or f"installed, yet none of {', '.join(commands)} is on PATH"
    pytest.skip(f"{commands[0]} not found and Debian package '{package}' not installed: {_failed[package]}")
