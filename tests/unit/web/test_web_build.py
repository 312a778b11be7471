"""The build step: pinned npm assets are present, checked, and patched exactly once."""

from __future__ import annotations

import io
import tarfile

import pytest

from facegate.web import build


def test_every_pinned_asset_was_installed() -> None:
    assert build.missing_assets() == [], "run `python -m facegate.web.build` (make install)"


def test_every_asset_is_pinned_by_version_and_sha512() -> None:
    for name, spec in build.manifest().items():
        assert str(spec["integrity"]).startswith("sha512-"), name
        assert str(spec["version"])[0].isdigit(), name


def test_a_patch_must_match_exactly_once() -> None:
    patches = {"a.js": [["https://cdn.example/x.svg", "data:,"]]}
    assert build._patched("a.js", b"src:'https://cdn.example/x.svg'", patches) == b"src:'data:,'"
    assert build._patched("b.js", b"same", patches) == b"same"
    with pytest.raises(build.BuildError, match="once"):
        build._patched("a.js", b"nothing here", patches)


def test_only_named_regular_files_are_taken_from_a_tarball(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"console.log(1)"
        info = tarfile.TarInfo("package/dist/x.js")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(build, "VENDOR", tmp_path)
    build._extract(buf.getvalue(), {"package/dist/x.js": "x.js"}, {})
    assert (tmp_path / "x.js").read_bytes() == b"console.log(1)"
    with pytest.raises(KeyError):
        build._extract(buf.getvalue(), {"package/../../etc/passwd": "evil"}, {})
    assert not (tmp_path / "evil").exists()


def test_the_tarball_integrity_is_computed_here() -> None:
    assert build._integrity(b"") == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    )
