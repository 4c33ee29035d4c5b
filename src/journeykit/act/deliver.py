"""Delivering the treatment arm: a file for an email or CRM tool's import, or a signed webhook.

Entries are recorded before anything is sent, and a delivery is recorded only after the target
took it, so a failure leaves the entries pending for the next ``act`` (never lost). Every
entry carries its id as the idempotency key: a receiver that saw a key before drops the repeat
(a request whose answer was lost to a timeout is sent again), so each entry counts once.

Webhook requests are JSON batches, signed like Stripe's: ``X-Journeykit-Timestamp`` (Unix
seconds) and ``X-Journeykit-Signature: sha256=<hex>``, the HMAC-SHA256 of
``"<timestamp>.<body>"`` with the shared secret (:func:`verify_signature` checks one). The secret
comes from the ``JOURNEYKIT_WEBHOOK_SECRET`` environment variable or the workspace settings
(``[act] webhook_secret`` in journeykit.toml), never from the command line.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeykit.act.errors import DeliveryError, TemplateError
from journeykit.journey.plays import PLACEHOLDERS, Play
from journeykit.journey.schema import Journey
from journeykit.workspace import SETTINGS_FILE, Workspace

SECRET_ENV = "JOURNEYKIT_WEBHOOK_SECRET"
FALLBACK_NAME = "there"


@dataclass(frozen=True)
class Message:
    """One treatment entry ready to send: who, what, through which channel."""

    entry_id: str
    play: str
    customer_id: str
    name: str
    channel: str
    owner: str
    message: str
    milestone: str
    goal: str
    days_waiting: float
    entered_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "idempotency_key": self.entry_id,
            "play": self.play,
            "customer_id": self.customer_id,
            "name": self.name,
            "channel": self.channel,
            "owner": self.owner,
            "message": self.message,
            "milestone": self.milestone,
            "goal": self.goal,
            "days_waiting": round(self.days_waiting, 2),
            "entered_at": self.entered_at,
        }


def context_of(
    journey: Journey, play: Play, customer_id: str, name: str | None, persona: int | None,
    milestone: str, goal: str, days_waiting: float,
) -> dict[str, str]:  # fmt: skip
    """The values of every placeholder (``journey.plays.PLACEHOLDERS``) for one customer."""
    who = journey.personas[persona] if persona is not None else None
    values = {
        "name": name or FALLBACK_NAME,
        "customer_id": customer_id,
        "milestone": journey.milestone(milestone).title,
        "goal": journey.milestone(goal).title,
        "days_waiting": str(int(days_waiting)),
        "persona": who.name if who else "",
        "desire": who.desires[0] if who and who.desires else "",
        "play": play.title,
        "journey": journey.title,
    }
    assert set(values) == set(PLACEHOLDERS)
    return values


def render(play: Play, values: dict[str, str]) -> str:
    try:
        return play.message.format_map(values)
    except (KeyError, ValueError, IndexError) as exc:
        raise TemplateError(f"play {play.id!r}: message: cannot render: {exc}") from None


def write_file(messages: Sequence[Message], path: Path) -> None:
    """CSV or JSON by the file's extension, written whole or not at all (rename at the end)."""
    rows = [m.to_dict() for m in messages]
    tmp = path.with_name(f".{path.name}.tmp")
    if path.suffix.lower() not in (".json", ".csv"):
        raise DeliveryError(f"-o {path}: expected a .csv or .json file")
    try:
        if path.suffix.lower() == ".json":
            tmp.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", "utf-8")
        else:
            fields = list(Message.__dataclass_fields__)
            fields[0] = "idempotency_key"
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=fields)
                writer.writeheader()
                writer.writerows(rows)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, most likely: the entries stay pending
        tmp.unlink(missing_ok=True)
        raise DeliveryError(
            f"-o {path}: cannot be written ({exc.strerror or exc}); the entries are recorded "
            "and pending: the next act writes them"
        ) from None


def webhook_secret(ws: Workspace | None) -> str:
    """The shared secret: the environment variable first, then the workspace settings."""
    secret = os.environ.get(SECRET_ENV)
    if not secret and ws is not None:
        settings = tomllib.loads((ws.root / SETTINGS_FILE).read_text("utf-8"))
        secret = settings.get("act", {}).get("webhook_secret")
    if not secret:
        raise DeliveryError(
            f"--webhook: no secret to sign with; set {SECRET_ENV} or add "
            f"webhook_secret under [act] in {SETTINGS_FILE} (never on the command line)"
        )
    return str(secret)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, body: bytes, timestamp: str, signature: str, *, tolerance: float = 300
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, stamp), signature)


@dataclass(frozen=True)
class WebhookOptions:
    url: str
    secret: str
    timeout: float = 10.0
    attempts: int = 3
    backoff: float = 1.0  # seconds before the 2nd attempt; doubled for each next one
    batch: int = 100


@dataclass(frozen=True)
class Sent:
    delivered: list[str]  # entry ids the target took
    failed: int  # entries left pending
    reason: str | None  # the last failure, if any
    reachable: bool  # False when no request ever got an answer


def post_batches(
    journey_id: str,
    messages: Sequence[Message],
    options: WebhookOptions,
    on_delivered: Callable[[list[str]], None],
) -> Sent:
    """POST the messages in batches; each batch the target answers 2xx is recorded at once."""
    delivered: list[str] = []
    failed, reason, answered = 0, None, False
    for start in range(0, len(messages), options.batch):
        chunk = messages[start : start + options.batch]
        ok, why, got_answer = _post_with_retries(journey_id, chunk, options)
        answered |= got_answer
        if ok:
            ids = [m.entry_id for m in chunk]
            on_delivered(ids)
            delivered += ids
        else:
            failed += len(chunk)
            reason = why
    return Sent(delivered, failed, reason, answered or not messages)


def _post_with_retries(
    journey_id: str, chunk: Sequence[Message], options: WebhookOptions
) -> tuple[bool, str, bool]:
    body = json.dumps(
        {"journey": journey_id, "entries": [m.to_dict() for m in chunk]}, ensure_ascii=False
    ).encode()
    why, answered = "", False
    for attempt in range(options.attempts):
        if attempt:
            time.sleep(options.backoff * 2 ** (attempt - 1))
        stamp = int(time.time())
        request = urllib.request.Request(
            options.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "journeykit-act",
                "Idempotency-Key": hashlib.sha256(
                    "".join(m.entry_id for m in chunk).encode()
                ).hexdigest()[:32],
                "X-Journeykit-Timestamp": str(stamp),
                "X-Journeykit-Signature": sign(options.secret, body, stamp),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=options.timeout) as response:
                answered = True
                if 200 <= response.status < 300:
                    return True, "", True
                why = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            answered = True
            why = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            why = f"no answer ({reason})"
    return False, why, answered
