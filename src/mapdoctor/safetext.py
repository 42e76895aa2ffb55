"""Untrusted text made safe for a terminal: every control character shown, none obeyed.

Function and file names in profiles, crash-log lines, HTTP error bodies and file names on
disk come from the program (or the machine) under diagnosis. Printed raw, an ESC, a C1
control or a bidirectional override can retitle the window, clear the screen, answer a
cursor-position query into the shell's input, or make a line read backwards; a newline
in a file name forges a second error line. Every text renderer passes such strings
through :func:`for_terminal`. The JSON contract keeps the exact strings: escaping is a
property of the terminal, not of the data.
"""

from __future__ import annotations

import unicodedata

#: Categories that are never shown as themselves: C0/C1 controls (newline and tab included:
#: one value must stay on one line), format characters (bidi embeddings, overrides and
#: isolates, zero-width marks, the soft hyphen, the BOM), line/paragraph separators and
#: lone surrogates.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def _is_unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _escape(ch: str) -> str:
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def for_terminal(text: str) -> str:
    """``text`` with every control or reordering character replaced by a visible escape.

    A backslash that already stands in the text is left alone: the result is for reading,
    not for decoding back.
    """
    if text.isascii() and text.isprintable():
        return text  # the common case, checked in C
    return "".join(_escape(ch) if _is_unsafe(ch) else ch for ch in text)


def has_unsafe(text: str) -> bool:
    """Whether ``text`` holds anything :func:`for_terminal` would escape."""
    return any(_is_unsafe(ch) for ch in text)
