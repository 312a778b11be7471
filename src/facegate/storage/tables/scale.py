"""Tables of many workers and many machines (issue 15).

``change_feed`` says what changed in the galleries, written in the transaction of the change
itself (:mod:`facegate.sync.feed`): every process applies it in order to its in-memory
galleries. Its ids come from the one ``change_feed_state`` row, taken under that row's lock
at commit, so ids are in commit order on PostgreSQL too (a sequence is not: a follower that
read id 7 before id 6 committed would skip 6 for ever).

``batch_jobs`` are the batch enrollment campaigns run on Ray (:mod:`facegate.scale.enroll`):
how far through its manifest each has committed, so a failed run resumes where it stopped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from facegate.storage.tables.base import Base

__all__ = ["BatchJob", "ChangeFeed", "ChangeFeedState"]


class ChangeFeedState(Base):
    """One row: the last feed id handed out (locked by each writer until it commits)."""

    __tablename__ = "change_feed_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(BigInteger)


class ChangeFeed(Base):
    """One change to a deployment's gallery: ``template_added``, ``templates_removed``,
    ``subject_removed``, ``key_changed`` or ``deployment_ended``. Ids and pseudonymous row
    ids only: no template, no reference."""

    __tablename__ = "change_feed"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    deployment_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    template_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BatchJob(Base):
    """A batch enrollment of a manifest: ``position`` rows of it are committed (in order)."""

    __tablename__ = "batch_jobs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    roster_sha256: Mapped[str] = mapped_column(String(64))
    total: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(BigInteger)
    enrolled: Mapped[int] = mapped_column(BigInteger)
    skipped: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
