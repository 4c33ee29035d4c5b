"""The visual journey builder's pages: one server-rendered form, no script needed.

Every button (add, remove, move, add a step, preview) posts the whole form and gets the page
back with the change made to the draft; only Save writes the file. Saving goes through the same
journey model and YAML writer as the editor (comments and key order kept, a revision made). A
little script (``app.js``) refreshes a rule's match counts as it is edited; without it the
counts refresh on the next button.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, get_args
from urllib.parse import quote

from fastapi import APIRouter, Body, Request
from fastapi.responses import RedirectResponse, Response

from journeykit.errors import JourneyFileError, JourneykitError, Problem
from journeykit.journey import Journey, parse_journey
from journeykit.journey.catalog import milestone_kinds
from journeykit.journey.plays import PlayStatus
from journeykit.journey.schema import Metric
from journeykit.web import builder_form as bf
from journeykit.web import rulecounts
from journeykit.web.api import READ
from journeykit.web.app import ident_of
from journeykit.web.journeys import Parsed
from journeykit.web.pages import ctx_of

if TYPE_CHECKING:
    from journeykit.web.app import Context

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", responses=READ)


def _plain(value: Any) -> Any:
    """YAML as loaded (ruamel's commented types, dates) as plain JSON data."""
    return json.loads(json.dumps(value, default=str))


def current_data(ctx: Context, key: str) -> tuple[int, dict[str, Any], list[Problem]]:
    """The revision number, the journey's data for the builder, and its problems (if any)."""
    rev, parsed = ctx.load(key)
    if parsed.journey is not None:
        return rev.number, bf.data_from(parsed.journey), []
    from journeykit.journey.load import _yaml

    try:
        raw = _yaml().load(rev.text)
    except Exception:
        raw = None
    data = _plain(raw) if isinstance(raw, dict) else {}
    return rev.number, data, list(parsed.problems)


def _rule_counts(ctx: Context, view: dict[str, Any]) -> dict[str, rulecounts.Match | None]:
    out: dict[str, rulecounts.Match | None] = {}
    for section, key in bf.RULES.items():
        for i, v in enumerate(view[section]):
            rule = v["item"].get(key)
            out[f"{section}.{i}"] = _match(ctx, rule)
    return out


def _match(ctx: Context, rule: Any) -> rulecounts.Match | None:
    if rule is None:
        return None
    from pydantic import TypeAdapter, ValidationError

    from journeykit.journey.rules import RuleField

    try:
        parsed = TypeAdapter(RuleField).validate_python(rule)
    except ValidationError:
        return None
    return rulecounts.matches(ctx.data, parsed)


def _preview(journey: Journey | None) -> str | None:
    if journey is None:
        return None
    from journeykit.report import pages as report_pages

    try:
        return report_pages.map_svg(journey)
    except JourneykitError:
        return None


def render_builder(
    request: Request,
    key: str,
    data: dict[str, Any],
    base: int,
    code: int = 200,
    *,
    problems: list[Problem] | None = None,
    saved: Any = None,
    message: str | None = None,
) -> Response:
    from journeykit.web.pages import render

    ctx = ctx_of(request)
    journey, found = bf.validate(data)
    shown = problems if problems is not None else found
    view = bf.view_of(data)
    observed = rulecounts.observed(ctx.data)
    return render(
        request, "builder.html", code, key=key, data=data, view=view, base=base,
        board=bf.board(data), kinds=list(milestone_kinds()), ops=bf.OPS, types=bf.TYPES,
        problems=shown, by_field=_by_field(shown), field_id=bf.field_id,
        counts=_rule_counts(ctx, view), observed=observed, keys_for=observed.keys_for,
        milestone_ids=[m.get("id", "") for m in data.get("milestones") or []
                       if isinstance(m, dict)],
        stage_ids=[s["item"].get("id", "") for s in view["stages"]],
        path_ids=[p.get("id", "") for p in data.get("paths") or [] if isinstance(p, dict)],
        play_statuses=list(get_args(PlayStatus)), north_star_metrics=list(get_args(Metric)),
        preview=_preview(journey), saved=saved, message=message,
        file=ctx.journeys.file(key).name,
    )  # fmt: skip


def _by_field(problems: list[Problem]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(p.field, []).append(p.message)
    return out


@pages.get("/journeys/{key}/builder")
def builder_page(request: Request, key: str, saved: int | None = None) -> Response:
    base, data, problems = current_data(ctx_of(request), key)
    return render_builder(request, key, data, base, problems=problems or None, saved=saved)


@pages.post("/journeys/{key}/builder")
async def builder_post(request: Request, key: str) -> Response:
    ctx = ctx_of(request)
    ctx.journeys.file(key)  # an unknown journey is a 404 before anything else
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    fields = dict(pairs)
    action = fields.get("action", "preview")
    try:
        base = int(fields.get("base", "0"))
        data = bf.data_of(
            [(k, v) for k, v in pairs if k not in ("action", "base", "note", "csrf_token")]
        )
        if action not in ("save", "preview"):
            data = bf.apply(data, action, fields)
    except (bf.FormError, ValueError) as exc:
        from journeykit.web.errors import FilterError

        raise FilterError(f"builder: {exc}") from None
    if action != "save":
        return render_builder(request, key, data, base)
    return _save(request, ctx, key, data, base, fields.get("note", "").strip())


def _save(
    request: Request, ctx: Context, key: str, data: dict[str, Any], base: int, note: str
) -> Response:
    journey, problems = bf.validate(data)
    if journey is None:
        msg = f"{len(problems)} problem(s); nothing was saved."
        return render_builder(request, key, data, base, 422, problems=problems, message=msg)
    rev = ctx.journeys.current(key)
    if rev.number != base:
        msg = (
            f"The journey changed since you opened it (now revision {rev.number}, by "
            f"{rev.author}); nothing was saved. Open the builder again to start from it."
        )
        return render_builder(request, key, data, base, 409, message=msg)
    journey._source = _source_of(rev.text, ctx.journeys.file(key).name)
    user = ident_of(request).user
    assert user is not None
    result = ctx.journeys.save(key, journey.to_yaml(), user.name, note or "saved in the builder")
    if isinstance(result, Parsed):  # the model and the writer disagree: our bug, say it plainly
        msg = "The saved text did not validate; nothing was saved."
        return render_builder(
            request, key, data, base, 422, problems=list(result.problems), message=msg
        )
    return RedirectResponse(f"/journeys/{quote(key)}/builder?saved={result.number}", 303)


def _source_of(text: str, name: str) -> Any:
    """A fresh copy of the file's YAML tree (saving writes into it: never a cached one)."""
    try:
        return parse_journey(text, name)._source
    except JourneyFileError:
        from journeykit.journey.load import _yaml

        try:
            raw = _yaml().load(text)
        except Exception:
            return None
        from ruamel.yaml.comments import CommentedMap

        return raw if isinstance(raw, CommentedMap) else None


@api.post("/journeys/{key}/rule-counts", summary="How many events and customers a rule matches")
def rule_counts_api(
    request: Request, key: str, rule: Annotated[dict[str, Any], Body(embed=True)]
) -> dict[str, Any]:
    """How many events and customers the rule builder's rule matches, as it is edited."""
    ctx = ctx_of(request)
    ctx.journeys.file(key)
    try:
        data = bf.rule_of(bf.nest((str(k), str(v)) for k, v in rule.items()))
    except bf.FormError as exc:
        return {"problem": str(exc)}
    if data is None:
        return {"problem": "the rule is empty: pick an event or add a condition"}
    match = _match(ctx, data)
    if match is None:
        return {"problem": "the rule does not validate yet"}
    return match.to_dict()
