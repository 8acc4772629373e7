"""Prometheus metrics, one registry per app (so tests can build many apps)."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import cast

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client import metrics as prometheus_metrics
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import INF, floatToGoString

REQUESTS_NAME = "http_requests"
REQUESTS_HELP = "HTTP requests by route template, method and status."
LATENCY_NAME = "http_request_duration_seconds"
LATENCY_HELP = "HTTP request latency by route template."
# How prometheus_client writes a bucket's bound ("0.0025", "+Inf"); the library is untyped.
_bound_label = cast(Callable[[float], str], floatToGoString)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = RequestMetrics(self.registry)
        self.webhook_events = Counter(
            "payment_webhook_events_total",
            "Verified payment webhook events by provider and outcome.",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.orders = Gauge(
            "orders",
            "Orders by state (read from the database at scrape time).",
            ["state"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "outbox_backlog",
            "Outbox messages not delivered yet (read at scrape time).",
            registry=self.registry,
        )
        self.quotes = Counter(
            "quotes_created_total",
            "Quotes created, by outcome (ok, blocked).",
            ["outcome"],
            registry=self.registry,
        )
        self.quote_mailboxes = Counter(
            "quote_mailboxes_total",
            "New quotes by where their mailboxes came from: memory (this process's, found "
            "unchanged), read (not remembered), read_again (remembered but changed).",
            ["source"],
            registry=self.registry,
        )
        self.orders_from_memory = Counter(
            "orders_from_memory_total",
            "Customers' orders placed from this process's memory of their quote: written in "
            "one statement, or read_again (something had moved, or the memory refused it).",
            ["outcome"],
            registry=self.registry,
        )
        self.payments_from_memory = Counter(
            "payments_from_memory_total",
            "Payments applied from this process's memory of the order they pay: written in "
            "one statement, or read_again (something had moved since the order).",
            ["outcome"],
            registry=self.registry,
        )
        self.grouped_writes = Counter(
            "database_grouped_writes_total",
            "Writes sent through the group commit (app/db/group_commit.py).",
            registry=self.registry,
        )
        self.write_groups = Counter(
            "database_write_groups_total",
            "Groups the group commit sent (one connection each): writes / groups is the "
            "mean group size.",
            registry=self.registry,
        )
        # Labelled children found once: labels() takes a lock and checks its values, on the
        # hottest paths of the API (the values are few: outcomes, providers).
        self._children: dict[tuple[Counter, tuple[str, ...]], Counter] = {}
        self.rate_limited = Counter(
            "rate_limited_total",
            "Requests answered 429, by limit (quotes, orders, sandbox, webhooks, failed_auth).",
            ["limit"],
            registry=self.registry,
        )
        self.rate_limit_store_errors = Counter(
            "rate_limit_store_errors_total",
            "Rate-limit counters that could not be reached: requests served unlimited.",
            registry=self.registry,
        )

    def count_write_group(self, writes: int) -> None:
        self.write_groups.inc()
        self.grouped_writes.inc(writes)

    def count_order_from_memory(self, outcome: str) -> None:
        self._child(self.orders_from_memory, outcome).inc()

    def count_payment_from_memory(self, outcome: str) -> None:
        self._child(self.payments_from_memory, outcome).inc()

    def count_new_quote(self, status: str, mailboxes_from: str) -> None:
        """One new quote (not a replay): by status, and by where its mailboxes came from."""
        self._child(self.quotes, status).inc()
        self._child(self.quote_mailboxes, mailboxes_from).inc()

    def count_webhook_event(self, provider: str, outcome: str) -> None:
        """One verified payment event: by provider, and by what became of it."""
        self._child(self.webhook_events, provider, outcome).inc()

    def _child(self, counter: Counter, *values: str) -> Counter:
        child = self._children.get((counter, values))
        if child is None:
            child = self._children[(counter, values)] = counter.labels(*values)
        return child


class _Count:
    __slots__ = ("created", "value")

    def __init__(self) -> None:
        self.value = 0
        self.created = time.time()


class _Latency:
    __slots__ = ("buckets", "created", "total")

    def __init__(self, bucket_count: int) -> None:
        self.buckets = [0] * bucket_count  # per bucket, not cumulative
        self.total = 0.0
        self.created = time.time()


class RequestMetrics:
    """http_requests_total{route,method,status} and http_request_duration_seconds{route}.

    Exposed sample for sample as prometheus_client's Counter and Histogram would (their
    `_created` series included), but kept in plain numbers: every request adds to both, and
    the library's way costs a label lookup and three locked increments per request (issue 10:
    a tenth of what our middleware added to the trivial endpoint). Only the event loop's
    thread records, so nothing needs a lock; a scrape reads whole numbers.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._bounds = (*LATENCY_BUCKETS, INF)
        self._counts: dict[tuple[str, str, int], _Count] = {}
        self._latencies: dict[str, _Latency] = {}
        registry.register(self)

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered request: `route` is its template, never a raw path."""
        count = self._counts.get((route, method, status))
        if count is None:
            count = self._counts[(route, method, status)] = _Count()
        count.value += 1
        latency = self._latencies.get(route)
        if latency is None:
            latency = self._latencies[route] = _Latency(len(self._bounds))
        # The first bucket whose upper bound is >= seconds, as Histogram.observe picks it.
        latency.buckets[bisect_left(self._bounds, seconds)] += 1
        latency.total += seconds

    def describe(self) -> Iterable[Metric]:
        return [
            Metric(REQUESTS_NAME, REQUESTS_HELP, "counter"),
            Metric(LATENCY_NAME, LATENCY_HELP, "histogram"),
        ]

    def collect(self) -> Iterable[Metric]:
        with_created = bool(getattr(prometheus_metrics, "_use_created", True))
        requests = Metric(REQUESTS_NAME, REQUESTS_HELP, "counter")
        for (route, method, status), count in list(self._counts.items()):
            labels = {"route": route, "method": method, "status": str(status)}
            requests.add_sample(f"{REQUESTS_NAME}_total", labels, float(count.value))
            if with_created:
                requests.add_sample(f"{REQUESTS_NAME}_created", labels, count.created)
        latencies = Metric(LATENCY_NAME, LATENCY_HELP, "histogram")
        bounds = [_bound_label(bound) for bound in self._bounds]
        for route, latency in list(self._latencies.items()):
            cumulative = 0.0
            for bound, in_bucket in zip(bounds, latency.buckets, strict=True):
                cumulative += in_bucket
                latencies.add_sample(
                    f"{LATENCY_NAME}_bucket", {"route": route, "le": bound}, cumulative
                )
            labels = {"route": route}
            latencies.add_sample(f"{LATENCY_NAME}_count", labels, cumulative)
            latencies.add_sample(f"{LATENCY_NAME}_sum", labels, latency.total)
            if with_created:
                latencies.add_sample(f"{LATENCY_NAME}_created", labels, latency.created)
        return [requests, latencies]
