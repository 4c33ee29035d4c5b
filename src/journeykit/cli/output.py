"""Where CLI output goes: data to stdout, people's messages and warnings to stderr."""

from __future__ import annotations

from rich.console import Console

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {message}", markup=True, highlight=False)
