"""The background half of the follower: apply the feed as soon as another process commits.

On PostgreSQL a thread LISTENs on :data:`facegate.sync.feed.CHANNEL` (psycopg, its own
autocommit connection) and catches up on every notification; the poll period bounds how late
a change can be when a notification is lost (a dropped connection, a listener started after
the NOTIFY): the thread catches up at least that often, so a missed notification costs one
period, never the change. On SQLite there is nothing to listen to and the thread polls.
Lost connections are re-opened after a pause; errors are logged, never raised.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

import psycopg
from sqlalchemy import Engine

from facegate.sync.feed import CHANNEL
from facegate.sync.follower import Follower, prune

__all__ = ["POLL_S", "FeedListener"]

#: the longest a change waits for a process that missed its notification (the stated bound
#: of docs/operations.md: under one second)
POLL_S: Final = 0.5

#: how often a listener deletes feed rows older than a day (see facegate.sync.follower.prune)
PRUNE_EVERY_S: Final = 3600.0

log = logging.getLogger("facegate.sync")


class FeedListener:
    """A daemon thread applying the feed to ``follower`` until :meth:`stop`."""

    def __init__(self, follower: Follower, engine: Engine, *, poll_s: float = POLL_S) -> None:
        self._follower = follower
        self._poll = poll_s
        self._stop = threading.Event()
        self._conninfo: str | None = None
        if engine.dialect.name == "postgresql":
            self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
                hide_password=False
            )
        self.notifications = 0
        self._next_prune = time.monotonic() + PRUNE_EVERY_S
        self._thread = threading.Thread(target=self._run, name="facegate-feed", daemon=True)

    def start(self) -> FeedListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._conninfo is None:
                    self._catch_up()
                    self._stop.wait(self._poll)
                else:
                    self._listen(self._conninfo)
            except Exception:  # the database went away: retry after a pause
                log.exception("change feed follower failed; retrying")
                self._stop.wait(max(self._poll, 1.0))

    def _listen(self, conninfo: str) -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self._catch_up()  # whatever was committed before the LISTEN took effect
            while not self._stop.is_set():
                for _ in conn.notifies(timeout=self._poll, stop_after=1):
                    self.notifications += 1
                self._catch_up()  # on a notification, or at the end of a poll period

    def _catch_up(self) -> None:
        if time.monotonic() >= self._next_prune:  # rows every process has long applied
            self._next_prune = time.monotonic() + PRUNE_EVERY_S
            prune(self._follower.core)
        applied = self._follower.catch_up()
        if applied:
            log.debug("applied %d gallery changes from the feed", applied)
