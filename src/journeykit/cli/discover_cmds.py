"""``journeykit discover``: question kit, themes, edits and the draft journey from answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from journeykit.cli.output import err_console, out_console, warn
from journeykit.errors import MissingExtraError

if TYPE_CHECKING:
    from journeykit.discover import ThemeResult
    from journeykit.discover.answers import Answers
    from journeykit.journey import Journey

ANSWERS = click.Path(exists=True, dir_okay=False, path_type=Path)


def answer_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--text-column",
            default="answer",
            show_default=True,
            help="Column with the answer text.",
        ),
        click.option(
            "--stage-column", default=None, help="Column with the member's stage or milestone."
        ),
        click.option(
            "--tenure-column", default=None, help="Column with tenure (a number, e.g. months)."
        ),
        click.option("--respondent-column", default=None, help="Column with the respondent id."),
        click.option(
            "--question-column", default=None, help="Column with the question (id or text)."
        ),
        click.option(
            "--language-column", default=None, help="Column with en/es; detected when absent."
        ),
        click.option(
            "--survey",
            type=click.Choice(["typeform", "google-forms", "surveymonkey"]),
            help="The answers are that tool's CSV export: one answer per question and "
            "respondent (--stage-column still names the stage).",
        ),
        click.option(
            "--consent-column",
            default=None,
            help="Column saying whether the member agreed to be quoted (yes/no): without a yes, "
            "an answer is never quoted outside the workspace.",
        ),
        click.option(
            "--themes",
            "k",
            type=click.IntRange(1),
            default=None,
            help="Number of themes (default: automatic).",
        ),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option(
            "--method",
            type=click.Choice(["auto", "embeddings", "tfidf"]),
            default="auto",
            show_default=True,
        ),
        click.option(
            "--model",
            default="minilm",
            show_default=True,
            help="'minilm' or the folder of a local sentence-transformers model.",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            envvar="JOURNEYKIT_CACHE",
            help="Embedding cache folder.",
        ),
        click.option(
            "--edits",
            "edits_path",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Theme edits file (default: ANSWERS.themes.edits.yaml).",
        ),
        click.option(
            "--rejects",
            "rejects_path",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Write rejected rows here (CSV).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def edits_file(answers: Path, given: Path | None) -> Path:
    from journeykit.discover.edits import edits_path

    return given or edits_path(answers)


def run_themes(
    answers_path: Path, opts: dict[str, Any], journey: Journey | None = None
) -> tuple[Answers, ThemeResult]:
    from journeykit.discover import AnswerColumns, find_themes, load_edits, read_answers
    from journeykit.discover.answers import standard_columns
    from journeykit.discover.draft import stage_order

    columns = AnswerColumns(
        text=opts["text_column"],
        respondent=opts["respondent_column"],
        question=opts["question_column"],
        stage=opts["stage_column"],
        tenure=opts["tenure_column"],
        language=opts["language_column"],
        # A column named ``consent`` is honoured without the option: consent must not depend
        # on remembering a flag.
        consent=opts.get("consent_column") or standard_columns(answers_path).consent,
    )
    if opts.get("survey"):
        from journeykit.discover.surveys import read_survey

        answers = read_survey(answers_path, opts["survey"], stage=opts["stage_column"])
    else:
        answers = read_answers(answers_path, columns)
    _report_rejects(answers, opts.get("rejects_path"))
    result = find_themes(
        answers,
        k=opts["k"],
        seed=opts["seed"],
        method=opts["method"],
        model=opts["model"],
        cache_dir=opts["cache_dir"],
        edits=load_edits(edits_file(answers_path, opts["edits_path"])),
        stage_order=stage_order(journey) if journey is not None else None,
    )
    for note in result.edit_notes:
        warn(note)
    return answers, result


def _report_rejects(answers: Answers, path: Path | None) -> None:
    c = answers.counts()
    err_console.print(
        f"read {c['read']} rows: {c['answers']} answers, {c['empty']} empty, "
        f"{c['non_answers']} non-answers, rejected {c['rejected']}",
        highlight=False,
        markup=False,
    )
    if c["rejected"]:
        if path is not None:
            answers.rejected.to_csv(path, index=False)
            err_console.print(f"rejected rows written to {path}", markup=False)
        for r in answers.rejected.head(10).itertuples():
            warn(f"line {r.line}: {r.reason}")


@click.group()
def discover() -> None:
    """Ask members, find themes in their answers, draft a community journey map."""


@discover.command()
@click.argument("journey_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--stage", default=None, help="Only this stage (or milestone) id.")
@click.option("--language", type=click.Choice(["en", "es"]), default="en", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["md", "csv", "json"]), default="md", show_default=True
)
def questions(journey_file: Path, stage: str | None, language: str, fmt: str) -> None:
    """The questions to ask members at each stage and milestone, ready for a survey tool."""
    from journeykit.discover import question_kit
    from journeykit.journey import load_journey

    kit = question_kit(load_journey(journey_file), stage=stage, language=language)  # type: ignore[arg-type]
    text = {"md": kit.to_markdown, "csv": kit.to_csv, "json": kit.to_json}[fmt]()
    click.echo(text, nl=not text.endswith("\n"))


@discover.command()
@click.argument("answers_path", metavar="FILE", type=ANSWERS)
@answer_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
def themes(answers_path: Path, fmt: str, **opts: Any) -> None:
    """Recurring ideas in answers: label, size, moment, quotes, and each row's theme."""
    _, result = run_themes(answers_path, opts)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(result.to_pandas().to_csv(index=False), nl=False)
    else:
        print_themes(result, out_console)


def print_themes(
    result: ThemeResult, console: Console, *, quotes: int = 2, unsure: int = 1
) -> None:
    """The themes as a table; ``sep.`` is the theme's separation (near 0 or below: it blurs into
    a neighbour) and "least sure" the answers closest to another theme."""
    table = Table("id", "label", "size", "moment", "sep.", "stages", "quotes", show_lines=True)
    labels = {t.id: t.label for t in result.themes}
    for t in result.timeline():
        stages = ", ".join(f"{s} ({n})" for s, n in t.stages)
        shown = [f"“{q.text}”" for q in t.quotes[:quotes]]
        shown += [
            f"least sure: “{u.text}” (margin {u.margin:.2f}, nearer “{labels.get(u.nearer)}”)"
            for u in t.unsure[:unsure]
        ]
        sep = "" if t.separation is None else f"{t.separation:.2f}"
        table.add_row(t.id, t.label, str(t.size), t.moment, sep, stages, "\n".join(shown))
    console.print(table)
    c = result.counts
    console.print(
        f"{c['themes']} themes from {c['answers']} answers ({c['empty'] + c['non_answers']} empty "
        f"or non-answers, {c['outliers']} outliers) by {result.method}",
        markup=False,
    )


@discover.command()
@click.argument("answers_path", metavar="ANSWERS", type=ANSWERS)
@click.option(
    "--journey",
    "journey_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@answer_options
def draft(answers_path: Path, journey_file: Path, output: Path, **opts: Any) -> None:
    """Write a journey file whose proposed milestones carry members' quotes as evidence."""
    from journeykit.discover.draft import draft_yaml
    from journeykit.journey import load_journey

    journey = load_journey(journey_file)
    _, result = run_themes(answers_path, opts, journey)
    output.write_text(draft_yaml(journey, result), encoding="utf-8")
    err_console.print(f"wrote {output} with {len(result.themes)} proposed milestones", markup=False)


@discover.command()
@click.argument("answers_path", metavar="ANSWERS", type=ANSWERS)
@click.argument("operation", type=click.Choice(["merge", "split", "rename", "pin"]))
@click.argument("theme_ids", nargs=-1, required=True)
@click.option("--label", default=None, help="New label (rename, merge, pin).")
@click.option("--into", type=click.IntRange(2), default=2, show_default=True, help="Parts (split).")
@answer_options
def edit(
    answers_path: Path,
    operation: str,
    theme_ids: tuple[str, ...],
    label: str | None,
    into: int,
    **opts: Any,
) -> None:
    """Save a merge, split, rename or pin of themes; later runs replay it.

    The edit also keeps which answers each theme held, so it still finds the theme after new
    answers come in and change its id.
    """
    from journeykit.discover import load_edits, save_edits
    from journeykit.discover.edits import record_edit

    path = edits_file(answers_path, opts["edits_path"])
    answers, result = run_themes(answers_path, opts)
    new = record_edit(answers, result, operation, theme_ids, label, into)  # type: ignore[arg-type]
    save_edits(load_edits(path).add(new), path)
    err_console.print(f"saved {operation} to {path}", markup=False)


def demo_answers_path() -> Path:
    return Path(str(resources.files("journeykit.discover").joinpath("data", "demo_answers.csv")))


def print_demo_themes(console: Console) -> tuple[Answers, ThemeResult] | None:
    """Themes from the bundled answer set, for ``journeykit demo``; the answers and themes, for
    the demo's opportunities and stories (None when themes could not be found)."""
    from journeykit.discover import AnswerColumns, find_themes, read_answers

    try:
        cols = AnswerColumns(
            text="answer", question="question", stage="stage", respondent="respondent",
            consent="consent",
        )  # fmt: skip
        answers = read_answers(demo_answers_path(), cols)
        result = find_themes(answers, seed=0)
    except MissingExtraError as exc:
        console.print(f"\n  discovery themes skipped: {exc}", markup=False)
        return None
    console.print("\n  themes in members' answers (bundled demo set):", markup=False)
    print_themes(result, console, quotes=1)
    return answers, result


def register(group: click.Group) -> None:
    group.add_command(discover)
