"""``journeykit serve`` and ``journeykit users``: the web app and who may use it."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

import click

from journeykit.cli.output import err_console
from journeykit.errors import JourneykitError

_WS = click.option(
    "--workspace", "workspace_dir", required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The workspace folder (journeykit init DIR).",
)  # fmt: skip


def is_loopback(host: str) -> bool:
    """True when every address ``host`` names is a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def _store(workspace_dir: Path) -> object:
    from journeykit.web.store import Store
    from journeykit.workspace import open_workspace

    return Store.of_workspace(open_workspace(workspace_dir).root)


@click.command()
@_WS
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--https", is_flag=True, help="Behind a TLS proxy: mark cookies Secure.")
@click.option(
    "--warm/--no-warm",
    default=True,
    show_default=True,
    help="Draw every journey's map at start and after each import, before a visit.",
)
def serve(workspace_dir: Path, host: str, port: int, https: bool, warm: bool) -> None:
    """Serve the web app for a workspace (journeys, dashboards, look-up, imports)."""
    from journeykit._optional import require

    uvicorn = require("uvicorn", extra="web")
    from journeykit.web.app import create_app
    from journeykit.web.store import Store

    store = _store(workspace_dir)
    assert isinstance(store, Store)
    if not store.has_users() and not is_loopback(host):
        raise JourneykitError(
            f"no users yet, so the app only listens on this machine (not {host}); create an "
            f"admin first: journeykit users add NAME --role admin --workspace {workspace_dir}"
        )
    if not store.has_users():
        err_console.print(
            "no users: anyone on this machine can use the app (journeykit users add to lock it)",
            highlight=False,
        )
    app = create_app(workspace_dir, https=https)
    if warm:
        from journeykit.web.warm import Warmer

        Warmer(app.state.ctx).start()
    err_console.print(f"journeykit at http://{host}:{port}/", highlight=False, markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


@click.group()
def users() -> None:
    """Who may use the web app: viewer reads, editor edits journeys and imports, admin all."""


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("add")
@click.argument("name")
@_WS
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), default="viewer",
              show_default=True)  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def add(name: str, workspace_dir: Path, role: str, password_stdin: bool) -> None:
    """Add a user (asks for the password twice)."""
    from journeykit.web.store import Store, check_name

    check_name(name)
    store = _store(workspace_dir)
    assert isinstance(store, Store)
    store.add_user(name, role, _password(password_stdin))
    err_console.print(f"added {name} ({role})", highlight=False, markup=False)


@users.command("remove")
@click.argument("name")
@_WS
def remove(name: str, workspace_dir: Path) -> None:
    """Remove a user and end their sessions."""
    from journeykit.web.store import Store

    store = _store(workspace_dir)
    assert isinstance(store, Store)
    store.remove_user(name)
    err_console.print(f"removed {name}", highlight=False, markup=False)


@users.command("list")
@_WS
def list_users(workspace_dir: Path) -> None:
    """Users and their roles."""
    from journeykit.web.store import Store

    store = _store(workspace_dir)
    assert isinstance(store, Store)
    for u in store.users():
        click.echo(f"{u.name}\t{u.role}")


@users.command("reset-password")
@click.argument("name")
@_WS
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), default=None,
              help="Also change the role.")  # fmt: skip
def reset_password(name: str, workspace_dir: Path, password_stdin: bool, role: str | None) -> None:
    """Set a new password (ends the user's sessions)."""
    from journeykit.web.store import Store

    store = _store(workspace_dir)
    assert isinstance(store, Store)
    if store.user(name) is None:
        raise JourneykitError(f"no user {name!r}")
    store.set_password(name, _password(password_stdin))
    if role:
        store.set_role(name, role)
    err_console.print(f"new password for {name}", highlight=False, markup=False)


def register(group: click.Group) -> None:
    group.add_command(serve)
    group.add_command(users)
