"""``facegate policy``: the legal rules, and why something was allowed or refused."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from facegate import errors as e
from facegate.cli.common import Home, Json, emit, fail, gate_for, out, run

policy_app = typer.Typer(
    help="The legal rules: list the packs, explain a rule or a ledger event.",
    no_args_is_help=True,
)

Target = Annotated[
    str,
    typer.Argument(
        help="a ledger event id (evt_...) or a rule id (e.g. CN-FR-13)", show_default=False
    ),
]


@policy_app.command("explain")
def policy_explain(target: Target, home: Home = None, as_json: Json = False) -> None:
    """Why: a ledger event's kind and each rule it cites, or the text of one rule."""
    from facegate.flows.explain import explain_event
    from facegate.policy.explain import explain_rule

    def act() -> dict[str, Any]:
        if target.strip().startswith("evt_"):
            with gate_for(home) as gate, gate.db.read() as s:
                return explain_event(s, target).to_dict()
        return explain_rule(target).to_dict()

    r = run(as_json, act)

    def human() -> None:
        if "event_id" in r:
            where = f"  deployment {r['deployment']}" if r["deployment"] else ""
            out.print(f"[bold]{r['event_id']}[/]  {escape(r['kind'])}  {r['at']}{where}")
            if not r["intact"]:
                out.print("  [red]this entry does not match its stored hash[/]")
            for key in ("act", "stage", "reason"):
                if key in r["details"]:
                    out.print(f"  {key}: {escape(str(r['details'][key]))}")
            if not r["rules"]:
                out.print("  no rule ids were recorded with this event")
            for rule in r["rules"]:
                _print_rule(rule, indent="  ")
        else:
            _print_rule(r, indent="")

    emit(as_json, r, human)


def _print_rule(rule: dict[str, Any], *, indent: str) -> None:
    out.print(f"{indent}[bold]{rule['id']}[/]  {escape(rule['source'])}")
    if rule["plain"]:
        out.print(f"{indent}  {escape(rule['plain'])}")
    if rule["obligation"]:
        out.print(f"{indent}  obligation: {escape(rule['obligation'])}")
    for check in rule["checks"]:
        acts = ", ".join(check["acts"])
        out.print(f"{indent}  checked by {check['pack']}: {escape(check['summary'])} ({acts})")
    if not rule["checks"]:
        out.print(f"{indent}  met by construction; no pack checks it at run time")


@policy_app.command("list")
def policy_list(
    pack: Annotated[str | None, typer.Option("--pack", help="only this pack")] = None,
    as_json: Json = False,
) -> None:
    """The rules of every pack (or of one): id, acts checked, summary, source."""
    from facegate.policy.explain import list_rules

    rows = run(as_json, lambda: list_rules(pack))

    def human() -> None:
        table = Table("pack", "rule", "acts", "summary", "source")
        for row in rows:
            table.add_row(*(escape(row[k]) for k in ("pack", "id", "acts", "summary", "source")))
        out.print(table)

    emit(as_json, rows, human)


@policy_app.command("check")
def policy_check(home: Home = None, as_json: Json = False) -> None:
    """The security self-check (as 'facegate selfcheck'): each control measured, judged by the
    packs in use and ledgered; exit 4 if one refuses (processing then stops)."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.self_check().to_dict()

    r = run(as_json, act)

    def human() -> None:
        marks = {True: "[green]present[/]", False: "[red]MISSING[/]", None: "[yellow]attest[/]"}
        for control, present in r["controls"].items():
            note = escape(r["measurements"].get(control, ""))
            out.print(f"{control.replace('_', ' '):28} {marks[present]}  {note}")

    if not r["ok"]:
        first, *_ = r["problems"]
        raise fail(
            e.PolicyDenied(
                first.rsplit(" [", 1)[0],
                rule_id=first.rsplit("[", 1)[-1].rstrip("]"),
                advice="Put the missing controls in place, then run 'facegate selfcheck'.",
                rule_ids=tuple(r["rule_ids"]),
            ),
            as_json,
        )
    emit(as_json, r, human)
