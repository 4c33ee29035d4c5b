"""A throwaway MariaDB server for the tests (Debian's ``mariadb-server``): a temp folder, a free
loopback port, no grant tables (any user, no password), stopped and removed at the end."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def mariadb_binaries() -> tuple[str, str] | None:
    server = shutil.which("mariadbd", path="/usr/sbin:/usr/bin")
    install = shutil.which("mariadb-install-db")
    client = shutil.which("mariadb") and shutil.which("mariadb-tzinfo-to-sql")
    return (server, install) if server and install and client else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def mariadb_server(server: str, install: str) -> Iterator[str]:
    """Yield a ``mysql://`` URL to database ``journeykit`` on a fresh server."""
    folder = Path(tempfile.mkdtemp(prefix="journeykit-mariadb-"))
    user = "mysql" if os.geteuid() == 0 else None
    if user:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data, sock, port = folder / "data", folder / "sock", _free_port()
    subprocess.run(
        [install, "--no-defaults", f"--datadir={data}", "--skip-test-db",
         "--auth-root-authentication-method=normal", *([f"--user={user}"] if user else [])],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    proc = subprocess.Popen(
        [server, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
         "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-log-bin",
         "--innodb-buffer-pool-size=32M", *([f"--user={user}"] if user else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the MariaDB server did not start") from None
                time.sleep(0.2)
        # Ibis sets the session's zone to 'UTC' by name: load that one zone's definition.
        zone = subprocess.run(
            ["mariadb-tzinfo-to-sql", "/usr/share/zoneinfo/UTC", "UTC"],
            check=True, capture_output=True, timeout=60,
        ).stdout  # fmt: skip
        subprocess.run(
            ["mariadb", "-h127.0.0.1", f"-P{port}", "-uroot", "mysql"],
            input=zone, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        import MySQLdb

        con = MySQLdb.connect(host="127.0.0.1", port=port, user="root")
        con.cursor().execute("CREATE DATABASE journeykit")
        con.close()
        yield f"mysql://root@127.0.0.1:{port}/journeykit"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
