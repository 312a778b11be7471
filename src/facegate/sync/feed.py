"""The change feed: what changed in a deployment's gallery, written with the change itself.

A flow notes a change inside its transaction (:func:`template_added`, :func:`subject_removed`
...); the rows are written when that transaction commits, numbered from the one
``change_feed_state`` row, whose lock the writer holds until its commit: feed ids are then in
commit order on every backend, and a follower that has applied id *n* has seen every change
committed before it. The numbering happens last, after the session's own flush, so that the
only lock a writer takes while holding the feed's is on rows nobody else can hold (its new feed
rows): taking it at commit can wait, never deadlock.

On PostgreSQL the same transaction sends ``NOTIFY facegate_changes`` with the newest id, which
PostgreSQL delivers on commit to every listening process (:mod:`facegate.sync.listen`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final, cast

from sqlalchemy import Table, event, insert, update
from sqlalchemy.orm import Session

from facegate.storage import tables as t

__all__ = [
    "CHANNEL",
    "KINDS",
    "deployment_ended",
    "key_changed",
    "subject_removed",
    "template_added",
    "templates_removed",
]

#: the NOTIFY channel followers LISTEN on
CHANNEL: Final = "facegate_changes"
TEMPLATE_ADDED: Final = "template_added"
TEMPLATES_REMOVED: Final = "templates_removed"
SUBJECT_REMOVED: Final = "subject_removed"
KEY_CHANGED: Final = "key_changed"
DEPLOYMENT_ENDED: Final = "deployment_ended"
KINDS: Final = frozenset(
    {TEMPLATE_ADDED, TEMPLATES_REMOVED, SUBJECT_REMOVED, KEY_CHANGED, DEPLOYMENT_ENDED}
)
_PENDING: Final = "facegate.change_feed"
_FEED = cast(Table, t.ChangeFeed.__table__)


def template_added(s: Session, deployment_id: str, template_id: str, subject_id: str) -> None:
    _note(s, deployment_id, TEMPLATE_ADDED, subject_id=subject_id, template_ids=[template_id])


def templates_removed(s: Session, deployment_id: str, template_ids: Iterable[str]) -> None:
    ids = list(template_ids)
    if ids:
        _note(s, deployment_id, TEMPLATES_REMOVED, template_ids=ids)


def subject_removed(s: Session, deployment_id: str, subject_id: str) -> None:
    _note(s, deployment_id, SUBJECT_REMOVED, subject_id=subject_id)


def key_changed(s: Session, deployment_id: str) -> None:
    """The deployment key was replaced: every template made under the old one is void."""
    _note(s, deployment_id, KEY_CHANGED)


def deployment_ended(s: Session, deployment_id: str) -> None:
    _note(s, deployment_id, DEPLOYMENT_ENDED)


def _note(
    s: Session,
    deployment_id: str,
    kind: str,
    *,
    subject_id: str | None = None,
    template_ids: list[str] | None = None,
) -> None:
    pending: list[dict[str, Any]] = s.info.setdefault(_PENDING, [])
    pending.append(
        {
            "deployment_id": deployment_id,
            "kind": kind,
            "subject_id": subject_id,
            "template_ids": template_ids,
        }
    )


@event.listens_for(Session, "before_commit")
def _write(s: Session) -> None:
    pending: list[dict[str, Any]] | None = s.info.pop(_PENDING, None)
    if not pending:
        return
    s.flush()  # every other lock of the transaction first (see the module docstring)
    last = s.execute(
        update(t.ChangeFeedState)
        .where(t.ChangeFeedState.id == 1)
        .values(last=t.ChangeFeedState.last + len(pending))
        .returning(t.ChangeFeedState.last)
    ).scalar_one()
    now = datetime.now(UTC)
    first = last - len(pending) + 1
    rows = [{"id": first + i, "created_at": now, **row} for i, row in enumerate(pending)]
    conn = s.connection()
    conn.execute(insert(_FEED), rows)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_notify('{CHANNEL}', %s)", (str(last),))


@event.listens_for(Session, "after_rollback")
def _forget(s: Session) -> None:
    s.info.pop(_PENDING, None)
