"""Plays: who is due now, their arm, the append-only entries ledger, and delivery.

``act(ws, journey)`` runs every play of the journey on the workspace's events; ``audience``
answers who is due for one play on any events; ``arm_of`` is the keyed hash that decides the arm.
"""

from journeykit.act.arms import HOLDOUT, TREATMENT, arm_draw, arm_of
from journeykit.act.audience import Audience, audience
from journeykit.act.deliver import SECRET_ENV, Message, WebhookOptions, sign, verify_signature
from journeykit.act.errors import (
    ActError,
    ConcurrentActError,
    DeliveryError,
    TemplateError,
    UnknownPlayError,
)
from journeykit.act.ledger import Entry, entries, open_ledger
from journeykit.act.run import ActResult, PlayRun, act

__all__ = [
    "HOLDOUT", "SECRET_ENV", "TREATMENT", "ActError", "ActResult", "Audience",
    "ConcurrentActError", "DeliveryError", "Entry", "Message", "PlayRun", "TemplateError",
    "UnknownPlayError", "WebhookOptions", "act", "arm_draw", "arm_of", "audience", "entries",
    "open_ledger", "sign", "verify_signature",
]  # fmt: skip
