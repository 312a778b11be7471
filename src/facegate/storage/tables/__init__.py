"""The relational schema of the main database (SQLite and PostgreSQL), one module per concern.

Every table module is imported here, so that ``Base.metadata`` (what the migrations are checked
against) holds them all and callers keep writing ``from facegate.storage import tables as t``.
Each module lists its tables in ``__all__``.
"""

from facegate.storage.tables.base import Base as Base
from facegate.storage.tables.core import *  # noqa: F403
from facegate.storage.tables.documents import *  # noqa: F403
from facegate.storage.tables.encrypted import *  # noqa: F403
from facegate.storage.tables.ledger_index import *  # noqa: F403
from facegate.storage.tables.liveness import *  # noqa: F403
from facegate.storage.tables.principals import *  # noqa: F403
from facegate.storage.tables.regulator_link import *  # noqa: F403
from facegate.storage.tables.scale import *  # noqa: F403
from facegate.storage.tables.transfers import *  # noqa: F403
from facegate.storage.tables.web import *  # noqa: F403
