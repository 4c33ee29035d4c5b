"""The same analyses give the same answers on a Spark standalone cluster as on DuckDB.

A master and two workers are started on loopback from the pyspark installation
(``engine.spark_cluster``): the queries run in executors outside the driver, with shuffles
between them, which local mode never does.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import ibis
import pyarrow as pa
import pytest

from journeykit.journey import Journey
from tests.analytics.test_engines import _names_only, _results, journey, log

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java: apt-get install a JRE"),
]
__all__ = ["journey", "log"]  # the module fixtures, shared with the local-mode tests


@pytest.fixture(scope="module")
def cluster_events(log: pa.Table) -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from journeykit.engine.spark import SparkEngine
    from journeykit.engine.spark_cluster import standalone_cluster

    with standalone_cluster(workers=2, cores=1, memory="1g") as url:
        engine = SparkEngine.from_url(url)
        session = engine.con._session
        assert session.sparkContext.master == url
        yield engine.upload(log)
        engine.con.disconnect()
        session.stop()


def test_cluster_and_duckdb_agree(journey: Journey, log: pa.Table, cluster_events: Any) -> None:
    duck = ibis.duckdb.connect().create_table("events", log)
    for j in (_names_only(journey), journey):
        expected = _results(duck, j)
        assert expected["funnel-ordered"]["steps"][0]["customers"] > 300  # not trivial
        assert _results(cluster_events, j) == expected
