"""How big a journey may be, checked before any model is built (issue 23).

YAML aliases let a few hundred bytes stand for millions of nodes: ``&r0 {event: x}`` then
``&r1 {any: [*r0, *r0, ...]}`` a few levels deep. The loader keeps aliases shared, so the text
loads fast; it is validation and every analysis after it that would expand them. The limits
below are on the expanded document, counted once per shared node, so checking costs what the
text costs. A real journey is about 7 KB, 550 nodes and 8 levels deep; the limits leave room
for journeys thirty times that.
"""

from __future__ import annotations

import re
from typing import Any

MAX_TEXT_CHARS = 256 * 1024  # ruamel reads ~4 ms per KB: about a second at the limit
MAX_NODES = 20_000  # mappings, lists and values, aliases expanded
MAX_RULE_NODES = 2_000  # one `when` or `segment` rule, aliases expanded
MAX_DEPTH = 32  # nested mappings and lists
RULE_KEYS = frozenset({"when", "segment"})
_BLOCK_SCALAR = re.compile(r"[|>][-+0-9]*\s*(#.*)?$")
_DASHES = re.compile(r"(- +)*")


Loc = tuple[str | int, ...]


class _TooBig(Exception):
    def __init__(self, loc: Loc, message: str) -> None:
        self.loc, self.message = loc, message


def text_problem(text: str) -> str | None:
    """What is wrong when the text is longer than a journey may be."""
    if len(text) > MAX_TEXT_CHARS:
        kb = len(text) // 1024
        return f"{kb} KB is more than a journey may be ({MAX_TEXT_CHARS // 1024} KB)"
    return None


def flow_problem(text: str) -> tuple[int, str] | None:
    """(line, what) when ``[``/``{`` nest deeper than MAX_DEPTH: found before the YAML reader
    sees it, because its time grows with the cube of that depth (1,000 levels: 7 s)."""
    depth, line, prev, quote, comment, escaped = 0, 1, "\n", "", False, False
    for ch in text:
        if ch == "\n":
            line, comment = line + 1, False
        if comment:
            continue
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch == "'" and prev == "'":  # '' inside single quotes is a quote: still quoted
            quote = ch
        elif ch == "#" and prev in " \t\n":
            comment = True
        elif ch in "'\"" and prev in " \t\n[{,:":
            quote = ch
        elif ch in "[{" and (depth or prev in " \t\n-:"):
            depth += 1
            if depth > MAX_DEPTH:
                return line, f"nested more than {MAX_DEPTH} levels deep"
        elif ch in "]}" and depth:
            depth -= 1
        prev = ch
    return None


def block_problem(text: str) -> tuple[int, str] | None:
    """(line, what) when indentation nests deeper than MAX_DEPTH (the reader recurses per level)."""
    indents: list[int] = []
    scalar_at = -1  # the indent of a `key: |` line whose more indented lines are text
    for number, raw in enumerate(text.split("\n"), 1):
        body = raw.lstrip(" ")
        indent = len(raw) - len(body)
        if not body or body.startswith("#") or (scalar_at >= 0 and indent > scalar_at):
            continue
        scalar_at = indent if _BLOCK_SCALAR.search(body) else -1
        while indents and indents[-1] >= indent:
            indents.pop()
        indents.append(indent)
        dashes = len(_DASHES.match(body).group(0)) // 2  # type: ignore[union-attr]
        if len(indents) + dashes > MAX_DEPTH:
            return number, f"nested more than {MAX_DEPTH} levels deep"
    return None


def size_problem(data: Any) -> tuple[Loc, str] | None:
    """(where, what) when the loaded YAML, aliases expanded, is too large or too deep."""
    try:
        _Walk().size(data, ())
    except _TooBig as exc:
        return exc.loc, exc.message
    return None


class _Walk:
    def __init__(self) -> None:
        # id -> (expanded nodes, levels below): a shared (aliased) node is walked once.
        self.seen: dict[int, tuple[int, int]] = {}

    def size(self, node: Any, loc: Loc) -> tuple[int, int]:
        """(expanded nodes, levels below) of ``node``; raises _TooBig past a limit."""
        if not isinstance(node, dict | list):
            return 1, 0
        key = id(node)
        if key not in self.seen:
            if len(loc) >= MAX_DEPTH:  # checked on the way down: the walk itself stays shallow
                raise _TooBig(loc, f"nested more than {MAX_DEPTH} levels deep")
            self.seen[key] = self._children(node, loc)
        nodes, levels = self.seen[key]
        if len(loc) + levels > MAX_DEPTH:  # a shared node met again, deeper
            raise _TooBig(loc, f"nested more than {MAX_DEPTH} levels deep")
        return nodes, levels

    def _children(self, node: dict[Any, Any] | list[Any], loc: Loc) -> tuple[int, int]:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        nodes, levels = 1, 0
        for k, child in items:
            where = (*loc, k if isinstance(k, int) else str(k))
            n, d = self.size(child, where)
            if isinstance(k, str) and k in RULE_KEYS and n > MAX_RULE_NODES:
                msg = f"the rule expands to {n:,} terms (at most {MAX_RULE_NODES:,})"
                raise _TooBig(where, msg)
            nodes, levels = nodes + n + isinstance(node, dict), max(levels, d + 1)
            if nodes > MAX_NODES:
                msg = f"the journey expands to more than {MAX_NODES:,} values (aliases counted)"
                raise _TooBig(loc, msg)
        return nodes, levels
