"""Fetch a web page for ``/add URL``: http(s) only, a total timeout and a size limit.

An admin's URL is the one input here that makes the bot reach out, so each rule below closes
a way to abuse it (issue 8's review reproduced every one):

- every hop (the first request and each redirect) is resolved once, refused when any of its
  addresses is private, loopback or link-local (unless ``allow_private``), and connected to
  the address that was checked: a resolver that answers a public address for the check and
  127.0.0.1 for the connection (DNS rebinding) cannot get an internal page fetched. TLS still
  checks the certificate against the host name;
- redirects are followed by hand and their bodies never read (a 398 KB gzip redirect body
  that expanded to 400 MB once took 825 MB of memory);
- ``max_bytes`` bounds the bytes after decompression, decoded here in bounded steps, since
  httpx decompresses a whole network chunk at once (64 KB of gzip can become 64 MB);
- system proxies are not used: the checked address must be the one connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from index.ingest.loader import safe_filename
from index.reasons import Reason, ReasonError

__all__ = [
    "FetchError",
    "Fetched",
    "Resolver",
    "check_addresses",
    "check_url",
    "fetch_url",
    "filename_for_url",
    "system_resolver",
    "usable_validator",
]

_SUFFIX_BY_TYPE = {
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "application/json": ".json",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
_USER_AGENT = "article-qa-bot/0.1 (+https://github.com/; fetches one page on an admin's request)"
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
MAX_VALIDATOR_CHARS = 1_000
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
# zlib's window bits for a zlib or gzip header, recognised by itself ("deflate" is zlib-wrapped).
_ZLIB_OR_GZIP = 32 + zlib.MAX_WBITS

# A host name and port to the addresses to try, in order.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class FetchError(ReasonError):
    """The page could not be fetched; ``reason`` says why."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched page: its final URL (after redirects), bytes and the file suffix they call for;
    ``status`` 304 (no bytes) when a conditional request found it unchanged, and the validators
    to send next time."""

    url: str
    data: bytes
    suffix: str
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None


def check_url(url: str) -> str:
    """The URL stripped, or FetchError when it is not an absolute http(s) URL."""
    url = url.strip().strip("<>")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:  # "http://[::1": an unclosed IPv6 bracket, a bad port
        raise FetchError(Reason("invalid_url")) from exc
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        raise FetchError(Reason("not_http"))
    return url


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host``, in its order."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchError(Reason("unresolved", {"host": host})) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_addresses(host: str, addresses: Iterable[str]) -> None:
    """FetchError unless every address is a public one (cloud metadata at 169.254.169.254 and
    services on localhost must stay out of an admin's reach)."""
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if not address.is_global:
            raise FetchError(Reason("private_address", {"host": host, "address": str(address)}))


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the addresses checked for each host, never to a fresh DNS answer."""

    def __init__(self) -> None:
        self.pins: dict[str, list[str]] = {}
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self.pins.get(host)
        if not addresses:  # only a host that was checked can be connected to
            raise httpcore.ConnectError(f"{host} was not checked")
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: _PinnedBackend) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool without a way to pass a network backend: swap in one that has
        # it, with the same TLS context (tests/index/ingest/test_fetch.py fails if this stops
        # pinning).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=self._pool._ssl_context, network_backend=backend
        )


async def fetch_url(
    url: str,
    timeout: float,
    max_bytes: int,
    *,
    allow_private: bool = False,
    resolve: Resolver = system_resolver,
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    """GET ``url`` (redirects followed) within ``timeout`` seconds and ``max_bytes`` bytes.

    Private, loopback and link-local addresses are refused unless ``allow_private``.
    ``headers`` are added to each request (a feed's ``If-None-Match``, ``If-Modified-Since``).
    """
    url = check_url(url)
    backend = _PinnedBackend()
    try:
        async with (
            asyncio.timeout(timeout),
            httpx.AsyncClient(
                transport=_PinnedTransport(backend),
                timeout=timeout,
                headers={
                    "User-Agent": _USER_AGENT,
                    "Accept-Encoding": "gzip, deflate",
                    **(headers or {}),
                },
            ) as client,
        ):
            for _ in range(MAX_REDIRECTS + 1):
                host, port = _origin(url)
                if host not in backend.pins:
                    addresses = await resolve(host, port)
                    if not addresses:
                        raise FetchError(Reason("unresolved", {"host": host}))
                    if not allow_private:
                        check_addresses(host, addresses)
                    backend.pins[host] = addresses
                async with client.stream("GET", url) as response:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECTS and location:
                        url = check_url(urljoin(url, location))
                        continue  # leaving the block closes the response, its body unread
                    return await _read(response, max_bytes)
            raise FetchError(Reason("too_many_redirects"))
    except TimeoutError as exc:
        raise FetchError(Reason("timeout", {"seconds": f"{timeout:g}"})) from exc
    except httpx.HTTPError as exc:
        raise FetchError(_describe(exc)) from exc


def usable_validator(value: str | None) -> str | None:
    """An ``ETag`` or ``Last-Modified`` that can be sent back, else None.

    A server in a French locale answers "mar., 01 déc. 2026 08:00:00 GMT": httpx refuses to
    send a header that is not ASCII, so such a value would make every later request fail.
    """
    if value and len(value) <= MAX_VALIDATOR_CHARS and _PRINTABLE_ASCII.fullmatch(value):
        return value
    return None


def _origin(url: str) -> tuple[str, int]:
    parts = httpx.URL(url)
    return parts.host, parts.port or (443 if parts.scheme == "https" else 80)


async def _read(response: httpx.Response, max_bytes: int) -> Fetched:
    """The body of a final answer, decompressed, refused as soon as it exceeds ``max_bytes``."""
    if response.status_code >= 400:
        raise FetchError(Reason("http_status", {"status": response.status_code}))
    validators = {
        "etag": usable_validator(response.headers.get("etag")),
        "last_modified": usable_validator(response.headers.get("last-modified")),
    }
    if response.status_code == 304:
        return Fetched(str(response.url), b"", "", 304, **validators)
    if response.status_code in _REDIRECTS:
        raise FetchError(Reason("redirect_without_location"))
    too_large = FetchError(Reason("page_too_large", {"kb": max_bytes // 1000}))
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    declared = response.headers.get("content-length", "")
    if encoding == "identity" and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in _decoded(response.aiter_raw(), encoding, max_bytes):
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    suffix = _SUFFIX_BY_TYPE.get(content_type, ".html")
    return Fetched(str(response.url), b"".join(chunks), suffix, response.status_code, **validators)


async def _decoded(raw: AsyncIterator[bytes], encoding: str, limit: int) -> AsyncIterator[bytes]:
    """The body's bytes after ``Content-Encoding``, never more than ``limit + 1`` at a time."""
    if encoding in ("", "identity"):
        async for chunk in raw:
            yield chunk
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(Reason("unsupported_compression", {"encoding": encoding[:40]}))
    decoder = zlib.decompressobj(_ZLIB_OR_GZIP)
    try:
        async for chunk in raw:
            data = chunk
            while data:
                out = decoder.decompress(data, limit + 1)
                yield out
                data = decoder.unconsumed_tail
            if decoder.eof:
                break
    except zlib.error as exc:
        raise FetchError(Reason("broken_compression", {"encoding": encoding})) from exc


def _describe(exc: httpx.HTTPError) -> Reason:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return Reason("cannot_connect")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return Reason("not_http")
    return Reason("network_error", {"kind": type(exc).__name__})


def filename_for_url(url: str, suffix: str) -> str:
    """A file name for a page: host and path, made safe (``example.org-news-item.json``)."""
    try:
        parts = urlsplit(url)
        host, path = parts.hostname or "page", parts.path
    except ValueError:  # not a URL after all (a feed entry's broken link)
        host, path = "page", url
    path = re.sub(r"\.(html?|php|aspx?|txt|md|json|pdf|docx)$", "", path.strip("/"), flags=re.I)
    stem = "-".join(p for p in [host, *path.split("/")] if p)
    return safe_filename(stem.replace(".", "-") + suffix, default_ext=suffix)
