"""Golden outputs: every number the CLI prints as JSON for one small fixed journey and log.

A change in any number shows here as a diff of ``tests/golden/*.json`` in review. Regenerate after
a deliberate change with ``JOURNEYKIT_UPDATE_GOLDEN=1 pytest tests/golden`` and say why in the
commit. Floats are compared to 6 significant digits, so a different BLAS does not fail the test.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from journeykit.cli import cli

HERE = Path(__file__).parent
EXAMPLES = HERE.parents[1] / "examples"
UPDATE = os.environ.get("JOURNEYKIT_UPDATE_GOLDEN") == "1"

# (golden name, journey template, command after the journey argument)
CASES: list[tuple[str, str, list[str]]] = [
    ("funnel", "coding-course", ["funnel", "--window", "30d"]),
    ("funnel_persona", "coding-course", ["funnel", "--window", "30d", "--by", "persona"]),
    ("funnel_strict", "coding-course", ["funnel", "--mode", "strict", "--window", "14d"]),
    ("positions", "coding-course", ["positions"]),
    ("stuck", "coding-course", ["stuck"]),
    ("paths", "coding-course", ["paths"]),
    ("cohorts", "coding-course", ["cohorts"]),
    ("clv_value", "saas-trial", ["clv", "value", "--penalizer", "0.01"]),
    ("clv_simple", "saas-trial", ["clv", "simple", "--by", "path"]),
    ("community_northstar", "membership-community", ["community", "northstar"]),
    ("community_levels", "membership-community", ["community", "levels"]),
    ("community_impact", "membership-community", ["community", "impact"]),
]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out: dict[str, Path] = {}
    root = tmp_path_factory.mktemp("golden")
    for name in {template for _, template, _ in CASES}:
        events = root / f"{name}.parquet"
        journey = str(EXAMPLES / f"{name}.yaml")
        args = ["simulate", journey, "--customers", "400", "--seed", "7", "-o", str(events)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        out[name] = events
    return out


_OPTIMISER_PATH = {"iterations", "message"}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value) or value == 0:
            return value
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        # An optimiser's path is numerical noise (its final gradient about 1e-9, its iteration
        # count and stop message differ between scipy and BLAS builds); what matters is that it
        # converged, to the parameters compared above.
        return {
            k: (v < 1e-4) if k == "gradient_norm" else _rounded(v)
            for k, v in value.items()
            if k not in _OPTIMISER_PATH
        }
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


@pytest.mark.parametrize(("name", "template", "command"), CASES, ids=[c[0] for c in CASES])
def test_cli_json_is_unchanged(
    logs: dict[str, Path], name: str, template: str, command: list[str]
) -> None:
    journey = str(EXAMPLES / f"{template}.yaml")
    head = command[:2] if command[0] in {"clv", "community"} else command[:1]
    rest = command[len(head) :]
    args = [*head, journey, "--events", str(logs[template]), "--format", "json", *rest]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    got = _rounded(json.loads(result.stdout))
    golden = HERE / f"{name}.json"
    if UPDATE or not golden.exists():
        golden.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote the missing golden file {golden.name}; check it in")
    assert got == json.loads(golden.read_text(encoding="utf-8"))
