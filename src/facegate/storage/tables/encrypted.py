"""Templates of threshold encrypted verification (issue 16): ciphertexts under the joint
public key of the deployment's key holders, as the capture device made them.

The server cannot open them (it holds no key share); each is sealed under its person's data
key as well, so that erasing the person (or shredding their key) leaves nothing, not even a
ciphertext that a future collusion of two key holders could open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from facegate.storage.tables.base import Base

__all__ = ["EncryptedTemplate"]


class EncryptedTemplate(Base):
    __tablename__ = "encrypted_templates"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    #: the key ceremony it was encrypted for (SHA-256 of the joint public key, hex)
    ceremony: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
