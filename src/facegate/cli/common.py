"""What every command shares: options, output, errors and exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO, TypeVar

import typer
from rich.console import Console

from facegate import errors as e
from facegate.config import Settings, default_home, load_settings

if TYPE_CHECKING:
    from facegate.gate import Gate


def _console(stream: TextIO, *, stderr: bool = False) -> Console:
    # Piped output (a file, grep, another program) is not wrapped or cut at 80 columns:
    # with no terminal, lines and tables keep their full width.
    wide = None if stream.isatty() else 10_000
    return Console(stderr=stderr, width=wide, soft_wrap=wide is not None)


out = _console(sys.stdout)
err = _console(sys.stderr, stderr=True)

Home = Annotated[
    Path | None,
    typer.Option(
        "--home", help="installation directory [env FACEGATE_HOME, ~/.facegate]", show_default=False
    ),
]
Json = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]
Key = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="FACEGATE_KEY",
        help="act as the principal whose API key this is [default: the home's owner, admin]",
        show_default=False,
    ),
]
DeploymentId = Annotated[str, typer.Option("--deployment", "-d", help="deployment id")]
SubjectRef = Annotated[
    str, typer.Option("--subject", "-s", help="the operator's id for the person")
]
ImagePath = Annotated[Path, typer.Argument(help="photo file", show_default=False)]

#: exit codes, one per branch of the error tree (2 is Typer's usage error)
EXIT_CODES: tuple[tuple[type[e.FacegateError], int], ...] = (
    (e.InvalidInput, 3),
    (e.PolicyDenied, 4),
    (e.NotFound, 5),
    (e.Conflict, 6),
    (e.LedgerError, 7),
    (e.Unauthenticated, 8),
    (e.Forbidden, 8),
    (e.FacegateError, 1),
)

T = TypeVar("T")


def settings_for(home: Path | None) -> Settings:
    return load_settings(home=(home or default_home()).expanduser())


#: the principal's key given to the root command (``facegate --key K verb``)
_KEY: list[str] = []


def use_key(key: str | None) -> None:
    """Act as this key's principal in every verb of this process."""
    _KEY[:] = [key] if key else []


@contextmanager
def gate_for(home: Path | None, key: str | None = None, *, create: bool = False) -> Iterator[Gate]:
    """The installation in ``home``, acting as the principal whose key is ``key`` (else the
    root command's ``--key``, else ``$FACEGATE_KEY``, else the home's owner). Only ``create``
    (``facegate init``) makes one, so a mistyped ``--home`` is refused with advice instead of
    becoming a new, empty home."""
    from facegate.gate import Gate

    key = key or (_KEY[0] if _KEY else None) or os.environ.get("FACEGATE_KEY") or None
    with Gate.open(settings=settings_for(home), create=create) as gate:
        yield gate.acting_as(key) if key else gate


def emit(as_json: bool, payload: dict[str, Any] | list[Any], human: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        human()


def fail(error: e.FacegateError, as_json: bool) -> typer.Exit:
    code = next(c for cls, c in EXIT_CODES if isinstance(error, cls))
    if as_json:
        sys.stdout.write(json.dumps(error.to_dict(), ensure_ascii=False) + "\n")
    else:
        err.print(error.diagnostics(), markup=False, highlight=False)
    return typer.Exit(code)


def run(as_json: bool, action: Callable[[], T]) -> T:
    try:
        return action()
    except e.FacegateError as error:
        raise fail(error, as_json) from None


def sha256_of(value: str, what: str) -> str:
    """A SHA-256 given as 64 hex digits, or the SHA-256 of the file at that path."""
    if re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()):
        return value.strip().lower()
    try:
        return hashlib.sha256(Path(value).expanduser().read_bytes()).hexdigest()
    except OSError as exc:
        raise e.InvalidInput(
            f"{what}: {value!r} is neither a SHA-256 nor a readable file ({exc.strerror})",
            advice="Give the path of the signed form (scan or e-signature record) or its "
            "SHA-256 in hex.",
        ) from None


def read_image(path: Path, as_json: bool) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(
            e.InvalidInput(
                f"cannot read {path}: {exc.strerror}", advice="Check the path and its permissions."
            ),
            as_json,
        ) from None
