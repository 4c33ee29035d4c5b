"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temp folder, a free port.

pytest-postgresql does the same but cannot run as root, and CI runs as root: initdb refuses
root, so the server runs as the ``postgres`` system user (or ``nobody``) when we are root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def postgres_bindir() -> Path | None:
    """Debian keeps the server binaries in /usr/lib/postgresql/N/bin, off the PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root with neither a 'postgres' nor a 'nobody' user")


@contextmanager
def postgres_server(bindir: Path) -> Iterator[str]:
    """Start a server on 127.0.0.1 and yield its URL (user ``journeykit``, database
    ``journeykit``, trust authentication); stop it and remove its files at the end."""
    user = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="journeykit-pg-"))
    data = folder / "data"
    if user:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run(
            args, check=True, user=user, cwd=folder, capture_output=True, text=True, timeout=120
        )

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "journeykit", "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -F"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
            str(folder / "log"), "-w", "start")  # fmt: skip
        try:
            run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "journeykit",
                "journeykit")  # fmt: skip
            yield f"postgresql://journeykit@127.0.0.1:{port}/journeykit"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
