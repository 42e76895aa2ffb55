"""Which frames belong to the user's code (where a cost is attributed) and which to Go's."""

from __future__ import annotations

from functools import lru_cache

#: Top-level import paths of Go's standard library (GOROOT/src, 1.21-1.27), plus the
#: pseudo-packages the toolchain puts in symbol names. A path whose first element has a dot
#: (github.com/...) is never standard; a dotless one is standard only if listed here, so a
#: module named `myservice` still counts as user code.
STD_TOP_LEVEL = frozenset({
    "archive", "arena", "bufio", "builtin", "bytes", "cmp", "compress", "container", "context",
    "crypto", "database", "debug", "embed", "encoding", "errors", "expvar", "flag", "fmt", "go",
    "hash", "html", "image", "index", "internal", "io", "iter", "log", "maps", "math", "mime",
    "net", "os", "path", "plugin", "reflect", "regexp", "runtime", "slices", "sort", "strconv",
    "strings", "structs", "sync", "syscall", "testing", "text", "time", "unicode", "unique",
    "unsafe", "weak", "vendor", "type", "gogo", "golang.org",
})

#: Packages whose frames are the Go runtime proper: never a site, and what frame rules speak of.
RUNTIME_PREFIXES = ("runtime.", "runtime/internal/", "internal/runtime/", "internal/sync.", "sync.",
                    "internal/", "syscall.", "internal/poll.")


def package_of(function: str) -> str:
    """The import path of a Go symbol name: ``github.com/a/b.(*T).M`` -> ``github.com/a/b``."""
    # Generic instantiations carry dotted type names in brackets; cut them first.
    cut = len(function)
    for ch in "[(":
        i = function.find(ch)
        if i != -1:
            cut = min(cut, i)
    head = function[:cut]
    slash = head.rfind("/")
    dot = head.find(".", slash + 1)
    return head if dot == -1 else head[:dot]


@lru_cache(maxsize=65536)
def is_std_function(function: str) -> bool:
    pkg = package_of(function)
    first = pkg.split("/", 1)[0]
    if "." in first:
        return first == "golang.org"  # golang.org/x vendored into std shows as vendor/..., rarely so
    return first in STD_TOP_LEVEL


@lru_cache(maxsize=65536)
def is_user_function(function: str) -> bool:
    # Names without a package (aeshashbody, gcWriteBarrier, memeqbody) are runtime assembly.
    return "." in function and not is_std_function(function)
