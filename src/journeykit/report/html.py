"""HTML blocks the report's sections share: a section with its heading, a table of cells.

Every cell and title goes through ``esc``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from journeykit.report.svg import esc


def table(head: Sequence[str], rows: Iterable[Sequence[object]], numeric: set[int]) -> str:
    th = "".join(
        f'<th class="num">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>"
        for i, h in enumerate(head)
    )
    body = []
    for r in rows:
        cells = "".join(
            f'<td class="num">{esc(v)}</td>' if i in numeric else f"<td>{esc(v)}</td>"
            for i, v in enumerate(r)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def section(key: str, title: str, body: str, *, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<section id="{key}"{klass}><h2>{esc(title)}</h2>{body}</section>'
