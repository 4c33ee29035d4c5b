"""REST sources: a payment system's objects pulled through its API into a workspace.

``stripe://charges`` (or ``invoices``, ``subscriptions``) pages through Stripe's list endpoint
with dlt's ``rest_api`` source (the ``rest`` extra): the cursor is the last object's id
(``starting_after``), rate-limit answers (429) are waited out and retried, and a page that keeps
failing fails the pull. The objects are written to a JSON-lines file and imported with the
matching preset (events.presets), so they are checked, counted and refused like any export,
all or nothing: a failed pull imports nothing. Pulling again adds what is new; objects seen
before are exact duplicates and stay out.

The API key comes from the environment (``STRIPE_API_KEY``), never the command line.
``JOURNEYKIT_STRIPE_API`` points at another base URL (a test server, a proxy).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeykit._optional import require
from journeykit.errors import did_you_mean
from journeykit.events.dbsource import SourceError


@dataclass(frozen=True)
class RestApi:
    name: str
    base_url: str
    base_env: str  # overrides base_url
    key_env: str  # the API key's environment variable
    resources: dict[str, tuple[str, dict[str, Any]]]  # resource -> (preset, query params)


APIS = {
    "stripe": RestApi(
        "stripe",
        "https://api.stripe.com/v1/",
        "JOURNEYKIT_STRIPE_API",
        "STRIPE_API_KEY",
        {
            "charges": ("stripe-charges", {}),
            "invoices": ("stripe-invoices", {}),
            "subscriptions": ("stripe-subscriptions", {"status": "all"}),
        },
    ),
}


def rest_target(url: str) -> tuple[RestApi, str] | None:
    """``stripe://charges`` -> (the API, the resource); None for any other URL."""
    scheme, sep, rest = url.partition("://")
    api = APIS.get(scheme.lower()) if sep else None
    if api is None:
        return None
    resource = rest.strip("/")
    if resource not in api.resources:
        raise SourceError(
            f"{scheme}:// has no resource {resource!r}{did_you_mean(resource, api.resources)} "
            f"(known: {', '.join(api.resources)})"
        )
    return api, resource


def pull_to_file(api: RestApi, resource: str, out: Path, *, page_size: int = 100) -> int:
    """Every object of ``resource``, one JSON object a line, into ``out``; the count."""
    key = os.environ.get(api.key_env)
    if not key:
        raise SourceError(f"{api.name}: set the environment variable {api.key_env} (its API key)")
    count = 0
    with out.open("w", encoding="utf-8") as fh:
        for item in _items(api, resource, key, page_size):
            fh.write(json.dumps(item, default=str) + "\n")
            count += 1
    return count


def _items(api: RestApi, resource: str, key: str, page_size: int) -> Iterator[dict[str, Any]]:
    # dlt reports usage unless told not to; nothing leaves the machine unasked.
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    rest_api = require("dlt.sources.rest_api", extra="rest")
    _, params = api.resources[resource]
    source = rest_api.rest_api_source({
        "client": {
            "base_url": os.environ.get(api.base_env, api.base_url),
            "auth": {"type": "bearer", "token": key},
            "paginator": {"type": "cursor", "cursor_path": "data[-1].id",
                          "cursor_param": "starting_after"},
        },
        "resources": [{
            "name": resource,
            "endpoint": {"path": resource, "params": {"limit": page_size, **params},
                         "data_selector": "data"},
        }],
    })  # fmt: skip
    try:
        yield from source.resources[resource]
    except Exception as exc:  # dlt wraps the HTTP error of a page that kept failing
        cause: BaseException = exc
        while cause.__cause__ is not None:
            cause = cause.__cause__
        text = str(cause).strip()
        why = text.splitlines()[0][:300] if text else type(cause).__name__
        raise SourceError(
            f"{api.name}://{resource}: the pull failed, nothing was imported: {why}"
        ) from None
