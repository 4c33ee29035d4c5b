"""The ``journeykit`` command: thin adapters over the library; errors translated in one place."""

from __future__ import annotations

from typing import Any

import click

from journeykit import __version__
from journeykit.errors import JourneykitError


class JourneykitGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
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


@click.group(cls=JourneykitGroup)
@click.version_option(__version__, prog_name="journeykit")
def cli() -> None:
    """Customer and community journeys as code: design, measure, act."""


def _register() -> None:
    from journeykit.cli import (
        act_cmds,
        analytics_cmds,
        clv_cmds,
        community_cmds,
        decide_cmds,
        demo,
        discover_cmds,
        events_cmds,
        journey_cmds,
        prove_cmds,
        report_cmds,
        web_cmds,
    )

    commands = (journey_cmds, events_cmds, analytics_cmds, clv_cmds, community_cmds, discover_cmds)
    for module in (*commands, act_cmds, prove_cmds, report_cmds, decide_cmds, demo, web_cmds):
        module.register(cli)


_register()


def main() -> None:
    cli(prog_name="journeykit")
