"""Tables of the web pages: the operator console's password logins.

A principal (``facegate.actors``) signs in to the console with a password; only its Argon2id
hash is stored (``argon2-cffi``'s encoded form, which carries its own salt and parameters so
they can be raised later). ``updated_at`` doubles as the sessions' cut-off: a console session
issued before the password last changed is no longer accepted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from facegate.storage.tables.base import Base

__all__ = ["WebLogin"]


class WebLogin(Base):
    __tablename__ = "web_logins"
    principal_id: Mapped[str] = mapped_column(ForeignKey("principals.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
