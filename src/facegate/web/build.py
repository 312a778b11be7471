"""Build step of the web pages: vendored scripts from the npm registry, gettext catalogues.

    python -m facegate.web.build            # fetch missing assets, compile catalogues
    python -m facegate.web.build --check    # exit 1 if an asset or a translation is missing
    python -m facegate.web.build --update-catalogues   # (developers) re-extract, merge .po

Assets: ``assets/assets.json`` pins each npm package by version and sha512 integrity. A
package is fetched with the ordinary client (``npm pack``), its tarball is hashed here (not
trusting npm's own report), and only the listed files are copied into ``static/vendor/``,
which git ignores: nothing large is committed and nothing is fetched at run time.

Catalogues: the messages are extracted from the templates and modules on every build and
checked against ``locale/zh_CN/LC_MESSAGES/messages.po`` (an untranslated message fails the
check), then each ``.po`` is compiled to ``.mo``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "assets" / "assets.json"
VENDOR = HERE / "static" / "vendor"
LOCALE = HERE / "locale"
DOMAIN = "messages"
#: the catalogues besides the source language (English)
TRANSLATED = ("zh_CN",)
_METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
_OPTIONS = {"**/templates/**.html": {"trimmed": "true"}}


class BuildError(RuntimeError):
    pass


def manifest() -> dict[str, dict[str, object]]:
    packages: dict[str, dict[str, object]] = json.loads(MANIFEST.read_text("utf-8"))["packages"]
    return packages


def missing_assets() -> list[str]:
    """The vendored files the manifest lists that are not in ``static/vendor/``."""
    return [
        dest
        for spec in manifest().values()
        for dest in dict(spec["files"]).values()  # type: ignore[call-overload]
        if not (VENDOR / str(dest)).is_file()
    ]


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _npm_pack(name: str, version: str, into: Path) -> bytes:
    try:
        done = subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(into)],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise BuildError(f"npm pack {name}@{version} failed: {detail.strip()[-500:]}") from exc
    filename = json.loads(done.stdout)[0]["filename"]
    return (into / Path(filename).name).read_bytes()


def _patched(dest: str, data: bytes, patches: dict[str, list[list[str]]]) -> bytes:
    """Apply the manifest's replacements to ``dest``; each must match exactly once, so an
    upstream change is noticed rather than silently missed."""
    for old, new in patches.get(dest, []):
        if data.count(old.encode()) != 1:
            raise BuildError(f"{dest}: expected {old!r} once, found {data.count(old.encode())}")
        data = data.replace(old.encode(), new.encode())
    return data


def _extract(tarball: bytes, files: dict[str, str], patches: dict[str, list[list[str]]]) -> None:
    VENDOR.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for member, dest in files.items():
            source = tar.extractfile(member)  # only the named regular files are read
            if source is None:
                raise BuildError(f"{member} is not a file in the package")
            tmp = VENDOR / f".{dest}.tmp"
            tmp.write_bytes(_patched(dest, source.read(), patches))
            tmp.chmod(0o644)
            tmp.replace(VENDOR / dest)


def fetch_assets(*, force: bool = False) -> list[str]:
    """Fetch each package that has a missing file; returns the files written."""
    written: list[str] = []
    for name, spec in manifest().items():
        files = {str(k): str(v) for k, v in dict(spec["files"]).items()}  # type: ignore[call-overload]
        if not force and all((VENDOR / d).is_file() for d in files.values()):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            tarball = _npm_pack(name, str(spec["version"]), Path(tmp))
        got = _integrity(tarball)
        if got != spec["integrity"]:
            raise BuildError(
                f"{name}@{spec['version']}: the tarball's integrity is {got}, "
                f"the pinned one {spec['integrity']}; refusing to use it"
            )
        _extract(tarball, files, dict(spec.get("patches", {})))  # type: ignore[call-overload]
        written += files.values()
    return written


def extract_messages() -> Catalog:
    """Every translatable message of the web package, as a template catalogue."""
    catalog = Catalog(project="facegate", domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(HERE), _METHODS, _OPTIONS, strip_comment_tags=True
    ):
        catalog.add(
            message,
            None,
            [(filename, lineno)],
            auto_comments=comments,
            context=context,
        )
    return catalog


def _po(locale: str) -> Path:
    return LOCALE / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def untranslated(locale: str, template: Catalog | None = None) -> list[str]:
    """Messages of the templates and modules with no (or a fuzzy) translation in ``locale``."""
    template = template if template is not None else extract_messages()
    with _po(locale).open("rb") as f:
        catalog = read_po(f, locale=locale)
    out = []
    for msg in template:
        if not msg.id:
            continue
        have = catalog.get(msg.id, context=msg.context)
        strings = have.string if have is not None else None
        texts = strings if isinstance(strings, tuple | list) else (strings,)
        if have is None or have.fuzzy or not all(texts):
            out.append(msg.id if isinstance(msg.id, str) else msg.id[0])
    return out


def compile_catalogues() -> list[Path]:
    written = []
    for locale in TRANSLATED:
        po = _po(locale)
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as f:
            write_mo(f, catalog)
        written.append(mo)
    return written


def update_catalogues() -> None:
    """(Developers) write the template and merge new messages into each ``.po``."""
    template = extract_messages()
    with (LOCALE / f"{DOMAIN}.pot").open("wb") as f:
        write_po(f, template, omit_header=True, sort_output=True, width=100, include_lineno=False)
    for locale in TRANSLATED:
        with _po(locale).open("rb") as f:
            catalog = read_po(f, locale=locale)
        catalog.update(template, no_fuzzy_matching=True)
        with _po(locale).open("wb") as f:
            write_po(
                f, catalog, omit_header=False, sort_output=True, width=100, ignore_obsolete=True
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m facegate.web.build", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check; change nothing")
    parser.add_argument("--force", action="store_true", help="fetch every asset again")
    parser.add_argument("--update-catalogues", action="store_true")
    args = parser.parse_args(argv)
    if args.update_catalogues:
        update_catalogues()
    problems = [f"untranslated ({loc}): {m!r}" for loc in TRANSLATED for m in untranslated(loc)]
    if args.check:
        problems += [f"missing asset: {VENDOR / d}" for d in missing_assets()]
    else:
        if shutil.which("npm") is None and missing_assets():
            problems.append("npm is not installed: the web assets cannot be fetched")
        else:
            for dest in fetch_assets(force=args.force):
                print(f"web asset: {VENDOR / dest}")
        for mo in compile_catalogues():
            print(f"catalogue: {mo}")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
