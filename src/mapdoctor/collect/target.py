"""The service to diagnose: where its net/http/pprof handlers are and how to reach them.

URLs are accepted the way ``go tool pprof`` users type them: ``:port`` (this machine),
``host:port``, ``http://host:port``, ``http://host:port/debug/pprof/`` or even the address
of one profile (``.../debug/pprof/profile?seconds=30``): its path is reduced to the pprof
index, and its ``seconds=`` becomes the collection window. pprof's own query parameters
(``seconds``, ``debug``, ``gc``) are never sent on to the other endpoints; any other
parameter is (some proxies authenticate with a token there). A path that is neither
empty nor under ``/debug/pprof/`` is taken as a custom mount point of the pprof handlers.
A value that looks like a mistyped URL (``htp://``, ``http//``, ``localhost6060``) is
refused with the URL it probably meant.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from mapdoctor.cli.command import UsageError

DEFAULT_PREFIX = "/debug/pprof/"
DEFAULT_PORTS = {"http": 80, "https": 443}
#: Names net/http/pprof serves under its index (used to recognise a pasted profile address).
ENDPOINT_NAMES = frozenset({
    "allocs", "block", "cmdline", "goroutine", "goroutineleak", "heap", "mutex", "profile",
    "symbol", "threadcreate", "trace",
})
#: Query parameters that belong to one pprof endpoint, not to the service: never forwarded.
PPROF_QUERY_KEYS = frozenset({"seconds", "debug", "gc"})


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str  # "http" | "https"
    host: str  # without brackets for IPv6
    port: int
    prefix: str  # path of the pprof index, ends with "/"
    #: Query parameters of the user's URL, sent with every request (some proxies
    #: authenticate with a token there); never written to reports or the manifest.
    extra_query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)
    #: ``seconds=`` of a pasted profile URL: the window the user asked pprof for (None: not given).
    window_s: float | None = field(default=None, compare=False)

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    @property
    def display(self) -> str:
        """The URL without credentials or query: safe to print and to save."""
        return f"{self.scheme}://{self.netloc}{self.prefix}"

    def request_path(self, endpoint: str, query: dict[str, str]) -> str:
        """Path and query of one request (the user's query parameters included)."""
        params = [*self.extra_query, *query.items()]
        qs = urlencode(params)
        return f"{self.prefix}{endpoint}" + (f"?{qs}" if qs else "")

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` names and loopback IP literals; no DNS lookup is made."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def parse_header(spec: str) -> tuple[str, str]:
    """``'Name: value'`` as given to ``--header``."""
    name, sep, value = spec.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name:
        raise UsageError(f"--header {spec!r}: expected 'Name: value'")
    if any(c in spec for c in "\r\n\0"):
        raise UsageError(f"--header {name!r}: control characters are not allowed")
    if any(c.isspace() or c in ':()<>@,;"/[]?={}' for c in name):
        raise UsageError(f"--header {name!r}: not a valid header name")
    return name, value


def parse_target(
    url: str,
    *,
    headers: list[str] | None = None,
    cacert: Path | None = None,
    insecure: bool = False,
) -> Target:
    """Build a Target from the command line; raises UsageError for unusable values."""
    text = url.strip()
    if not text:
        raise UsageError("empty URL")
    if (meant := did_you_mean(text)) is not None:
        raise UsageError(f"{url}: not a usable URL; did you mean {meant}?")
    if text.startswith(":"):
        text = "localhost" + text  # go tool pprof's ":6060": this machine
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UsageError(f"{url}: only http and https URLs are supported")
    try:
        host = parts.hostname
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise UsageError(f"{url}: {exc}") from None
    if not host:
        raise UsageError(f"{url}: no host name")
    if parts.port is None and (glued := _GLUED_PORT.match(host)):
        raise UsageError(f"{url}: not a usable URL; did you mean {glued[1]}:{glued[2]}?")
    query = parse_qsl(parts.query, keep_blank_values=True)
    window_s = _window_of(url, query)

    hdrs = [parse_header(h) for h in headers or ()]
    if parts.username is not None and not any(n.lower() == "authorization" for n, _ in hdrs):
        # Credentials in the URL become a header, so they never appear in a printed URL.
        userpass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        hdrs.append(("Authorization", "Basic " + base64.b64encode(userpass.encode()).decode()))

    if scheme == "https":
        ctx = _tls_context(cacert, insecure)
    elif cacert is not None or insecure:
        raise UsageError("--cacert and --insecure apply to https URLs only")
    else:
        ctx = None

    return Target(
        scheme=scheme,
        host=host,
        port=port,
        prefix=pprof_prefix(parts.path),
        extra_query=tuple((k, v) for k, v in query if k not in PPROF_QUERY_KEYS),
        headers=tuple(hdrs),
        ssl_context=ctx,
        window_s=window_s,
    )


def _window_of(url: str, query: list[tuple[str, str]]) -> float | None:
    """The ``seconds=`` of a pasted profile URL (``.../profile?seconds=30``), if any."""
    values = [v for k, v in query if k == "seconds"]
    if not values:
        return None
    try:
        seconds = float(values[-1])
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise UsageError(f"{url}: seconds={values[-1]}: not a number of seconds")
    return seconds


#: ``localhost6060``: a port glued to the name (a missing colon).
_GLUED_PORT = re.compile(r"(?i)^(localhost)(\d{2,5})$")
#: A scheme-like word and what follows it, for URLs whose ``://`` is mistyped.
_SCHEME_LIKE = re.compile(r"(?i)^([a-z]{2,6})(:/{0,3}|/{1,3})(?=[^/:\d])(.*)$")


def did_you_mean(text: str) -> str | None:
    """The URL ``text`` probably meant, when it looks like a mistyped one; else None.

    Only near-misses of ``http``/``https`` count (``htp://``, ``http//``, ``https:/``): a
    host name such as ``ftp`` or ``web01`` is left alone.
    """
    if text.isdigit():
        return f":{text} (this machine, port {text})"
    m = _SCHEME_LIKE.match(text)
    if m is None:
        return None
    word, sep, rest = m[1].lower(), m[2], m[3]
    scheme = _near_scheme(word)
    if scheme is None or (word == scheme and sep == "://"):
        return None
    return f"{scheme}://{rest}"


def _near_scheme(word: str) -> str | None:
    """``http`` or ``https`` when ``word`` is one of them or one edit away (a tie goes to https if it has an s)."""
    near = sorted((_distance(word, scheme), scheme != ("https" if "s" in word else "http"), scheme)
                  for scheme in ("http", "https"))
    distance, _, scheme = near[0]
    return scheme if distance <= 1 else None


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) between two short words."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            best = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, prev2[j - 2] + 1)
            cur.append(best)
        prev2, prev = prev, cur
    return prev[-1]


def pprof_prefix(path: str) -> str:
    """The pprof index path for the path part of a user's URL."""
    if path in ("", "/"):
        return DEFAULT_PREFIX
    marker = DEFAULT_PREFIX.rstrip("/")
    at = path.find(marker)
    if at >= 0:
        return path[: at + len(marker)] + "/"
    # A custom mount point; a pasted profile address keeps only its folder.
    if path.endswith("/"):
        return path
    folder, _, last = path.rpartition("/")
    return folder + "/" if last in ENDPOINT_NAMES else path + "/"


def _tls_context(cacert: Path | None, insecure: bool) -> ssl.SSLContext:
    if insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    try:
        return ssl.create_default_context(cafile=str(cacert) if cacert else None)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"--cacert {cacert}: {getattr(exc, 'strerror', None) or exc}") from None
