"""Broken storage for tests: a damaged DuckDB file, and a disk with no room left.

``SmallDisk`` is a real full disk where the tests run as root (a tmpfs mounted for the test and
filled to the byte), else a file-size limit (``RLIMIT_FSIZE``) set in the subprocess that runs
the command: either way DuckDB's writes fail as they do on a full disk, in its own words
(``No space left on device`` or ``File too large``).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

HEADERS = 3 * 4096  # DuckDB's file starts with its main header and two database headers


def damage(database: Path, table: str = "event_rows") -> int:
    """Flip one byte inside a block that holds ``table``'s data; returns the file offset.

    One byte: DuckDB's block checksum folds 8-byte words with XOR, so the same change made to
    an even number of identical words (a run of zero padding flipped to 0xFF) cancels out.
    """
    con = duckdb.connect(str(database), read_only=True)
    try:
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()
        blocks = con.execute(
            "SELECT min(block_id) FROM pragma_storage_info(?) WHERE block_id >= 0", [table]
        ).fetchone()
    finally:
        con.close()
    assert block_size and blocks and blocks[0] is not None, f"{table} has no data block"
    offset = HEADERS + int(blocks[0]) * int(block_size[0]) + 100
    with database.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x5A]))
    return offset


def contents(database: Path) -> dict[str, tuple[int, int]]:
    """Every table's row count and a hash of all its values, read-only (a WAL is replayed in
    memory, never written back)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        out = {}
        for t in tables:
            row = con.execute(f'SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM "{t}" t')
            out[t] = tuple(row.fetchone() or (0, 0))
        return out  # type: ignore[return-value]
    finally:
        con.close()


def can_mount() -> bool:
    return sys.platform == "linux" and os.geteuid() == 0


@dataclass
class SmallDisk:
    """A folder whose disk can be made full: ``mode`` is ``tmpfs`` or ``rlimit``."""

    root: Path
    mode: str
    room: int | None = None  # bytes a write may still use; None: as much as there is

    def fill(self, room: int = 0) -> None:
        """From now on, writes past ``room`` more bytes fail (tmpfs: the disk is that full)."""
        self.room = room
        if self.mode != "tmpfs":
            return
        self.free()
        free = os.statvfs(self.root)
        with (self.root / "filler").open("wb") as f:
            left = free.f_bavail * free.f_frsize - room
            try:
                while left > 0:
                    left -= f.write(b"\0" * min(left, 1 << 20))
                    f.flush()
            except OSError:
                pass

    def free(self) -> None:
        self.room = None
        (self.root / "filler").unlink(missing_ok=True)

    def python(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``python ARGS`` with the disk as full as ``fill`` made it."""
        env = {
            **os.environ,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": os.pathsep.join(sys.path),
        }
        return subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, env=env,
            preexec_fn=self._limit if self.mode == "rlimit" and self.room is not None else None,
            timeout=300,
        )  # fmt: skip

    def journeykit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.python("-m", "journeykit", *args)

    def _limit(self) -> None:
        # The signal a process gets for writing past the limit would kill it; ignored, the write
        # fails with EFBIG instead (and the ignore survives exec).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        room = self.room or 0
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, resource.RLIM_INFINITY))


def mount_tmpfs(where: Path, size_mb: int) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(where)],
        capture_output=True,
    )
    return done.returncode == 0


def unmount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)
