"""Quoting for names and literals that cannot be query parameters (identifiers, struct keys)."""

from __future__ import annotations


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_pointer(key: str) -> str:
    """DuckDB's JSON pointer (RFC 6901) to the top-level member ``key``, whatever its characters.

    A bare key after ``->`` is read as JSONPath when it starts with ``$`` (and ``*`` as a
    wildcard); a pointer treats only ``~`` and ``/`` specially, and those are escaped.
    """
    return "/" + key.replace("~", "~0").replace("/", "~1")
