"""Discovery in the app: answers uploaded, their columns chosen, themes edited and accepted.

The answers live where the CLI and the other pages look for them, the workspace's ``answers/``
folder. The column choice is kept beside the file (``NAME.columns.json``), so every page that
reads the answers (themes, opportunities, stories) reads the same columns; theme edits go to the
CLI's own edits file (``NAME.themes.edits.yaml``, ``discover edit``'s default), so a rename made
in the browser holds in ``journeykit discover themes`` and the other way round. Accepting a
theme writes its milestone through ``discover.draft.accept_theme`` and the journey's YAML writer
(comments kept) as a new revision.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from journeykit.discover.answers import AnswerColumns
from journeykit.discover.edits import edits_path
from journeykit.errors import JourneykitError, no_room
from journeykit.web import views
from journeykit.web.app import Context, ident_of
from journeykit.web.errors import UploadError
from journeykit.web.imports import copy_upload, safe_name
from journeykit.web.pages import render

if TYPE_CHECKING:
    from journeykit.discover import ThemeResult

pages = APIRouter(include_in_schema=False)

MAX_ANSWERS = 20 * 1024**2  # bytes: a survey export, not a data dump
PREVIEW_ROWS = 5
ROLES = ("stage", "respondent", "question", "tenure", "language", "consent")  # besides the text


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def answers_name(filename: str) -> str:
    """The upload's safe name (as an events upload's), its type one answers are read from."""
    name = safe_name(filename, views.ANSWER_SUFFIXES, "an answers file")
    stem, suffix = os.path.splitext(name)
    return stem.lstrip("_")[:100] + suffix.lower()


def save_answers(ctx: Context, filename: str, stream: BinaryIO) -> str:
    """Keep an uploaded answers file under its safe name; a file that cannot be read as answers
    (or is too big, or empty) leaves the folder as it was. A file of the same name is replaced:
    its column choice and theme edits stay, and the edits follow their themes (by their answers)."""
    from journeykit.discover.answers import preview

    name = answers_name(filename)
    folder = ctx.ws.root / views.ANSWERS
    folder.mkdir(exist_ok=True)
    tmp = folder / f".{name}.upload{Path(name).suffix}"
    try:
        size = copy_upload(stream, tmp, name, MAX_ANSWERS)
        if size == 0:
            raise UploadError(f"{name}: the file is empty")
        columns, rows = preview(tmp, 1)
        if not columns or not rows:
            raise UploadError(f"{name}: no rows with columns found")
        tmp.replace(folder / name)
    except OSError as exc:
        full = no_room(exc, folder, "the answers were not saved")
        if full is None:
            raise
        raise full from exc
    finally:
        tmp.unlink(missing_ok=True)
    return name


def columns_file(path: Path) -> Path:
    return path.with_name(path.name + ".columns.json")


def columns_of(path: Path) -> AnswerColumns:
    """The columns chosen for this file, else the ones it names in journeykit's own words."""
    from journeykit.discover.answers import standard_columns

    chosen = columns_file(path)
    if chosen.is_file():
        return AnswerColumns(**json.loads(chosen.read_text("utf-8")))
    return standard_columns(path)


def choose_columns(path: Path, text: str, roles: Mapping[str, str]) -> AnswerColumns:
    """Check the chosen columns against the file and keep them beside it."""
    from journeykit.discover.answers import preview

    header = preview(path, 0)[0]
    chosen = {k: v or None for k, v in roles.items() if k in ROLES}
    for role, column in {"text": text, **chosen}.items():
        if column is not None and column not in header:
            raise UploadError(f"{role}: no column {column!r}; the file has {', '.join(header)}")
    columns = AnswerColumns(text, **chosen)
    columns_file(path).write_text(json.dumps(columns.mapped(), indent=1), "utf-8")
    return columns


def _themes_url(key: str, name: str, **extra: str) -> str:
    return f"/journeys/{quote(key)}/themes?{urlencode({'answers': name, **extra})}"


@pages.get("/journeys/{key}/themes")
def themes_page(
    request: Request, key: str, answers: str | None = None, done: str | None = None
) -> Response:
    ctx = _ctx(request)
    _, journey = ctx.journey(key)
    files = views.answer_files(ctx)
    result = views.themes(ctx, journey, answers) if answers else None
    accepted = {e.theme: m for m in journey.milestones for e in m.evidence if e.theme}
    return render(
        request, "themes.html", key=key, files=files, chosen=answers, result=result,
        journey=journey, accepted=accepted, done=done, max_mb=MAX_ANSWERS >> 20,
        highs=_by_moment(result, "celebrate"), lows=_by_moment(result, "breakdown"),
        suffixes=", ".join(views.ANSWER_SUFFIXES),
    )  # fmt: skip


def _by_moment(result: ThemeResult | None, moment: str) -> list[Any]:
    if result is None:
        return []
    return sorted((t for t in result.themes if t.moment == moment), key=lambda t: -t.size)


@pages.post("/journeys/{key}/answers")
def upload_answers(request: Request, key: str, file: Annotated[UploadFile, File()]) -> Response:
    ctx = _ctx(request)
    ctx.journey(key)  # a journey that does not exist is a 404 before anything is written
    name = save_answers(ctx, file.filename or "answers.csv", file.file)
    return RedirectResponse(f"/journeys/{quote(key)}/answers/{quote(name)}", 303)


@pages.get("/journeys/{key}/answers/{name}")
def columns_page(request: Request, key: str, name: str) -> Response:
    from journeykit.discover.answers import preview

    ctx = _ctx(request)
    _, journey = ctx.journey(key)
    path = views.answer_file(ctx, name)
    header, rows = preview(path, PREVIEW_ROWS)
    return render(
        request, "answers.html", key=key, journey=journey, file=name, header=header, rows=rows,
        columns=columns_of(path), roles=ROLES,
    )  # fmt: skip


@pages.post("/journeys/{key}/answers/{name}")
def columns_save(
    request: Request,
    key: str,
    name: str,
    text: Annotated[str, Form()],
    stage: Annotated[str, Form()] = "",
    respondent: Annotated[str, Form()] = "",
    question: Annotated[str, Form()] = "",
    tenure: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
    consent: Annotated[str, Form()] = "",
) -> Response:
    ctx = _ctx(request)
    ctx.journey(key)
    roles = {"stage": stage, "respondent": respondent, "question": question, "tenure": tenure,
             "language": language, "consent": consent}  # fmt: skip
    choose_columns(views.answer_file(ctx, name), text, roles)
    return RedirectResponse(_themes_url(key, name), 303)


@pages.post("/journeys/{key}/themes/edit")
def edit_themes(
    request: Request,
    key: str,
    answers: Annotated[str, Form()],
    op: Annotated[str, Form()],
    themes: Annotated[list[str], Form()],
    label: Annotated[str, Form()] = "",
    into: Annotated[int, Form(ge=2, le=10)] = 2,
) -> Response:
    """Rename, merge or split themes: saved to the edits file every later run replays."""
    from journeykit.discover import load_edits, save_edits
    from journeykit.discover.edits import record_edit

    ctx = _ctx(request)
    _, journey = ctx.journey(key)
    path = views.answer_file(ctx, answers)
    result = views.themes(ctx, journey, answers)
    edit = record_edit(views.answers(ctx, answers), result, op, tuple(themes),  # type: ignore[arg-type]
                       label.strip() or None, into)  # fmt: skip
    target = edits_path(path)
    save_edits(load_edits(target).add(edit), target)
    return RedirectResponse(_themes_url(key, answers, done=f"saved {op}"), 303)


@pages.post("/journeys/{key}/themes/accept")
def accept(
    request: Request, key: str, answers: Annotated[str, Form()], theme: Annotated[str, Form()]
) -> Response:
    """The theme's milestone into the journey, its quotes as evidence: a new revision."""
    from journeykit.discover.draft import accept_theme
    from journeykit.journey import parse_journey
    from journeykit.journey.load import dump_yaml
    from journeykit.web.journeys import Parsed

    ctx = _ctx(request)
    rev, journey = ctx.journey(key)
    result = views.themes(ctx, journey, answers)
    try:
        chosen = result.theme(theme)
    except KeyError:
        raise UploadError(f"no theme {theme!r} in this run of {answers}") from None
    # A fresh parse: the writer fills the loaded YAML tree in place, and the cached one is shared.
    fresh = parse_journey(rev.text, ctx.journeys.file(key).name)
    text = dump_yaml(accept_theme(fresh, chosen))
    user = ident_of(request).user
    assert user is not None
    saved = ctx.journeys.save(key, text, user.name, f"accepted theme {chosen.label!r}")
    if isinstance(saved, Parsed):  # the writer's output must validate: a bug if not
        raise JourneykitError(f"the accepted milestone did not validate: {saved.problems[0]}")
    return RedirectResponse(_themes_url(key, answers, done=f"added {chosen.label}"), 303)
