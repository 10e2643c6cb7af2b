"""Memory of ``/add URL`` against a gzip bomb: 400 MB of zeros as ~400 KB of gzip, served as a
redirect's body and as a page, with MAX_UPLOAD_BYTES = 2 MB (the hardening review's case).

    python -m bench.fetch_bomb

Each case runs in a fresh process; it prints the process's peak resident memory (VmHWM) before
the fetch and after it, and what the fetch said.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import zlib

from aiohttp import web

from bench import memory_mb
from index.ingest.fetch import FetchError, fetch_url

BOMB_ZEROS = 400_000_000
LIMIT = 2_000_000


def _bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1_000_000)
    parts = [compressor.compress(zeros) for _ in range(BOMB_ZEROS // len(zeros))]
    return b"".join([*parts, compressor.flush()])


async def _run(case: str) -> None:
    bomb = _bomb()
    headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, body=bomb, headers={**headers, "Location": "/page"})

    async def page(request: web.Request) -> web.Response:
        if case == "page":
            return web.Response(body=bomb, headers=headers)
        return web.Response(
            text="<html><title>T</title><p>" + "Du texte. " * 50, content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/page", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    before = memory_mb()
    try:
        fetched = await fetch_url(
            f"http://127.0.0.1:{port}/redirect", timeout=30, max_bytes=LIMIT, allow_private=True
        )
        outcome = f"fetched {len(fetched.data)} bytes"
    except FetchError as exc:
        outcome = f"refused: {exc}"
    after = memory_mb()
    await runner.cleanup()
    print(f"| {case} | {len(bomb) / 1000:.0f} KB | {before:.0f} MB | {after:.0f} MB | {outcome} |")


def main() -> None:
    if len(sys.argv) > 1:
        asyncio.run(_run(sys.argv[1]))
        return
    print("| bomb in | compressed | peak before | peak after | outcome |")
    print("|---|---|---|---|---|")
    for case in ("redirect", "page"):
        subprocess.run([sys.executable, "-m", "bench.fetch_bomb", case], check=True)


if __name__ == "__main__":
    main()
