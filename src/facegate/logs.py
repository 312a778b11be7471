"""Structured logs for the service: one JSON object a line, each with the request's id.

What a line may hold is decided here, not by each caller: the time, level, logger, message
and the fields of :data:`FIELDS`. A log is kept and shipped to places the data itself never
goes, so nothing personal is written: no client address, no access code, header, query
string or raw path (routes are logged by their template, ``/v1/deployments/{id}``), no
subject reference. Callers pass extra fields with ``extra={...}``; fields not in
:data:`FIELDS` are dropped, so a careless ``extra`` cannot leak a person's data.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Final, Literal

__all__ = ["FIELDS", "JsonFormatter", "configure", "request_id"]

#: the request being served by this task or thread ("" outside a request)
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

#: extra fields a log line may carry; anything else passed in ``extra`` is dropped
FIELDS: Final = frozenset(
    {"method", "route", "status", "duration_ms", "event", "deployment_id", "error", "bytes"}
)


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """A line of JSON per record: ``ts``, ``level``, ``logger``, ``msg``, ``request_id``,
    the allowed extra fields, and for an exception its type only (a traceback can quote
    the values a request carried)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", "") or request_id.get()
        if rid:
            line["request_id"] = rid
        for name in FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(fmt: Literal["json", "text"] = "json", *, level: int = logging.INFO) -> None:
    """Send facegate's and uvicorn's logs to stderr in ``fmt``; replaces their handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestId())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    for name in ("facegate", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    # uvicorn's access log writes the client address and the query string: ours replaces it
    logging.getLogger("uvicorn.access").disabled = True
