"""Where CLI output goes: data to stdout, people's messages and warnings to stderr.

The consoles are made on first use (PEP 562): rich costs about 0.02 CPU s that a command
writing JSON or CSV need not pay (issue 22).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    err_console: Console
    out_console: Console


@cache
def _consoles() -> dict[str, Console]:
    from rich.console import Console

    return {
        "err_console": Console(stderr=True, highlight=False, soft_wrap=True),
        "out_console": Console(highlight=False, soft_wrap=True),
    }


def __getattr__(name: str) -> Any:
    if name in ("err_console", "out_console"):
        return _consoles()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def warn(message: str) -> None:
    _consoles()["err_console"].print(
        f"[yellow]warning:[/yellow] {message}", markup=True, highlight=False
    )
