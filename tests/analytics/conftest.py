"""The hypothesis profile for analytics tests: fixed seeds only (STYLE.md Pattern 8).

Tests opt in with ``@settings.get_profile("analytics")``; loading it globally would change the
settings of every other test directory in the same session.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ibis
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "analytics",
    derandomize=True,
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def con() -> Iterator[ibis.BaseBackend]:
    """An in-memory DuckDB for the tests that run the fast analytics on a generated log."""
    backend = ibis.duckdb.connect()
    yield backend
    backend.disconnect()


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A local Spark engine for the tests marked ``spark`` (skipped without pyspark)."""
    pytest.importorskip("pyspark")
    from journeykit.engine.spark import SparkEngine

    engine = SparkEngine.from_url("spark://local[2]")
    yield engine
    engine.con.disconnect()
