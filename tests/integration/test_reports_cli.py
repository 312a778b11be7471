"""``facegate report``, ``filing`` and ``incident`` run as a user would: separate processes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from cli_runner import fg, live


def js(home: Path, *args: str) -> Any:
    return json.loads(fg(home, *args, "--json").stdout)


def test_reports_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fg(home, "init")  # only init makes a home
    dep = live(
        home,
        "--name",
        "North gate",
        "--purpose",
        "住户刷脸开门 Residents open the compound gate by face",
    )["id"]
    r = js(home, "report", "pia", "-d", dep, "-o", str(tmp_path / "pia.pdf"))
    assert (tmp_path / "pia.pdf").read_bytes().startswith(b"%PDF-")
    assert r["format"] == "pdf" and r["event_id"].startswith("evt_") and r["open_items"] > 0
    assert r["report"]["kind"] == "pia" and len(r["sha256"]) == 64

    out = fg(home, "report", "art30", "-d", dep, "-o", str(tmp_path / "art30.html")).stdout
    assert "wrote" in out and "sha256" in out
    art30 = (tmp_path / "art30.html").read_text()
    assert "GDPR Art. 30" in art30
    # which parts must be stolen together: here the home's unprotected master.key
    assert "What must be stolen together to open a template" in art30
    assert "the master key is stored there unprotected (master.key)" in art30
    page = fg(home, "report", "pia", "-d", dep).stdout
    assert page.startswith("<!DOCTYPE html>") and "个人信息保护影响评估报告" in page

    bad = fg(home, "report", "pia", "-d", dep, "-o", str(tmp_path / "pia.docx"), ok=False)
    assert bad.returncode == 3 and "FILE.pdf" in bad.stderr
    missing = fg(home, "report", "art30", "-d", "dep_nope", "--json", ok=False)
    assert missing.returncode == 5 and json.loads(missing.stdout)["error"] == "not_found"


def test_filing_and_incidents_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fg(home, "init")  # only init makes a home
    live(home, "--name", "North gate")
    status = js(home, "filing", "status")
    assert (status["people"], status["required"], status["threshold"]) == (0, False, 100_000)
    assert "no filing required" in fg(home, "filing", "status").stdout
    fg(home, "filing", "document", "-o", str(tmp_path / "filing.html"))
    assert "人脸识别技术应用备案材料" in (tmp_path / "filing.html").read_text()
    nothing = fg(home, "filing", "submitted", "--reference", "X-1", ok=False)
    assert nothing.returncode == 5

    naive = fg(
        home,
        "incident",
        "open",
        "--description",
        "x",
        "--people",
        "1",
        "--discovered-at",
        "2025-10-02T09:00",
        ok=False,
    )
    assert naive.returncode == 3 and "time zone" in naive.stderr
    inc = js(
        home,
        "incident",
        "open",
        "--description",
        "Templates database copied by a contractor",
        "--people",
        "300",
        "--discovered-at",
        "2025-10-02T09:00+08:00",
    )
    assert inc["status"] == "open" and inc["discovered_at"] == "2025-10-02T01:00:00Z"
    early = fg(home, "incident", "close", "-i", inc["id"], "--resolution", "fixed", ok=False)
    assert early.returncode == 4 and "CN-PIPL-57" in early.stderr
    assert (
        fg(home, "incident", "notify", "-i", inc["id"], "--to", "nobody", ok=False).returncode == 3
    )
    told = js(home, "incident", "notify", "-i", inc["id"], "--to", "regulator", "--reference", "C1")
    assert told["status"] == "notified" and told["regulator_reference"] == "C1"
    fg(home, "incident", "notify", "-i", inc["id"], "--to", "individuals")
    closed = js(home, "incident", "close", "-i", inc["id"], "--resolution", "access revoked")
    assert closed["status"] == "closed"
    listed = js(home, "incident", "list")
    assert [i["id"] for i in listed] == [inc["id"]]
    assert "closed" in fg(home, "incident", "list").stdout
    assert js(home, "ledger", "verify")["ok"]


def test_reports_and_incidents_act_as_the_key_given(tmp_path: Path) -> None:
    """A key of another operator sees none of this operator's incidents or deployments, and a
    role without supervision duties cannot record one; an issued report names its issuer."""
    home = tmp_path / "home"
    fg(home, "init")
    dep = live(home)["id"]
    inc = js(home, "incident", "open", "--description", "Laptop lost", "--people", "3")
    other = js(home, "operator", "create", "--name", "Other Ltd", "--contact", "+1 555 0100")
    key = other["api_key"]["key"]
    assert js(home, "--key", key, "incident", "list") == []
    closing = fg(home, "--key", key, "incident", "close", "-i", inc["id"], "--resolution", "x",
                 "--json", ok=False)  # fmt: skip
    assert closing.returncode == 5  # not found: nothing of another operator's is named
    report = fg(home, "--key", key, "report", "pia", "-d", dep, "--json", ok=False)
    assert report.returncode == 5

    auditor = js(home, "principal", "create", "--name", "Aud", "--role", "auditor")
    akey = auditor["api_key"]["key"]
    refused = fg(home, "--key", akey, "incident", "open", "--description", "x", "--people", "1",
                 "--json", ok=False)  # fmt: skip
    assert refused.returncode == 8, refused.stdout + refused.stderr
    assert [i["id"] for i in js(home, "--key", akey, "incident", "list")] == [inc["id"]]
    issued = js(home, "--key", akey, "report", "art30", "-d", dep)
    size = int(js(home, "ledger", "checkpoint")["checkpoint"].splitlines()[1])
    entry = js(home, "ledger", "entry", str(size - 1))
    leaf = json.loads(base64.b64decode(entry["leaf"]))
    assert (entry["event_id"], leaf["kind"]) == (issued["event_id"], "report.issued")
    assert leaf["by"] == auditor["principal"]["id"]


def test_only_the_owner_speaks_to_the_regulator(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fg(home, "init")
    dep = live(home)["id"]
    admin = js(home, "principal", "create", "--name", "Ops admin", "--role", "admin")
    for args in (("link", "push"), ("orders", "fetch")):
        by_key = fg(home, "--key", admin["api_key"]["key"], *args, "--json", ok=False)
        assert by_key.returncode == 8 and "owner" in by_key.stdout + by_key.stderr, args
    assert js(home, "--key", admin["api_key"]["key"], "orders", "list", "-d", dep) == []
    other = js(home, "operator", "create", "--name", "Other Ltd", "--contact", "+1 555 0100")
    foreign = fg(home, "--key", other["api_key"]["key"], "orders", "list", "-d", dep, ok=False)
    assert foreign.returncode == 5
