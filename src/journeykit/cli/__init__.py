"""The ``journeykit`` command: thin adapters over the library; errors translated in one place."""

from __future__ import annotations

import atexit
import importlib
import os
import sys
from typing import Any, NoReturn

import click

from journeykit import __version__
from journeykit.errors import JourneykitError

# Which module of ``journeykit.cli`` defines each command. A command's module is imported only
# when that command runs (or when help lists it), so `journeykit funnel` does not pay for the
# web app, discovery or CLV imports. tests/cli/test_startup.py checks this table against what
# each module registers.
COMMANDS = {
    "validate": "journey_cmds", "schema": "journey_cmds", "init": "journey_cmds",
    "mermaid": "journey_cmds",
    "import": "events_cmds", "sync": "events_cmds", "sources": "events_cmds",
    "identities": "events_cmds", "rates": "events_cmds", "simulate": "events_cmds",
    "doctor": "events_cmds",
    "funnel": "analytics_cmds", "positions": "analytics_cmds", "stuck": "analytics_cmds",
    "paths": "analytics_cmds", "cohorts": "analytics_cmds",
    "clv": "clv_cmds", "community": "community_cmds", "discover": "discover_cmds",
    "act": "act_cmds", "prove": "prove_cmds", "sample-size": "prove_cmds",
    "map": "report_cmds", "report": "report_cmds",
    "opportunities": "decide_cmds", "proof": "decide_cmds", "hero": "decide_cmds",
    "demo": "demo", "serve": "web_cmds", "users": "web_cmds",
}  # fmt: skip

# Commands that only read: they write to stdout and stderr, and no file or database (a
# workspace's file is opened read-only). main() lets them leave without the interpreter's
# teardown.
QUESTIONS = frozenset({"funnel", "positions", "stuck", "paths", "cohorts"})


class JourneykitGroup(click.Group):
    answered = False  # a command of QUESTIONS ran to its end

    def invoke(self, ctx: click.Context) -> Any:
        try:
            done = super().invoke(ctx)
            JourneykitGroup.answered = ctx.invoked_subcommand in QUESTIONS
            return done
        except JourneykitError as exc:
            # A user's input problem: one clear message, exit 1, no traceback.
            raise click.ClickException(str(exc)) from exc
        except Exception as exc:
            # A database file damaged or out of room, met by a lazy query after the open: the
            # user's to fix (a message naming the file), not our bug.
            from journeykit.engine import storage_error_of

            translated = storage_error_of(exc)
            if translated is None:
                raise
            raise click.ClickException(str(translated)) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            load_commands(COMMANDS[cmd_name])
        return self.commands.get(cmd_name)


def load_commands(module: str) -> None:
    """Import one module of commands and add what it defines to the group."""
    importlib.import_module(f"journeykit.cli.{module}").register(cli)


@click.group(cls=JourneykitGroup)
@click.version_option(__version__, prog_name="journeykit")
def cli() -> None:
    """Customer and community journeys as code: design, measure, act."""


def main() -> None:
    # numpy starts OpenBLAS's worker threads, which then spin for 2**28 cycles waiting for
    # work before they sleep: 0.04-0.05 CPU s of every command, most of which do no BLAS at
    # all (docs/benchmarks.md, issue 22). They sleep at once instead; a user's setting wins.
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    try:
        cli(prog_name="journeykit")
    except SystemExit as exc:
        if JourneykitGroup.answered and isinstance(exc.code, int | None):
            leave(exc.code or 0)
        raise


def leave(code: int) -> NoReturn:
    """Exit once the answer is out, as mypy does (``util.hard_exit``): the output flushed and
    the ``atexit`` handlers run, but no module teardown and no freeing of what the command
    built, which a process about to end need not pay (0.03-0.05 CPU s, issue 22). Only after
    a command that wrote nothing but its output."""
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream: Python's own exit reports it
        raise SystemExit(code) from None
    os._exit(code)
