"""``facegate serve --workers N``: N uvicorn worker processes, each with its own Gate.

Each worker opens the installation from the settings (the parent passes the home and
database through ``FACEGATE_HOME`` / ``FACEGATE_DATABASE_URL``, the rest of the settings are
the environment it inherits), warms its models and galleries, and follows the change feed
(:class:`~facegate.sync.listen.FeedListener`, started by the app's lifespan), so that what
one worker commits every other applies within the listener's poll period, and at once before
any search.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from facegate.config import Settings, load_settings
from facegate.sync.listen import FeedListener

if TYPE_CHECKING:
    from fastapi import FastAPI

    from facegate.gate import Gate

__all__ = ["follow", "run_workers", "worker_app"]


def follow(gate: Gate) -> FeedListener:
    """Start applying other processes' changes to ``gate``'s galleries in the background."""
    assert gate.core.follower is not None
    return FeedListener(gate.core.follower, gate.db.engine).start()


def run_workers(gate: Gate, settings: Settings, options: dict[str, Any], workers: int) -> None:
    """Serve with ``workers`` processes (the parent's Gate is closed first: each worker
    opens its own)."""
    import uvicorn

    gate.close()
    os.environ["FACEGATE_HOME"] = str(settings.home)
    if settings.database_url:
        os.environ["FACEGATE_DATABASE_URL"] = settings.database_url
    uvicorn.run("facegate.sync.serve:worker_app", factory=True, workers=workers, **options)


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn's factory)."""
    from facegate.api.app import create_app
    from facegate.gate import Gate

    gate = Gate.open(settings=load_settings())
    gate.warm()
    return create_app(gate)
