"""Prometheus metrics and ``/healthz`` for one running bot (METRICS_PORT).

One ``BotMetrics`` per bot, made by ``python -m bot`` and passed in (to the index as its
embedding observer, to ``build_application``): its own ``CollectorRegistry``, never the
module-global one, so that two bots in one process (tests) count apart.

The HTTP server runs in a thread of its own, started before the index is built or loaded:
``/healthz`` answers 503 while the bot is starting and 200 once ``mark_ready`` was called
(index and model loaded), which is what Caddy and Docker's HEALTHCHECK ask. It serves one
request at a time: a scrape reads the index's counts through this thread's own database
connection, and a thread per request would open (and keep) one connection per scrape.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import BaseServer
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    make_wsgi_app,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["BotMetrics", "MetricsServer", "serve_metrics"]

logger = logging.getLogger(__name__)

# An answer's seconds: a warm answer takes 0.1-0.5 s, a cold or loaded one several seconds.
ANSWER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
# One call of the model: a question ~10-50 ms, a batch of passages during a build longer.
EMBED_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REQUEST_TIMEOUT = 10.0  # seconds a client may take to send its request


class _IndexSize(Collector):
    """Articles and passages in the index, read at each scrape (replicas share the store)."""

    def __init__(self, counts: Callable[[], tuple[int, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterable[Metric]:
        try:
            articles, passages = self.counts()
        except Exception as exc:  # the database is down: the other metrics still go out
            logger.warning("metrics: the index's counts cannot be read: %s", exc)
            return []
        found = GaugeMetricFamily("qabot_index_articles", "Articles in the index.")
        found.add_metric([], articles)
        chunks = GaugeMetricFamily("qabot_index_passages", "Passages (chunks) in the index.")
        chunks.add_metric([], passages)
        return [found, chunks]

    def describe(self) -> Iterable[Metric]:
        return []  # collected only on a scrape, never when registered


class BotMetrics:
    """The metrics of one bot, in a registry of its own.

    >>> metrics = BotMetrics()
    >>> metrics.question("answer", "fr", 0.2)
    >>> metrics.registry.get_sample_value(
    ...     "qabot_questions_total", {"outcome": "answer", "language": "fr", "via": "chat"})
    1.0
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        # The process's memory, CPU and open files, Python's version and GC, as the default
        # registry would give them.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        registry.register(GC_COLLECTOR)
        self.questions = Counter(
            "qabot_questions",
            "Questions searched, by outcome (answer, closest, declined, error), reply language "
            "and way of asking (chat, inline).",
            ["outcome", "language", "via"],
            registry=registry,
        )
        self.answer_seconds = Histogram(
            "qabot_answer_seconds",
            "Seconds from a question to its answer sent (search included).",
            ["via"],
            buckets=ANSWER_BUCKETS,
            registry=registry,
        )
        self.embedding_seconds = Histogram(
            "qabot_embedding_seconds",
            "Seconds of one call of the embedding model (query: a question; passage: a batch "
            "of a build or an addition).",
            ["kind"],
            buckets=EMBED_BUCKETS,
            registry=registry,
        )
        self.changes_queue = Gauge(
            "qabot_changes_queue",
            "Changes to the collection (/add, /remove, /reindex, feeds) running or waiting.",
            registry=registry,
        )
        self.feed_polls = Counter(
            "qabot_feed_polls", "Polls of a feed, by feed id.", ["feed"], registry=registry
        )
        self.feed_errors = Counter(
            "qabot_feed_errors",
            "Polls of a feed that failed (unreachable, not a feed...), by feed id.",
            ["feed"],
            registry=registry,
        )
        self.feed_articles = Counter(
            "qabot_feed_articles_added",
            "Articles a feed added, by feed id.",
            ["feed"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "qabot_rate_limited",
            "Requests refused by the per-reader rate limit (warned: the reader is told, once "
            "per episode; silent: the requests after it).",
            ["verdict"],
            registry=registry,
        )
        self.ready_gauge = Gauge(
            "qabot_ready", "1 once the index and the model are loaded.", registry=registry
        )
        self._ready = threading.Event()

    # -- what the bot reports -------------------------------------------------------------------

    def question(self, outcome: str, language: str, seconds: float, via: str = "chat") -> None:
        """One question searched and answered (or declined) in ``seconds``."""
        self.questions.labels(outcome, language, via).inc()
        self.answer_seconds.labels(via).observe(seconds)

    def embedded(self, kind: str, seconds: float) -> None:
        """One call of the model (``kind``: "query" or "passage"); the index's observer."""
        self.embedding_seconds.labels(kind).observe(seconds)

    def feed_polled(self, feed_id: str, failed: bool, added: int) -> None:
        """One poll of a feed: whether it failed and how many articles it added."""
        self.feed_polls.labels(feed_id).inc()
        if failed:
            self.feed_errors.labels(feed_id).inc()
        if added:
            self.feed_articles.labels(feed_id).inc(added)

    def refused(self, verdict: str) -> None:
        """One request over the rate limit (``verdict``: "warn" or "silent")."""
        self.rate_limited.labels("warned" if verdict == "warn" else "silent").inc()

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read the queue of changes' depth at each scrape."""
        self.changes_queue.set_function(lambda: float(depth()))

    def watch_index(self, counts: Callable[[], tuple[int, int]]) -> None:
        """Read (articles, passages) at each scrape."""
        self.registry.register(_IndexSize(counts))

    # -- readiness ------------------------------------------------------------------------------

    def mark_ready(self) -> None:
        """The index and the model are loaded: /healthz says 200 from now on."""
        self._ready.set()
        self.ready_gauge.set(1)

    @property
    def ready(self) -> bool:
        """Whether the index and the model are loaded."""
        return self._ready.is_set()


# ------------------------------------------------------------------------------ the server


class _QuietHandler(WSGIRequestHandler):
    """No line per request on stderr (a scrape every 15 s would fill the log)."""

    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server6(WSGIServer):
    """METRICS_HOST=:: (an IPv6 address)."""

    address_family = socket.AF_INET6


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def metrics_app(metrics: BotMetrics) -> WsgiApp:
    """``/healthz`` (200 ready, 503 starting) and ``/metrics``; 404 for any other path."""
    scrape = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/healthz":
            ready = metrics.ready
            body = b"ok\n" if ready else b"starting\n"
            start_response(
                "200 OK" if ready else "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")],
            )
            return [body]
        if path == "/metrics":
            result: Iterable[bytes] = scrape(environ, start_response)
            return result
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found: /metrics or /healthz\n"]

    return app


@dataclass
class MetricsServer:
    """The running server; ``close`` stops it."""

    server: BaseServer
    thread: threading.Thread
    host: str
    port: int

    def close(self) -> None:
        """Stop serving and wait for the server's thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_metrics(metrics: BotMetrics, host: str, port: int) -> MetricsServer:
    """Serve ``/metrics`` and ``/healthz`` on ``host:port`` from a daemon thread.

    Raises:
        OSError: the port cannot be bound (in use, or a privileged port).
    """
    server_class = _Server6 if ":" in host else WSGIServer
    server = make_server(
        host, port, metrics_app(metrics), server_class=server_class, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    return MetricsServer(server, thread, host, server.server_address[1])
