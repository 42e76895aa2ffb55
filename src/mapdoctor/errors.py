"""The one error type that crosses layers: bad input, reported as one line.

Every reader raises :class:`InputError` for input it cannot use; the CLI's single error
boundary prints ``str(err)`` (``PATH: WHAT: WHY``) and exits with status 2.
"""

from __future__ import annotations


class InputError(Exception):
    """Input that cannot be used, described as ``path: what: why``.

    ``what`` names the kind of input or the stage that failed (``pprof``, ``gzip``,
    ``trace``, ``http``...); ``why`` is a short human reason, no newlines.
    """

    def __init__(self, path: str, what: str, why: str) -> None:
        self.path = path
        self.what = what
        self.why = " ".join(why.split())
        super().__init__(f"{path}: {what}: {self.why}")
