"""/add URL's guard: no private, loopback or link-local address, first request or redirect."""

from __future__ import annotations

import httpx
import pytest

from index.fetch import FetchError, check_public, check_url, filename_for_url


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8080/x", "127.0.0.1"),
        ("http://localhost/", "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://10.1.2.3/", "10.1.2.3"),
        ("http://192.168.1.1/", "192.168.1.1"),
        ("http://[::1]/", "::1"),
    ],
)
async def test_private_addresses_are_refused(url: str, address: str) -> None:
    with pytest.raises(FetchError) as err:
        await check_public(httpx.Request("GET", url))
    assert f"is a private address ({address})" in str(err.value)


async def test_a_public_address_passes() -> None:
    await check_public(httpx.Request("GET", "http://93.184.215.14/page.html"))


async def test_an_unresolvable_host_is_named() -> None:
    with pytest.raises(FetchError, match=r"cannot resolve no-such-host\.invalid"):
        await check_public(httpx.Request("GET", "http://no-such-host.invalid/"))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/a", "javascript:1", ""])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(FetchError, match="only http:// and https:// URLs can be added"):
        check_url(url)


def test_file_names_for_urls_are_safe() -> None:
    assert filename_for_url("https://example.org/news/a.html", ".html") == "example-org-news-a.html"
    assert "/" not in filename_for_url("https://example.org/../../etc/passwd", ".txt")
