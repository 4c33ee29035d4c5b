"""The hypothesis profile for analytics tests: fixed seeds only (STYLE.md Pattern 8).

Tests opt in with ``@settings.get_profile("analytics")``; loading it globally would change the
settings of every other test directory in the same session.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "analytics",
    derandomize=True,
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
