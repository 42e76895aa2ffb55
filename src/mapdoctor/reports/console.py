"""The one place a rich Console is made: colour and wrapping follow where the text goes.

A terminal gets colour and lines fitted to its width. A pipe or a file (a CI log, ``| grep``)
gets lines that are never folded, so a phrase or a ``file:line`` is never cut in two, and
no colour unless rich is told to force it. ``NO_COLOR`` (any non-empty value, see
no-color.org) and ``--no-color`` turn colour and styles off everywhere.
"""

from __future__ import annotations

import os
from typing import TextIO

from rich.console import Console

#: Width given to rich for a pipe or a file: wide enough that tables are laid out on one line each.
UNWRAPPED_WIDTH = 4096


def color_wanted(color: bool = True) -> bool:
    """False when ``--no-color`` was given or ``NO_COLOR`` is set to anything."""
    return color and not os.environ.get("NO_COLOR")


def make_console(*, color: bool = True, file: TextIO | None = None, stderr: bool = False) -> Console:
    """A Console for ``file`` (default stdout, or stderr when ``stderr``); see the module's docstring."""
    plain = not color_wanted(color)
    # file=None lets rich look sys.stdout / sys.stderr up at each write (they may be swapped).
    console = Console(file=file, stderr=stderr, highlight=False,
                      no_color=True if plain else None, color_system=None if plain else "auto")
    if not console.is_terminal:
        console.soft_wrap = True
        console.width = UNWRAPPED_WIDTH
    return console
