"""Line iteration shared by the text formats (goroutine dumps, crash output, GC traces).

Text inputs can be hundreds of megabytes; splitting them into one list of lines would
double the memory held, so lines are produced one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

#: Largest text input parsed; longer input is parsed up to this many characters and
#: reported as truncated.
MAX_TEXT_CHARS = 256 << 20

#: How much of the start of an input the ``looks_like_*`` sniffers read.
SNIFF_CHARS = 1 << 20


#: Lines are split in pieces of about this many characters: C-speed splitting without
#: holding a list of every line of a large input at once.
CHUNK_CHARS = 1 << 22


def iter_line_chunks(text: str, chunk_chars: int = CHUNK_CHARS) -> Iterator[list[str]]:
    """Consecutive lists of lines, without line endings (``\n`` or ``\r\n``)."""
    start = 0
    end = len(text)
    while start < end:
        nl = text.find("\n", start + chunk_chars) if start + chunk_chars < end else -1
        if nl < 0:
            piece = text[start:]
            start = end
        else:
            piece = text[start : nl + 1]
            start = nl + 1
        if "\r" in piece:
            piece = piece.replace("\r\n", "\n")
        lines = piece.split("\n")
        if piece.endswith("\n"):
            lines.pop()
        yield lines


def iter_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line_no, line)``, 1-based, without the line ending (``\n`` or ``\r\n``)."""
    line_no = 0
    for lines in iter_line_chunks(text):
        for line in lines:
            line_no += 1
            yield line_no, line


def cap_text(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    """The text cut to ``limit`` characters (at a line boundary when there is one), and whether it was cut."""
    if len(text) <= limit:
        return text, False
    cut = text.rfind("\n", 0, limit)
    return text[: cut + 1 if cut >= 0 else limit], True


def strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text
