"""Delivery: against a flaky local webhook every treatment entry arrives exactly once (by its
idempotency key) within three runs, signed; the holdout is never sent; files are complete."""

from __future__ import annotations

import csv
import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from journeykit.act import (
    SECRET_ENV,
    DeliveryError,
    WebhookOptions,
    act,
    entries,
    verify_signature,
)
from journeykit.cli import cli
from journeykit.engine.duckdb import DuckDBEngine
from journeykit.journey import Journey
from journeykit.workspace import Workspace

SECRET = "test-secret-not-on-the-command-line"


class FlakyReceiver:
    """A webhook receiver on 127.0.0.1: 30% of requests fail with 500 before anything is taken,
    10% are taken but answered too late for the client (so the client sends them again)."""

    def __init__(self, seed: int = 5, fail: float = 0.3, slow: float = 0.1) -> None:
        self.rng = random.Random(seed)
        self.fail, self.slow = fail, slow
        self.lock = threading.Lock()
        self.taken: Counter[str] = Counter()  # idempotency key -> times the body was received
        self.accepted: dict[str, dict[str, Any]] = {}  # first receipt per key
        self.requests = 0
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests += 1
                    roll = receiver.rng.random()
                ok = verify_signature(
                    SECRET, body, self.headers.get("X-Journeykit-Timestamp", ""),
                    self.headers.get("X-Journeykit-Signature", ""),
                )  # fmt: skip
                if not ok:
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self._answer(401)
                    return
                if roll < receiver.fail:
                    self._answer(500)
                    return
                with receiver.lock:
                    for entry in json.loads(body)["entries"]:
                        key = entry["idempotency_key"]
                        receiver.taken[key] += 1
                        receiver.accepted.setdefault(key, entry)  # a repeat is dropped
                if roll < receiver.fail + receiver.slow:
                    threading.Event().wait(0.6)  # longer than the client's timeout
                self._answer(200)

            def _answer(self, code: int) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}
        )

    def __enter__(self) -> FlakyReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def receiver() -> Iterator[FlakyReceiver]:
    with FlakyReceiver() as r:
        yield r


def _options(url: str) -> WebhookOptions:
    return WebhookOptions(url=url, secret=SECRET, timeout=0.3, attempts=3, backoff=0.01, batch=7)


def _ledger(ws: Workspace, journey: Journey) -> tuple[set[str], set[str], set[str]]:
    engine = DuckDBEngine(ws.database, read_only=True)
    try:
        rows = entries(engine, journey.id)
        done = {r[0] for r in engine.fetchall("SELECT entry_id FROM play_deliveries")}
    finally:
        engine.close()
    treated = {e.entry_id for e in rows if e.arm == "treatment"}
    held = {e.entry_id for e in rows if e.arm == "holdout"}
    return treated, held, done


def test_flaky_webhook_gets_every_treatment_entry_exactly_once(
    ws: Workspace, journey: Journey, receiver: FlakyReceiver
) -> None:
    runs = []
    for _ in range(3):
        result = act(ws, journey, webhook=_options(receiver.url))
        runs.append(result)
        if all(p.pending == 0 for p in result.plays):
            break
    treated, held, done = _ledger(ws, journey)
    assert len(treated) > 100 and held
    assert all(p.pending == 0 for p in runs[-1].plays), [
        p.to_dict(with_entries=False) for p in runs[-1].plays
    ]
    assert set(receiver.accepted) == treated == done  # every treatment entry, once by key
    assert not set(receiver.accepted) & held  # nothing for the holdout
    assert receiver.bad_signatures == 0
    assert receiver.requests > len(treated) / 7  # failures really happened and were retried
    # Received more than once only where the answer was lost (the slow 10%).
    assert max(receiver.taken.values()) >= 1
    first = receiver.accepted[sorted(treated)[0]]
    assert {"idempotency_key", "play", "customer_id", "message", "channel"} <= set(first)
    # A later run sends nothing again.
    before = dict(receiver.taken)
    act(ws, journey, webhook=_options(receiver.url))
    assert dict(receiver.taken) == before


def test_unreachable_webhook_is_a_clear_error_and_entries_stay_pending(
    ws: Workspace, journey: Journey, receiver: FlakyReceiver
) -> None:
    dead = WebhookOptions(url="http://127.0.0.1:9/hook", secret=SECRET, timeout=0.3,
                          attempts=2, backoff=0.01)  # fmt: skip
    with pytest.raises(DeliveryError) as info:
        act(ws, journey, webhook=dead)
    text = str(info.value)
    assert text.startswith("play '") and "--webhook http://127.0.0.1:9/hook" in text
    assert "pending" in text
    treated, _, done = _ledger(ws, journey)
    assert treated and not done
    # The next run, to a working receiver, delivers what was pending: nothing lost.
    for _ in range(3):
        result = act(ws, journey, webhook=_options(receiver.url))
        if all(p.pending == 0 for p in result.plays):
            break
    assert set(receiver.accepted) == treated == _ledger(ws, journey)[2]


def test_file_delivery_has_rendered_messages_and_only_the_treatment(
    ws: Workspace, journey: Journey, tmp_path: Path
) -> None:
    out = tmp_path / "plays.csv"
    result = act(ws, journey, output=out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    treated, held, done = _ledger(ws, journey)
    assert {r["idempotency_key"] for r in rows} == treated == done
    assert held and not {r["idempotency_key"] for r in rows} & held
    nudges = [r for r in rows if r["play"] == "first_board_nudge"]
    assert nudges and all(r["message"].startswith("Hi there, it has been ") for r in nudges)
    assert all("{" not in r["message"] for r in rows)
    assert sum(p.delivered for p in result.plays) == len(rows)
    # The next run has nothing new: the file is rewritten empty, not left to be imported again.
    act(ws, journey, output=out)
    assert out.read_text(encoding="utf-8").strip() == ",".join(
        ["idempotency_key", "play", "customer_id", "name", "channel", "owner", "message",
         "milestone", "goal", "days_waiting", "entered_at"]
    )  # fmt: skip
    as_json = tmp_path / "plays.json"
    act(ws, journey, output=as_json)
    assert json.loads(as_json.read_text(encoding="utf-8")) == []


def test_an_output_file_that_cannot_be_written_leaves_the_entries_pending(
    ws: Workspace, journey: Journey, tmp_path: Path
) -> None:
    with pytest.raises(DeliveryError, match=r"cannot be written .*pending: the next act writes"):
        act(ws, journey, output=tmp_path / "no-such-folder" / "plays.csv")  # a traceback before
    treated, _, done = _ledger(ws, journey)
    assert treated and not done
    out = tmp_path / "plays.csv"
    act(ws, journey, output=out)
    assert {r["idempotency_key"] for r in csv.DictReader(out.open(encoding="utf-8"))} == treated


def run_cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def test_cli_act_json_shape_and_errors(ws: Workspace, receiver: FlakyReceiver) -> None:
    base = ["act", str(ws.journey_file), "--workspace", str(ws.root)]
    done = run_cli(*base, "--dry-run", "--format", "json")
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    assert set(out) >= {"now", "plays"}
    for p in out["plays"]:
        assert set(p) >= {"id", "due", "entered", "treatment", "holdout", "already_in",
                          "delivered", "pending"}  # fmt: skip
        assert p["entered"] == p["treatment"] + p["holdout"]
    bad = run_cli(*base, "--play", "first_bord_nudge")
    assert bad.exit_code == 1
    assert bad.output.strip() == (
        "Error: --play: unknown play 'first_bord_nudge'; did you mean 'first_board_nudge'?; "
        "known: first_board_nudge, invite_the_team, trial_winback, back_on_the_path, "
        "upgrade_promoters"
    )
    nosecret = run_cli(*base, "--webhook", receiver.url, env={SECRET_ENV: ""})
    assert nosecret.exit_code == 1 and SECRET_ENV in nosecret.output
    notaurl = run_cli(*base, "--webhook", "ftp://example.org")
    assert notaurl.exit_code == 1 and "--webhook: expected an http" in notaurl.output


def test_cli_unknown_placeholder_names_the_play_and_field(ws: Workspace) -> None:
    text = ws.journey_file.read_text(encoding="utf-8")
    ws.journey_file.write_text(text.replace("{days_waiting} days", "{days_wating} days", 1))
    done = run_cli("act", str(ws.journey_file), "--workspace", str(ws.root))
    assert done.exit_code == 1
    assert "plays[0].message: " in done.output and "{days_wating}" in done.output
    assert "did you mean 'days_waiting'" in done.output


def test_cli_secret_from_the_workspace_config(ws: Workspace, receiver: FlakyReceiver) -> None:
    settings = ws.root / "journeykit.toml"
    settings.write_text(settings.read_text() + f'\n[act]\nwebhook_secret = "{SECRET}"\n')
    receiver.fail = receiver.slow = 0.0
    done = run_cli(
        "act", str(ws.journey_file), "--workspace", str(ws.root), "--webhook", receiver.url,
        "--play", "trial_winback", "--format", "json", env={SECRET_ENV: ""},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    (play,) = json.loads(done.stdout)["plays"]
    assert play["delivered"] == play["treatment"] == len(receiver.accepted) > 0
