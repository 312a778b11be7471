"""Apply the change feed, in order, to this process's galleries.

Each process (API worker, host, CLI) keeps the position of the last feed row it applied, and
:meth:`Follower.catch_up` applies the rows after it: an added template is read from the store
and opened with the keyring exactly as a gallery load opens it (the feed holds ids only); a
removal removes; a key change or a deployment's end drops the gallery, which the next search
loads again from the store. Only galleries this process has loaded are touched: one not loaded
yet is read whole from the store when first searched, and so already holds every change
committed before that.

Applying is idempotent (adding a present template or removing an absent one changes nothing),
and an add reads the store, so a change applied twice, or an add of a template deleted since,
is harmless. Who calls ``catch_up``: every flow after its commit (read-your-writes), every
``identify`` before it searches (nothing committed before a search is missed), and the
background thread of ``facegate serve`` when PostgreSQL notifies or the poll period ends.

A gap below the first row read (the rows were pruned while this process was not looking, see
:func:`prune`) cannot be replayed: every gallery is dropped and reloaded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, select

from facegate.storage import tables as t
from facegate.sync import feed

if TYPE_CHECKING:
    from facegate.core import Core

__all__ = ["Follower", "prune"]

#: feed rows read per query
_PAGE: Final = 2000

log = logging.getLogger("facegate.sync")


class Follower:
    def __init__(self, core: Core) -> None:
        self._core = core
        self.core = core
        self._lock = threading.Lock()
        with core.db.read() as s:
            #: the id of the last feed row applied (or reflected by every later gallery load)
            self.position: int = s.scalar(select(t.ChangeFeedState.last)) or 0
        self.applied = 0

    def catch_up(self) -> int:
        """Apply every feed row committed after :attr:`position`; returns how many."""
        with self._lock:
            done = 0
            while True:
                with self._core.db.read() as s:
                    rows = (
                        s.execute(
                            select(t.ChangeFeed)
                            .where(t.ChangeFeed.id > self.position)
                            .order_by(t.ChangeFeed.id)
                            .limit(_PAGE)
                        )
                        .scalars()
                        .all()
                    )
                if not rows:
                    return done
                if rows[0].id != self.position + 1:
                    log.warning(
                        "change feed rows %d..%d were pruned before this process applied "
                        "them: reloading every gallery",
                        self.position + 1,
                        rows[0].id - 1,
                    )
                    self._core.galleries.drop_all()
                self._apply(rows)
                self.position = rows[-1].id
                self.applied += len(rows)
                done += len(rows)

    def _apply(self, rows: Sequence[t.ChangeFeed]) -> None:
        adds: dict[str, list[str]] = {}
        for row in rows:
            if row.kind == feed.TEMPLATE_ADDED:
                adds.setdefault(row.deployment_id, []).extend(row.template_ids or ())
                continue
            self._add(adds)  # in feed order: earlier adds before this change
            adds = {}
            galleries = self._core.galleries
            if row.kind == feed.TEMPLATES_REMOVED:
                galleries.remove_templates(row.deployment_id, row.template_ids or ())
            elif row.kind == feed.SUBJECT_REMOVED and row.subject_id:
                galleries.remove_subject(row.deployment_id, row.subject_id)
            elif row.kind in (feed.KEY_CHANGED, feed.DEPLOYMENT_ENDED):
                galleries.drop(row.deployment_id)
        self._add(adds)

    def _add(self, adds: dict[str, list[str]]) -> None:
        for deployment_id, template_ids in adds.items():
            gallery = self._core.galleries.loaded(deployment_id)
            if gallery is None:
                continue  # loaded whole from the store when first searched
            key_id, opened = open_templates(self._core, deployment_id, template_ids)
            if key_id != gallery.key_id:  # loaded under a key revoked since: reload
                self._core.galleries.drop(deployment_id)
                continue
            for template_id, subject_id, template in opened:
                self._core.galleries.add(deployment_id, template_id, subject_id, template)


def open_templates(
    core: Core, deployment_id: str, template_ids: Sequence[str]
) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The deployment's key id and the listed templates that still exist, opened as a gallery
    load opens them (expired ones and those of shredded people stay shut)."""
    now = core.clock()
    with core.db.read() as s:
        dep = s.get(t.Deployment, deployment_id)
        if dep is None:
            return "", []
        s.expunge(dep)
        rows: list[Any] = list(
            s.execute(
                select(t.Template.id, t.Template.subject_id, t.Template.sealed).where(
                    t.Template.id.in_(list(template_ids)),
                    t.Template.deployment_id == deployment_id,
                    t.Template.expires_at > now,
                )
            ).all()
        )
    if not rows or dep.status == "ended":
        return dep.key_id, []
    protector = core.keyring.protector(dep)
    data_keys = core.keyring.data_keys(dep, list({r.subject_id: None for r in rows}))
    live = [
        (sealed, subject_id, template_id, data_keys[subject_id])
        for template_id, subject_id, sealed in rows
        if subject_id in data_keys
    ]
    opened = protector.open_many(live)
    return dep.key_id, [(r[2], r[1], o) for r, o in zip(live, opened, strict=True)]


def prune(core: Core, *, keep: timedelta = timedelta(days=1), now: datetime | None = None) -> int:
    """Delete feed rows older than ``keep`` (a process further behind than that reloads its
    galleries, see :meth:`Follower.catch_up`); returns how many."""
    cutoff = (now or core.clock()) - keep
    with core.db.transaction() as s:
        newest = s.scalar(select(t.ChangeFeedState.last)) or 0
        gone = s.execute(
            delete(t.ChangeFeed).where(t.ChangeFeed.created_at < cutoff, t.ChangeFeed.id < newest)
        )
        return int(getattr(gone, "rowcount", 0) or 0)
