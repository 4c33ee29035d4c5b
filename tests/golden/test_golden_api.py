"""Golden outputs of the web API for one fixed workspace: the living map's numbers (with each
card's health), the default funnel and the stuck list, as a viewer fetches them.

Regenerate after a deliberate change with ``JOURNEYKIT_UPDATE_GOLDEN=1 pytest tests/golden``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.golden.test_golden import HERE, UPDATE, _rounded

pytest.importorskip("fastapi", reason="the web extra is not installed")

ENDPOINTS = {
    "api_map": "/api/journeys/journey/map",
    "api_funnel": "/api/journeys/journey/funnel",
    "api_stuck": "/api/journeys/journey/lists/stuck?top=25",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.web.conftest import make_site

    site = make_site(tmp_path_factory.mktemp("golden-web") / "ws")
    yield site.client("viewer")
    site.app.state.ctx.imports.wait()


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_api_json_is_unchanged(client: Any, name: str) -> None:
    r = client.get(ENDPOINTS[name])
    assert r.status_code == 200, r.text
    got = _rounded(r.json())
    golden: Path = HERE / f"{name}.json"
    if UPDATE or not golden.exists():
        golden.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote the missing golden file {golden.name}; check it in")
    assert got == json.loads(golden.read_text(encoding="utf-8"))
