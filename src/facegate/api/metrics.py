"""Prometheus metrics at ``GET /metrics`` (text exposition format).

* requests and their latency per route template and status (:mod:`facegate.api.observe`);
* decisions (verify, identify, reviews: match / no_match / unknown / pending ...) and policy
  refusals by rule id, counted from the ledger events this process commits, so they agree
  with the ledger and no flow has to remember to count;
* gallery sizes (stored templates per deployment) and the ledger's size, read from the
  database when scraped, so every process reports the shared truth;
* witness lag, a gauge the regulator link sets (:func:`for_gate`).

Counters are per process, as Prometheus expects; labels hold ids of deployments and rules,
never anything about a person.
"""

from __future__ import annotations

import json
import weakref
from collections import Counter as Tally
from collections.abc import Iterator
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event, func, select

from facegate.storage import tables as t

__all__ = ["Metrics", "for_gate", "router"]

_DECISION_KINDS: Final = frozenset({"verify", "identify", "identify.reviewed"})
_DENIED: Final = "policy.denied"
_LEDGER_INSERT: Final = "INSERT INTO ledger_entries"
_PENDING: Final = "facegate_ledger_pending"

_BY_GATE: weakref.WeakKeyDictionary[Any, Metrics] = weakref.WeakKeyDictionary()

router = APIRouter(tags=["meta"])


class Metrics:
    """One registry per app: apps (in tests, several per process) never collide."""

    def __init__(self, gate: Any) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "facegate_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "facegate_http_request_duration_seconds",
            "time to answer",
            ["method", "route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.decisions = Counter(
            "facegate_decisions",
            "recognition decisions recorded",
            ["act", "decision"],
            registry=r,
        )
        self.refusals = Counter(
            "facegate_policy_refusals",
            "acts refused by a legal rule",
            ["rule_id", "act"],
            registry=r,
        )
        self.witness_lag = Gauge(
            "facegate_witness_lag_entries",
            "ledger entries not yet covered by a witness cosignature (set by the regulator link)",
            registry=r,
        )
        r.register(_StoreCollector(gate))
        _count_committed_events(gate.db.engine, self)
        _BY_GATE[gate] = self

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def for_gate(gate: Any) -> Metrics | None:
    """The metrics of the app serving ``gate`` (e.g. to set the witness lag), if any."""
    return _BY_GATE.get(gate)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    found: Metrics = request.app.state.metrics
    return Response(found.exposition(), media_type=CONTENT_TYPE_LATEST)


class _StoreCollector(Collector):
    """Gallery and ledger sizes, read from the shared database at scrape time."""

    def __init__(self, gate: Any) -> None:
        self._gate = weakref.ref(gate)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gate = self._gate()
        if gate is None:
            return
        gallery = GaugeMetricFamily(
            "facegate_gallery_templates", "stored templates per deployment", labels=["deployment"]
        )
        with gate.db.read() as s:
            rows = s.execute(
                select(t.Template.deployment_id, func.count()).group_by(t.Template.deployment_id)
            ).all()
            size = s.scalar(select(t.LedgerState.size).where(t.LedgerState.id == 1)) or 0
        for dep, n in rows:
            gallery.add_metric([dep], n)
        yield gallery
        yield GaugeMetricFamily("facegate_ledger_entries", "entries in the ledger", value=size)


def _count_committed_events(engine: Engine, metrics: Metrics) -> None:
    """Count decisions and refusals from ledger rows this process writes, once committed
    (a rolled-back transaction counts nothing)."""

    @event.listens_for(engine, "after_cursor_execute")
    def _seen(conn: Any, _cur: Any, stmt: str, params: Any, _ctx: Any, many: bool) -> None:
        if stmt.startswith(_LEDGER_INSERT):
            if many:
                rows = params
            elif type(params) is tuple and params and type(params[0]) is list:
                rows = list(zip(*params, strict=True))  # one array a column (PostgreSQL)
            else:
                rows = [params]
            conn.info.setdefault(_PENDING, []).extend(rows)

    @event.listens_for(engine, "commit")
    def _commit(conn: Any) -> None:
        for row in conn.info.pop(_PENDING, ()):
            _tally(metrics, row)

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Any) -> None:
        conn.info.pop(_PENDING, None)


def _tally(metrics: Metrics, row: Any) -> None:
    # rows are (idx, event_id, kind, data, leaf_hash, deployment, subject): see ledger/store
    kind, data = row[2], row[3]
    if kind not in _DECISION_KINDS and kind != _DENIED:
        return
    try:
        leaf = json.loads(bytes(data))
    except ValueError:  # pragma: no cover - leaves are canonical JSON
        return
    details = leaf.get("details") or {}
    if kind == _DENIED:
        act = str(details.get("act", "unknown"))
        for rule in Tally(leaf.get("rules") or ["unknown"]):
            metrics.refusals.labels(rule_id=str(rule), act=act).inc()
        metrics.decisions.labels(act=act, decision="refused").inc()
    else:
        metrics.decisions.labels(act=kind, decision=str(details.get("decision", "recorded"))).inc()
