"""Spark through Ibis, for event logs that outgrow one machine. Imported only for spark:// URLs.

``spark://local`` (or ``spark://local[4]``) starts an in-process local session, as the tests do;
``spark://HOST:PORT`` connects to a cluster master. The session runs in UTC so that timestamps,
stored as UTC without a zone, mean the same as on DuckDB.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from journeykit._optional import require
from journeykit.engine import IbisEngine

if TYPE_CHECKING:
    import ibis.expr.types as ir


_LOCAL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


def master_of(url: str) -> str:
    """``spark://local[2]`` -> ``local[2]``; ``spark://host:7077`` -> ``spark://host:7077``."""
    rest = url.partition("://")[2]
    if rest in ("", "local") or rest.startswith("local["):
        return rest or "local[*]"
    return url


def session(master: str, conf: dict[str, str] | None = None) -> Any:
    pyspark_sql = require("pyspark.sql", extra="spark")
    # Python workers must run this interpreter (with its packages), not whatever `python3` is.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = pyspark_sql.SparkSession.builder.master(master).appName("journeykit")
    loopback = {}
    if master.startswith(("spark://127.0.0.1:", "spark://localhost:")):
        # A cluster on this machine's loopback (engine.spark_cluster): executors must reach
        # the driver there too, whatever address the host name resolves to.
        loopback = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
    for key, value in {**_LOCAL_CONF, **loopback, **(conf or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


class SparkEngine(IbisEngine):
    """Events on Spark: tables in place; files and workspaces read locally and uploaded."""

    @classmethod
    def from_url(cls, url: str) -> SparkEngine:
        import ibis

        return cls(ibis.pyspark.connect(session(master_of(url))))

    def upload(self, table: Any, name: str = "journeykit_events") -> ir.Table:
        """Put an Arrow table of events on the cluster as a temporary view (nothing on disk)."""
        session = self._backend._session
        session.createDataFrame(table).createOrReplaceTempView(name)
        return self._backend.table(name)
