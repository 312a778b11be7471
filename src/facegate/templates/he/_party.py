"""One party's OpenFHE process, seen from facegate (the worker is ``_openfhe_worker.py``).

OpenFHE's PyPI wheels carry extensions for CPython 3.10 and 3.12 only, so each party of the
threshold mode runs OpenFHE in a process of its own under such an interpreter; messages go
over pipes as a 4-byte length and a pickle of plain values.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import threading
from pathlib import Path
from typing import Any, Final

from facegate.errors import InvalidInput

__all__ = ["OPENFHE_PYTHON_ENV", "Party", "openfhe_python"]

#: the interpreter OpenFHE's wheels run under (CPython 3.10 or 3.12); ``make install`` makes
#: ``.venv-openfhe`` beside the project with ``openfhe`` in it
OPENFHE_PYTHON_ENV: Final = "FACEGATE_OPENFHE_PYTHON"
_WORKER: Final = Path(__file__).with_name("_openfhe_worker.py")


def openfhe_python() -> str | None:
    """The interpreter with OpenFHE: ``$FACEGATE_OPENFHE_PYTHON``, else the project's
    ``.venv-openfhe``; None when neither exists."""
    named = os.environ.get(OPENFHE_PYTHON_ENV)
    if named:
        return named if os.access(named, os.X_OK) else None
    local = Path(__file__).resolve().parents[4] / ".venv-openfhe" / "bin" / "python"
    return str(local) if os.access(local, os.X_OK) else None


class Party:
    """One party's OpenFHE process. Its first call (the party's material) is replayed if
    the process ends, e.g. killed by a malformed ciphertext, so the party carries on."""

    def __init__(self) -> None:
        python = openfhe_python()
        if python is None:
            raise InvalidInput(
                "threshold encrypted verification needs OpenFHE under CPython 3.10 or 3.12",
                advice=f"run `make install`, or set {OPENFHE_PYTHON_ENV} to such a python "
                "with `pip install openfhe` done",
            )
        self._python = python
        self._lock = threading.Lock()
        self._setup: tuple[str, dict[str, Any]] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self, *, replay: bool = True) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(  # our own worker, run by path
            [self._python, str(_WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            # another interpreter: facegate's own module path must not reach it
            env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")},
        )
        self._proc = proc
        if replay and self._setup is not None:
            self._exchange(proc, *self._setup)
        return proc

    def _exchange(self, proc: subprocess.Popen[bytes], op: str, kwargs: dict[str, Any]) -> Any:
        assert proc.stdin is not None and proc.stdout is not None
        blob = pickle.dumps((op, kwargs), protocol=4)
        try:
            proc.stdin.write(struct.pack(">I", len(blob)) + blob)
            proc.stdin.flush()
            head = proc.stdout.read(4)
            if len(head) < 4:
                raise BrokenPipeError
            (size,) = struct.unpack(">I", head)
            status, value = pickle.loads(proc.stdout.read(size))  # our worker
        except (BrokenPipeError, OSError, EOFError, pickle.UnpicklingError):
            self._proc = None
            proc.kill()
            raise InvalidInput(f"OpenFHE could not {op} this input (its process ended)") from None
        if status != "ok":
            raise InvalidInput(f"OpenFHE refused to {op}: {value}")
        return value

    def setup(self, op: str, **kwargs: Any) -> Any:
        """Start the process with the party's material; returns the worker's answer."""
        with self._lock:
            self._setup = (op, kwargs)
            proc = self._start(replay=False)
            return self._exchange(proc, op, kwargs)

    def call(self, op: str, **kwargs: Any) -> Any:
        with self._lock:
            if self._proc is not None and self._proc.poll() is not None:
                self._proc = None  # ended between calls (killed, say): start it again
            return self._exchange(self._proc or self._start(), op, kwargs)

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def __del__(self) -> None:
        self.close()
