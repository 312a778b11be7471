"""The link's background task inside ``facegate serve``: push checkpoints, fetch orders.

Started from the app's lifespan (:func:`start`). Every ``poll_s`` of each link it pushes the
latest checkpoint when the log has grown (or half the agreed interval has passed, so the
witness stays fresh) and fetches new orders. A regulator that cannot be reached or refuses
is logged and kept in the link's ``last_error``; the loop never stops the service.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from facegate.errors import FacegateError
from facegate.regulator.link import client_for
from facegate.regulator.link_orders import fetch_orders
from facegate.regulator.link_push import PushResult, push_checkpoint
from facegate.storage import tables as t
from facegate.transfers.alerts import deliver_waiting

if TYPE_CHECKING:
    from facegate.core import Core
    from facegate.gate import Gate

__all__ = ["follow", "run_once", "start"]

_log = logging.getLogger("facegate.regulator.link")
#: how often a process with no link looks again for one registered meanwhile (seconds)
IDLE_POLL = 5.0


def run_once(core: Core, *, force: bool = False) -> dict[str, PushResult | str]:
    """One round over every link: push, then fetch orders. Returns the outcome per URL."""
    with core.db.read() as s:
        links = list(s.scalars(select(t.RegulatorLink).order_by(t.RegulatorLink.created_at)))
    out: dict[str, PushResult | str] = {}
    for link in links:
        with client_for(core, link) as client:
            try:
                out[link.url] = push_checkpoint(core, link.id, client, force=force)
                fetch_orders(core, url=link.url, client=client)
                deliver_waiting(core, url=link.url, client=client)
            except FacegateError as err:
                out[link.url] = err.message
                _remember(core, link.id, err.message)
    return out


def _remember(core: Core, link_id: str, message: str) -> None:
    with core.db.transaction() as s:
        link = s.get(t.RegulatorLink, link_id)
        if link is not None and not link.last_error.startswith("alarm:"):
            link.last_error = message[:2000]


def _period(core: Core) -> float:
    with core.db.read() as s:
        polls = list(s.scalars(select(t.RegulatorLink.poll_s)))
    return min(polls) if polls else IDLE_POLL


async def _loop(gate: Gate) -> None:
    core = gate.core
    while True:
        try:
            await asyncio.to_thread(run_once, core)
            period = await asyncio.to_thread(_period, core)
        except Exception:  # the link must never take the service down; it retries
            _log.exception("regulator link round failed")
            period = IDLE_POLL
        await asyncio.sleep(period)


def start(gate: Gate) -> asyncio.Task[None]:
    """Start the link's loop on the running event loop; cancel the task to stop it."""
    task = asyncio.create_task(_loop(gate), name="facegate-regulator-link")
    task.add_done_callback(_quiet)
    return task


def _quiet(task: asyncio.Task[None]) -> None:
    with suppress(asyncio.CancelledError):
        if task.exception() is not None:  # pragma: no cover - _loop catches everything
            _log.error("regulator link stopped: %s", task.exception())


def follow(companion: asyncio.Task[Any], gate: Gate) -> asyncio.Task[None]:
    """Start the link's loop and stop it when ``companion`` (the app's retention sweeper,
    cancelled at shutdown) ends: one line in the app's lifespan starts and stops it."""
    task = start(gate)
    companion.add_done_callback(lambda _done: task.cancel())
    return task
