"""Where batch photos come from: a folder (person from the sub-folder or the file name), a
CSV manifest, standard input (a photo's bytes or lines of paths); and the refusals."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from facegate.cli.batch import error_text, read_source
from facegate.compat.service import plugins
from facegate.errors import InvalidInput, NoFace, PolicyDenied


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8 not really a photo")
    return path


def test_a_folder_names_people_by_sub_folder_or_file_name(tmp_path: Path) -> None:
    _touch(tmp_path / "alice" / "1.jpg")
    _touch(tmp_path / "alice" / "2.png")
    _touch(tmp_path / "bob.jpeg")
    (tmp_path / "notes.txt").write_text("not a photo")
    found = read_source(str(tmp_path), None, need_subject=True)
    assert not found.single
    assert [(Path(i.name).relative_to(tmp_path).as_posix(), i.subject) for i in found.items] == [
        ("alice/1.jpg", "alice"),
        ("alice/2.png", "alice"),
        ("bob.jpeg", "bob"),
    ]
    forced = read_source(str(tmp_path), "carol", need_subject=True)
    assert {i.subject for i in forced.items} == {"carol"}
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="no photos"):
        read_source(str(tmp_path / "empty"), None, need_subject=False)


def test_a_manifest_reads_file_and_subject_columns(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,subject\na.jpg,alice\nsub/b.jpg,bob\n")
    items = read_source(str(manifest), None, need_subject=True).items
    assert [(i.path, i.subject) for i in items] == [
        (tmp_path / "a.jpg", "alice"),
        (tmp_path / "sub/b.jpg", "bob"),
    ]
    (tmp_path / "bad.csv").write_text("path,who\na.jpg,alice\n")
    with pytest.raises(InvalidInput, match="'file' column"):
        read_source(str(tmp_path / "bad.csv"), None, need_subject=False)
    (tmp_path / "files.csv").write_text("file\na.jpg\n")
    with pytest.raises(InvalidInput, match="subject"):
        read_source(str(tmp_path / "files.csv"), None, need_subject=True)
    assert read_source(str(tmp_path / "files.csv"), None, need_subject=False).items


def test_stdin_holds_a_photo_or_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    def stdin(data: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    stdin(b"\x89PNG\r\n\x1a\n....")
    (photo,) = read_source("-", None, need_subject=False).items
    assert photo.name == "-" and photo.read().startswith(b"\x89PNG")
    stdin(b"a.jpg,alice\n\nb.jpg\n")
    items = read_source("-", None, need_subject=True).items
    assert [(i.name, i.subject) for i in items] == [("a.jpg", "alice"), ("b.jpg", None)]
    with pytest.raises(InvalidInput, match="no subject"):
        items[1].who()


def test_one_photo_needs_a_subject_to_enroll(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="--subject"):
        read_source(str(_touch(tmp_path / "a.jpg")), None, need_subject=True)
    assert read_source(str(tmp_path / "a.jpg"), "alice", need_subject=True).single


def test_error_fields_name_the_rule() -> None:
    assert error_text(PolicyDenied("no consent", rule_id="CN-FR-6")) == "policy_denied:CN-FR-6"
    assert error_text(NoFace("none")) == "no_face"


def test_compreface_plugins_never_include_an_embedding() -> None:
    assert plugins("landmarks") == {"landmarks"} and plugins(None) == frozenset()
    for refused in ("calculator", "landmarks,calculator", "age", "gender", "mask", "bogus"):
        with pytest.raises(InvalidInput):
            plugins(refused)
