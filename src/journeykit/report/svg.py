"""Small SVG building blocks: escaped text, wrapped lines, numbers for people.

Everything the journey file or the data says passes through ``esc`` before it reaches markup, so a
title like ``<script>`` is shown as text, never run.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable

# DejaVu Sans (the Debian default sans) averages about 0.55em per character; 0.6 leaves room, so
# a wrapped line never spills out of its box.
CHAR_EM = 0.6
BOLD_EM = 0.66
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def wrap(text: str, width_px: float, size: float, *, bold: bool = False) -> list[str]:
    """Lines of ``text`` that fit ``width_px`` at font ``size`` (long words are broken)."""
    chars = max(4, int(width_px / (size * (BOLD_EM if bold else CHAR_EM))))
    return textwrap.wrap(
        " ".join(text.split()), chars, break_long_words=True, break_on_hyphens=False
    ) or [""]


def text_lines(
    lines: Iterable[str],
    x: float,
    y: float,
    *,
    size: float,
    leading: float,
    cls: str = "",
    anchor: str = "start",
    weight: str = "normal",
) -> str:
    """One ``<text>`` with a ``<tspan>`` per line; ``y`` is the first baseline."""
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{y + i * leading:.1f}">{esc(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    klass = f' class="{esc(cls)}"' if cls else ""
    return (
        f'<text{klass} font-size="{size:g}" font-weight="{weight}" '
        f'text-anchor="{anchor}">{spans}</text>'
    )


def days(seconds: float | None) -> str:
    """A duration for a card: hours under two days, else days (one decimal under ten)."""
    if seconds is None:
        return "-"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    d = seconds / 86400
    return f"{d:.1f}d" if d < 10 else f"{d:.0f}d"


def pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"
