"""A Spark standalone cluster on this machine's loopback, from the pyspark installation.

A master and its workers are separate JVMs talking over the network, as on a real cluster: a
query runs in executors that are not the driver's process, with shuffles between them. Local
mode (``spark://local[N]``) runs everything in the driver's JVM, so it cannot show what a
cluster changes. The tests and ``bench/spark_scale.py`` start one with :func:`standalone_cluster`
and connect to it with ``spark://127.0.0.1:PORT``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from journeykit._optional import require

LOOPBACK = "127.0.0.1"


def spark_home() -> Path:
    """The Spark distribution inside the pyspark package (its ``bin/spark-class``, jars)."""
    pyspark = require("pyspark", extra="spark")
    return Path(str(pyspark.__file__)).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@contextmanager
def standalone_cluster(
    workers: int = 2, cores: int = 1, memory: str = "1g", timeout: float = 120.0
) -> Iterator[str]:
    """Start a master and ``workers`` workers on loopback; yield the master's URL; stop them.

    Each worker offers ``cores`` cores and ``memory``; the URL is ready once every worker has
    registered with the master (read from the master's log).
    """
    home = spark_home()
    port = _free_port()
    url = f"spark://{LOOPBACK}:{port}"
    with tempfile.TemporaryDirectory(prefix="jk-spark-") as tmp:
        env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": LOOPBACK,
               "SPARK_LOG_DIR": tmp, "SPARK_WORKER_DIR": str(Path(tmp) / "work")}  # fmt: skip
        spark_class = str(home / "bin" / "spark-class")
        procs: list[subprocess.Popen[bytes]] = []
        master_log = Path(tmp) / "master.log"
        try:
            with master_log.open("wb") as out:
                procs.append(subprocess.Popen(
                    [spark_class, "org.apache.spark.deploy.master.Master", "--host", LOOPBACK,
                     "--port", str(port), "--webui-port", str(_free_port())],
                    env=env, stdout=out, stderr=subprocess.STDOUT,
                ))  # fmt: skip
            _wait_for(master_log, "I have been elected leader", 1, timeout, procs)
            for i in range(workers):
                with (Path(tmp) / f"worker{i}.log").open("wb") as out:
                    procs.append(subprocess.Popen(
                        [spark_class, "org.apache.spark.deploy.worker.Worker", "--host",
                         LOOPBACK, "--cores", str(cores), "--memory", memory,
                         "--webui-port", str(_free_port()), url],
                        env=env, stdout=out, stderr=subprocess.STDOUT,
                    ))  # fmt: skip
            _wait_for(master_log, "Registering worker", workers, timeout, procs)
            yield url
        finally:
            for p in reversed(procs):
                p.terminate()
            for p in procs:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()


def _wait_for(
    log: Path, line: str, count: int, timeout: float, procs: list[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count(line) >= count:
            return
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a Spark process exited early:\n{_tail(log)}")
        time.sleep(0.2)
    raise RuntimeError(f"Spark cluster not ready after {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-20:])
