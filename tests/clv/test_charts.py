"""The CLV diagnostic charts draw what the data says (report/clv_charts.py)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

from journeykit.clv import BetaGeo, BetaGeoParams, HoldoutBucket, HoldoutCheck
from journeykit.clv.diagnostics import Tracking, probability_alive_matrix
from journeykit.clv.uncertainty import GroupInterval
from journeykit.report.clv_charts import (
    group_intervals_chart,
    holdout_chart,
    matrix_chart,
    tracking_chart,
)


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML


def test_tracking_chart_draws_both_lines() -> None:
    t = np.arange(1.0, 11.0)
    tracking = Tracking(t, np.cumsum(np.full(10, 2.0)), np.cumsum(np.full(10, 2.5)))
    svg = tracking_chart(tracking, calibration_end=5.0)
    root = _parse(svg)
    paths = [e for e in root.iter() if e.tag.endswith("path")]
    assert len(paths) == 2 and "end of calibration" in svg
    assert "per interval" in tracking_chart(tracking, incremental=True)


def test_matrix_chart_has_one_cell_per_value() -> None:
    m = probability_alive_matrix(
        BetaGeo.from_params(BetaGeoParams(0.243, 4.414, 0.793, 2.426)), 5, 9
    )
    root = _parse(matrix_chart(m))
    cells = [e for e in root.iter() if e.tag.endswith("rect")]
    assert len(cells) == m.values.size
    # the cell at frequency 5, recency 0 (long silent heavy buyer) is the palest
    opacities = {
        c.findtext("{http://www.w3.org/2000/svg}title"): float(c.get("fill-opacity", 0))
        for c in cells
    }
    palest = min(opacities, key=opacities.__getitem__)
    assert palest is not None and palest.startswith("frequency 5, recency 0")


def test_holdout_and_interval_charts() -> None:
    check = HoldoutCheck(
        "BetaGeo", 39.0, (HoldoutBucket("0", 10, 0.2, 0.25), HoldoutBucket("1+", 5, 1.0, 0.9))
    )
    root = _parse(holdout_chart(check))
    assert len([e for e in root.iter() if e.tag.endswith("rect")]) == 4
    groups = [
        GroupInterval("all", 15, 10.0, 1.0, 8.2, 12.2),
        GroupInterval("a", 5, 20.0, 3.0, 15.0, 26.0),
    ]
    svg = group_intervals_chart(groups)
    _parse(svg)
    assert re.search(r"a: 20\.00 \(15\.00 to 26\.00\)", svg)
