"""``facegate custody``: split the master key among custodians, and put it back together.

``split`` writes one share file per custodian (default 2 of 3: operator, hsm, regulator);
with ``--destroy-key-file`` it then checks that the shares rebuild the key and overwrites
and deletes ``master.key``, so that from then on no single file opens a template.
``combine`` rebuilds the key from enough shares: it checks them (``--check``) or writes a
new 0600 key file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from facegate.cli.common import Home, Json, emit, run, settings_for
from facegate.custody import shares as custody
from facegate.errors import ConfigError, InvalidInput
from facegate.templates import MasterKey
from facegate.templates.hazmat.master_key import MASTER_KEY_FILENAME

custody_app = typer.Typer(
    help="Split custody of the master key: k-of-n shares among custodians.",
    no_args_is_help=True,
)


def _master(home: Path | None, key_file: Path | None) -> tuple[MasterKey, Path | None]:
    settings = settings_for(home)
    if key_file is None and settings.master_key:
        return MasterKey.from_base64(settings.master_key), None
    path = key_file or settings.home / MASTER_KEY_FILENAME
    return MasterKey.from_file(path), path


def _destroy(path: Path) -> None:
    # overwrite before unlinking; copies the filesystem or backups made are out of reach
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.write(os.urandom(size))
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()


@custody_app.command("split")
def split(
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the share files")],
    holders: Annotated[
        str, typer.Option(help="custodians, comma-separated, one share each")
    ] = ",".join(custody.DEFAULT_HOLDERS),
    threshold: Annotated[int, typer.Option(help="shares needed to rebuild the key")] = 2,
    key_file: Annotated[Path | None, typer.Option(help="master key file [HOME/master.key]")] = None,
    destroy_key_file: Annotated[
        bool, typer.Option("--destroy-key-file", help="then overwrite and delete the key file")
    ] = False,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Split the master key: one share file per custodian, ``<holder>.share``, mode 0600."""

    def act() -> dict[str, Any]:
        names = [h.strip() for h in holders.split(",") if h.strip()]
        master, path = _master(home, key_file)
        made = custody.split_key(master.key, holders=names, threshold=threshold)
        targets = [out_dir / f"{s.holder}.share" for s in made]
        taken = [str(t) for t in targets if t.exists()]
        if taken:
            raise ConfigError(f"refusing to overwrite {', '.join(taken)}")
        # every combination of `threshold` shares must rebuild the key before any is written
        for start in range(len(made)):
            group = [made[(start + k) % len(made)] for k in range(threshold)]
            custody.combine_key(group)
        for share, target in zip(made, targets, strict=True):
            custody.write_share(share, target)
        destroyed = False
        if destroy_key_file:
            if path is None:
                raise InvalidInput("the master key comes from the environment: no file to destroy")
            _destroy(path)
            destroyed = True
        return {
            "key_id": master.key_id,
            "threshold": threshold,
            "shares": [str(t) for t in targets],
            "key_file_destroyed": destroyed,
        }

    result = run(as_json, act)
    emit(
        as_json,
        result,
        lambda: typer.echo(
            f"master key {result['key_id']} split {result['threshold']} of "
            f"{len(result['shares'])}: "
            + ", ".join(result["shares"])
            + ("; key file destroyed" if result["key_file_destroyed"] else "")
        ),
    )


@custody_app.command("combine")
def combine(
    share_files: Annotated[list[Path], typer.Argument(help="share files (the threshold's count)")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="write the rebuilt key to this new 0600 file")
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="only check that they rebuild it")] = False,
    as_json: Json = False,
) -> None:
    """Rebuild the master key from shares; check it, or write it as a key file."""

    def act() -> dict[str, Any]:
        if (out_file is None) == (not check):
            raise InvalidInput("give exactly one of --out FILE and --check")
        shares = [custody.read_share(p) for p in share_files]
        master = MasterKey(custody.combine_key(shares))
        if out_file is not None:
            master.write_file(out_file)
        return {"key_id": master.key_id, "written": None if out_file is None else str(out_file)}

    result = run(as_json, act)
    emit(
        as_json,
        result,
        lambda: typer.echo(
            f"the shares rebuild master key {result['key_id']}"
            + (f"; written to {result['written']}" if result["written"] else "")
        ),
    )
