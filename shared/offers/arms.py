"""The control group: a stable share of visitors, by a hash of their id, gets the
non-personalized choice under the same rules, so the lift of personalization is measured."""

from __future__ import annotations

import hashlib

PERSONALIZED = "personalized"
CONTROL = "control"


def arm(visitor: str, control_percent: float) -> str:
    """Stable per visitor; anonymous visits (no user or session id) are always personalized."""
    if not visitor or control_percent <= 0:
        return PERSONALIZED
    digest = hashlib.sha256(f"offers-control:{visitor}".encode()).digest()
    share = int.from_bytes(digest[:8], "big") / 2**64
    return CONTROL if share * 100 < control_percent else PERSONALIZED
