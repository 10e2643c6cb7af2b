"""Fetch a web page for ``/add URL``: http(s) only, a total timeout and a size limit."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from index.ingest import safe_filename

__all__ = ["FetchError", "Fetched", "check_public", "fetch_url", "filename_for_url"]

_SUFFIX_BY_TYPE = {
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "application/json": ".json",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
}
_USER_AGENT = "article-qa-bot/0.1 (+https://github.com/; fetches one page on an admin's request)"


class FetchError(Exception):
    """The page could not be fetched; the message is one phrase for the admin."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched page: its final URL (after redirects), bytes and the file suffix they call for."""

    url: str
    data: bytes
    suffix: str


def check_url(url: str) -> str:
    """The URL stripped, or FetchError when it is not an absolute http(s) URL."""
    url = url.strip().strip("<>")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError("only http:// and https:// URLs can be added")
    return url


async def check_public(request: httpx.Request) -> None:
    """Refuse a request (the first or a redirect) to a private, loopback or link-local address.

    An admin's ``/add URL`` must not become a way to read the bot's own network (cloud
    metadata at 169.254.169.254, services on localhost). The check resolves the host as the
    connection will; a DNS answer that changes in between is not covered.
    """
    host = request.url.host
    port = request.url.port or (443 if request.url.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchError(f"cannot resolve {host}") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise FetchError(
                f"{host} is a private address ({address}); FETCH_PRIVATE_ADDRESSES=true allows it"
            )


async def fetch_url(
    url: str, timeout: float, max_bytes: int, allow_private: bool = False
) -> Fetched:
    """GET ``url`` (redirects followed) within ``timeout`` seconds and ``max_bytes`` bytes.

    Private, loopback and link-local addresses are refused unless ``allow_private``.
    """
    url = check_url(url)
    hooks = {} if allow_private else {"request": [check_public]}
    try:
        async with asyncio.timeout(timeout):
            async with (
                httpx.AsyncClient(
                    follow_redirects=True,
                    timeout=timeout,
                    headers={"User-Agent": _USER_AGENT},
                    max_redirects=5,
                    event_hooks=hooks,
                ) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code >= 400:
                    raise FetchError(f"the server answered HTTP {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(f"the page is larger than {max_bytes // 1000} KB")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"the page is larger than {max_bytes // 1000} KB")
                    chunks.append(chunk)
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
                final = str(response.url)
    except TimeoutError as exc:
        raise FetchError(f"no complete answer within {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise FetchError(_describe(exc)) from exc
    suffix = _SUFFIX_BY_TYPE.get(content_type.lower(), ".html")
    return Fetched(final, b"".join(chunks), suffix)


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect to the server"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "only http:// and https:// URLs can be added"
    return f"network error ({type(exc).__name__})"


def filename_for_url(url: str, suffix: str) -> str:
    """A file name for a page: host and path, made safe (``example.org-news-item.json``)."""
    parts = urlsplit(url)
    path = re.sub(r"\.(html?|php|aspx?|txt|md|json)$", "", parts.path.strip("/"), flags=re.I)
    stem = "-".join(p for p in [parts.hostname or "page", *path.split("/")] if p)
    return safe_filename(stem.replace(".", "-") + suffix, default_ext=suffix)
