"""``facegate regulator login``: an official's login to the regulator console (the web
pages on the regulator node). The password is typed twice (hidden), or generated and shown
once with ``--generate``; only its Argon2id hash is kept, in the regulator's database.
Running it again for the same name replaces the password and ends that official's sessions.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from facegate.cli.common import Json, emit, out, run
from facegate.cli.regulator import RegHome, _open, regulator_app


@regulator_app.command("login")
def login(
    name: Annotated[str, typer.Option("--name", help="the official's name, as they sign in")],
    generate: Annotated[
        bool, typer.Option("--generate", help="make a password of five words, shown once")
    ] = False,
    home: RegHome = None,
    as_json: Json = False,
) -> None:
    """Create or replace an official's login to the regulator console (/console)."""
    from facegate.cli.demo import _WORDS
    from facegate.regulator.web_logins import set_login

    if generate:
        password = "-".join(secrets.choice(_WORDS) for _ in range(5))
    else:
        password = typer.prompt(
            "password (12+ characters)", hide_input=True, confirmation_prompt=True
        )

    def act() -> dict[str, str]:
        with _open(home) as reg:
            made = set_login(reg.core, name, password)
        shown = {"name": made.name, "set_at": made.password_set_at.isoformat()}
        return {**shown, "password": password} if generate else shown

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"login for [bold]{r['name']}[/] set; sign in at /console on the regulator node"
            + (f"\npassword (shown once): [bold]{r['password']}[/]" if generate else ""),
            highlight=False,
        ),
    )
