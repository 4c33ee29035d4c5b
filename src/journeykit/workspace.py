"""A workspace: a folder with a settings file, the journey, and (once events arrive) a database.

The settings file is small TOML so people can read and edit it; paths in it are relative to the
folder, so a workspace can be moved or shared as a whole.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from journeykit.errors import WorkspaceError

SETTINGS_FILE = "journeykit.toml"
JOURNEYS_FOLDER = "journeys"  # more journeys besides the settings' own, one YAML file each
# A journey's key (its file's stem): in the web app's URLs, so a strict pattern.
JOURNEY_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_SETTINGS_TEMPLATE = """\
# A journeykit workspace. Paths are relative to this folder.
[workspace]
journey = "{journey}"
database = "{database}"
"""


@dataclass(frozen=True)
class Workspace:
    root: Path
    journey_file: Path
    database: Path


def journey_files(ws: Workspace) -> dict[str, Path]:
    """The workspace's journeys by key: the settings' journey first, then its journeys folder."""
    files = {ws.journey_file.stem: ws.journey_file}
    folder = ws.root / JOURNEYS_FOLDER
    if folder.is_dir():
        for f in sorted(folder.iterdir()):
            if f.suffix in (".yaml", ".yml") and JOURNEY_KEY.fullmatch(f.stem):
                files.setdefault(f.stem, f)
    return {k: f for k, f in files.items() if JOURNEY_KEY.fullmatch(k)}


def create_workspace(directory: Path, *, template: str, force: bool = False) -> Workspace:
    """Write a settings file and a template journey into ``directory`` (created if needed)."""
    from journeykit.journey.templates import template_text  # the journey model: only here

    text = template_text(template)  # fails on an unknown template before touching the disk
    if directory.exists() and any(directory.iterdir()) and not force:
        raise WorkspaceError(
            f"{directory} is not empty; choose a new folder or pass --force to write into it"
        )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "journey.yaml").write_text(text, encoding="utf-8")
    settings = _SETTINGS_TEMPLATE.format(journey="journey.yaml", database="journeykit.duckdb")
    (directory / SETTINGS_FILE).write_text(settings, encoding="utf-8")
    return open_workspace(directory)


def open_workspace(directory: Path) -> Workspace:
    settings_path = directory / SETTINGS_FILE
    if not settings_path.is_file():
        raise WorkspaceError(
            f"{directory} is not a journeykit workspace (no {SETTINGS_FILE}); "
            "create one with: journeykit init DIR"
        )
    try:
        settings = tomllib.loads(settings_path.read_text("utf-8")).get("workspace", {})
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{settings_path}: {exc}") from None
    root = directory.resolve()
    return Workspace(
        root=root,
        journey_file=root / settings.get("journey", "journey.yaml"),
        database=root / settings.get("database", "journeykit.duckdb"),
    )
