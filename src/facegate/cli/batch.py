"""Many photos through one command: a folder, a CSV manifest or standard input.

``facegate enroll|verify|identify`` take one SOURCE:

* a photo file: one photo (``--subject`` names the person for enroll and verify);
* a folder: every photo in it, at any depth; for enroll and verify the person is the
  photo's folder under SOURCE (``people/alice/1.jpg``) or, for photos directly in SOURCE,
  the file name without its suffix (``people/alice.jpg``), as face_recognition lays out
  known people; ``--subject`` overrides both;
* a ``.csv`` manifest with a header: a ``file`` column (relative to the manifest's folder)
  and, for enroll and verify, a ``subject`` column;
* ``-``: standard input, either one photo's bytes (``cat a.jpg | facegate identify -d D -``)
  or lines of paths, or of ``file,subject`` (``find . -name '*.jpg' | facegate ...``).

Each photo gives one ``file,result`` line on stdout as soon as it is done (so the output
pipes); a progress bar goes to stderr. A photo that fails gives ``file,<error code>`` and the
run goes on; the exit status is 0 when every photo succeeded, else that of the first error.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from facegate import errors as e
from facegate.cli.common import EXIT_CODES, err
from facegate.liveness.evaluation import IMAGE_SUFFIXES, image_files

if TYPE_CHECKING:
    from facegate.gate import Gate

#: the first bytes of the formats facegate decodes: stdin holding a photo, not paths
_MAGIC = (b"\xff\xd8", b"\x89PNG", b"GIF8", b"RIFF", b"BM", b"P5", b"P6", b"P2", b"P3", b"P4")


@dataclass(frozen=True)
class Item:
    """One photo to process: how it is shown, where its bytes are, whose it is."""

    name: str
    path: Path | None
    subject: str | None = None
    data: bytes | None = None

    def who(self) -> str:
        """The person this photo is of (enroll, verify); refused when nobody said."""
        if not self.subject:
            raise e.InvalidInput(f"{self.name}: no subject for this photo")
        return self.subject

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise e.InvalidInput(f"cannot read {self.path}: {exc.strerror}") from None


@dataclass(frozen=True)
class Source:
    items: list[Item]
    #: one photo named on the command line: answered as before batches existed
    single: bool


def read_source(source: str, subject: str | None, *, need_subject: bool) -> Source:
    """The photos SOURCE names (see the module docstring)."""
    if source == "-":
        return Source(_from_stdin(sys.stdin.buffer.read(), subject), single=False)
    path = Path(source).expanduser()
    if path.is_dir():
        items = [Item(str(p), p, subject or _owner(path, p)) for p in image_files(path)]
        if not items:
            raise e.InvalidInput(f"no photos under {path}", advice=_SUFFIX_ADVICE)
        return Source(items, single=False)
    if path.suffix.lower() == ".csv":
        return Source(_manifest(path, subject, need_subject=need_subject), single=False)
    if need_subject and not subject:
        raise e.InvalidInput(
            "--subject is required for one photo",
            advice="Name the person with --subject, or give a folder or a CSV manifest.",
        )
    return Source([Item(source, path, subject)], single=True)


_SUFFIX_ADVICE = "Photos end in " + ", ".join(sorted(IMAGE_SUFFIXES)) + "."


def _owner(root: Path, photo: Path) -> str:
    parts = photo.relative_to(root).parts
    return parts[0] if len(parts) > 1 else photo.stem


def _manifest(path: Path, subject: str | None, *, need_subject: bool) -> list[Item]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise e.InvalidInput(f"cannot read the manifest {path}: {exc}") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "file" not in rows[0]:
        raise e.InvalidInput(
            f"{path} needs a header with a 'file' column (and 'subject' to enroll or verify)"
        )
    if need_subject and not subject and "subject" not in rows[0]:
        raise e.InvalidInput(f"{path} has no 'subject' column; add one or give --subject")
    return [
        Item(row["file"], path.parent / row["file"], subject or row.get("subject") or None)
        for row in rows
    ]


def _from_stdin(data: bytes, subject: str | None) -> list[Item]:
    if data.startswith(_MAGIC):
        return [Item("-", None, subject, data)]
    items = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        file, _, who = line.strip().partition(",")
        items.append(Item(file, Path(file).expanduser(), subject or who.strip() or None))
    if not items:
        raise e.InvalidInput("standard input held neither a photo nor lines of paths")
    return items


def exit_code(error: e.FacegateError) -> int:
    return next(code for cls, code in EXIT_CODES if isinstance(error, cls))


def error_text(error: e.FacegateError) -> str:
    """``no_face``, ``policy_denied:CN-FR-6``: one CSV field saying why a photo failed."""
    if isinstance(error, e.PolicyDenied):
        return f"{error.code}:{error.rule_id}"
    return error.code


def run_batch(
    gate: Gate,
    items: list[Item],
    act: Callable[[Gate, Item, bytes], dict[str, Any]],
    line: Callable[[Item, dict[str, Any]], list[str]],
    *,
    as_json: bool,
) -> int:
    """Apply ``act`` to each photo; print its lines (or JSON at the end); returns the exit
    status: 0, or that of the first failure."""
    status, report = 0, []
    with _Progress(len(items)) as advance:
        for item in items:
            try:
                result = act(gate, item, item.read())
                report.append({"file": item.name, "result": result})
                lines = line(item, result)
            except e.FacegateError as error:
                status = status or exit_code(error)
                report.append({"file": item.name, "error": error.to_dict()})
                lines = [f"{item.name},{error_text(error)}"]
            if not as_json:
                sys.stdout.write("".join(f"{text}\n" for text in lines))
                sys.stdout.flush()
            advance()
    if as_json:
        sys.stdout.write(_json(report) + "\n")
    return status


def _json(value: object) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


class _Progress:
    """A progress bar on stderr (shown on a terminal; silent when stderr is not one)."""

    def __init__(self, total: int) -> None:
        self._bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=False,
            disable=not err.is_terminal,
        )
        self._task = self._bar.add_task("photos", total=total)
        self._total = total

    def __enter__(self) -> Callable[[], None]:
        self._bar.start()
        return lambda: self._bar.advance(self._task)

    def __exit__(self, *_exc: object) -> None:
        self._bar.stop()
        if not err.is_terminal:
            done = int(self._bar.tasks[0].completed)
            err.print(f"{done}/{self._total} photos processed", highlight=False)
