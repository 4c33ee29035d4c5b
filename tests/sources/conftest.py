from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from journeykit.workspace import Workspace, create_workspace

from .pgserver import postgres_bindir, postgres_server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A real PostgreSQL server for the session (Debian's ``postgresql``; .ci/run installs it)."""
    pytest.importorskip("adbc_driver_postgresql", reason="the postgres extra is not installed")
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (Debian package postgresql) are not installed")
    with postgres_server(bindir) as url:
        yield url


@pytest.fixture
def pg(pg_url: str) -> Iterator[Connection]:
    """A connection to the test server; every table made in a test is dropped after it."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as con:
        yield con
        tables = con.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (table,) in tables:
            con.execute(f'DROP TABLE "{table}" CASCADE')


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return create_workspace(tmp_path / "ws", template="saas-trial")


if True:  # for the annotation above without importing psycopg at collection
    from typing import Any as Connection


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A real MariaDB server for the session (Debian's ``mariadb-server``; .ci/run installs it)."""
    pytest.importorskip("MySQLdb", reason="the mysql extra is not installed")
    from .mariadbserver import mariadb_binaries, mariadb_server

    binaries = mariadb_binaries()
    if binaries is None:
        pytest.skip("MariaDB's server binaries (Debian package mariadb-server) are not installed")
    with mariadb_server(*binaries) as url:
        yield url
