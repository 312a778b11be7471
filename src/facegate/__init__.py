"""facegate: self-hosted face recognition that is lawful by construction.

from facegate import Gate
gate = Gate.open()                      # ~/.facegate, SQLite, keys, ledger
gate.verify(deployment_id, "alice", open("photo.jpg", "rb").read()).decision
"""

from facegate import errors
from facegate.errors import FacegateError, PolicyDenied

__version__ = "0.1.0"

__all__ = ["FacegateError", "Gate", "PolicyDenied", "__version__", "errors"]


def __getattr__(name: str) -> object:
    # Gate pulls in the storage and model stacks; import it only when asked for.
    if name == "Gate":
        from facegate.gate import Gate

        return Gate
    raise AttributeError(name)
