"""Tables of active liveness: the challenges issued to a camera page.

A challenge is bound to one person of one deployment and one act (enroll or verify), is
answered once with a few camera frames, and is used once by that act within a short time.
Only the frames' SHA-256 are kept (so that the act can check its photo is one of them);
never a frame, a landmark or a score of the face.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from facegate.storage.tables.base import Base

__all__ = ["LivenessChallenge"]


class LivenessChallenge(Base):
    __tablename__ = "liveness_challenges"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    #: the person it was issued for; their erasure removes it
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    act: Mapped[str] = mapped_column(String(10))
    challenge: Mapped[str] = mapped_column(String(20))
    issued_by: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: issued, passed, failed or used
    status: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: SHA-256 (hex) of each frame of a passed answer, in order
    frame_hashes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
