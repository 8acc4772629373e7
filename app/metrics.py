"""Prometheus metrics, one registry per app (so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
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
