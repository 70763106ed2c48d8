"""Prometheus metrics of one service process (`GET /metrics`, docs/operations.md).

Each app has its own registry (tests build several apps in one process). Requests are
counted by route template, never by raw path, so that a client probing random paths
cannot grow the label set; the projector's position and lag are read from the store
when a scrape asks for them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from service.application import Tracker
from service.readmodel import partitions
from service.readmodel.view import ReadModelRecorder

log = logging.getLogger("wht")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "unmatched"  # the route label of a request no route takes
# Seconds: most reads take milliseconds; a batch of 1,000 events or a rebuild-sized
# audit replay takes seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ProjectorCollector(Collector):
    """The store's latest notification, the read model's position and the lag between."""

    def __init__(self, tracker: Tracker, read_model: ReadModelRecorder) -> None:
        self.tracker = tracker
        self.read_model = read_model

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("wht_store_up", "1 when the store answered this scrape's query.")
        try:
            latest = self.tracker.recorder.max_notification_id() or 0
            # The slowest partition's position (`service.readmodel.partitions`).
            position = partitions.position(self.read_model, self.tracker.name)
        except Exception as error:  # any storage failure: report it, never fail the scrape
            log.warning("metrics: the store did not answer: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "wht_store_position", "The last notification id in the store.", value=latest
        )
        yield GaugeMetricFamily(
            "wht_projector_position",
            "The last notification id the regulator's read model has applied.",
            value=position,
        )
        yield GaugeMetricFamily(
            "wht_projector_lag_events",
            "Events stored but not yet applied to the read model (GET /readyz limit: "
            "WHT_READY_MAX_LAG).",
            value=max(latest - position, 0),
        )


class Metrics:
    """The counters and histograms one app keeps, and the text a scrape answers."""

    def __init__(self, tracker: Tracker, read_model: ReadModelRecorder) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "wht_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "wht_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "wht_events_ingested",
            "Events stored by this process (repeats of an event_id are not counted), by type.",
            ["type"],
            registry=self.registry,
        )
        self.findings = Counter(
            "wht_findings_raised",
            "Findings the events stored by this process added (receipts' findings), by code.",
            ["code"],
            registry=self.registry,
        )
        self.registry.register(ProjectorCollector(tracker, read_model))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def ingested(self, receipts: Iterable[tuple[str, int, dict[str, Any]]]) -> None:
        """Count (event type, receipt status, receipt body) of stored events: 201 only."""
        for event_type, status, body in receipts:
            if status != 201:
                continue
            self.events.labels(event_type).inc()
            for finding in body.get("findings", []):
                self.findings.labels(str(finding.get("code", "unknown"))).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
