"""The service to diagnose: where its net/http/pprof handlers are and how to reach them.

URLs are accepted the way ``go tool pprof`` users type them: ``host:port``,
``http://host:port``, ``http://host:port/debug/pprof/`` or even the address of one
profile (``.../debug/pprof/heap``). A path that is neither empty nor under
``/debug/pprof/`` is taken as a custom mount point of the pprof handlers.
"""

from __future__ import annotations

import base64
import ipaddress
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
        extra_query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
        headers=tuple(hdrs),
        ssl_context=ctx,
    )


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
