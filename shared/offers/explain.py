"""Why an offer was a candidate and why it ranked where it did, in words a shopper or a
marketer can read."""

from __future__ import annotations

from typing import Any

from shared.catalog.models import Product

CANDIDATE_TEXT = {
    "also-bought": "others who bought {name} also bought this",
    "same-category": "goes with what you are looking at ({value})",
    "affinity": "matches your interest in {value}",
    "brand": "from {value}, a brand you like",
    "popular": "popular in your segment",
    "new": "new offer",
    "catalog": "in the catalog",
}


def candidate_reasons(reasons: list[str], products: dict[str, Product]) -> list[dict[str, str]]:
    out = []
    for reason in reasons:
        kind, _, value = reason.partition(":")
        name = products[value].name if value in products else value
        out.append({"code": kind, "text": CANDIDATE_TEXT[kind].format(name=name, value=value)})
    return out


def rank_reason(arm: str, position: int, probability: float, model_version: str) -> dict[str, Any]:
    if arm == "control":
        return {"code": "control", "text": "control group: most popular choice, not personalized"}
    if model_version == "0":
        return {"code": "cold-model", "text": "no model yet: best guess, with exploration"}
    if position == 0 and probability < 0.5:
        return {"code": "exploration", "text": "shown to learn (exploration)"}
    return {"code": "model", "text": "ranked by the personalization model for this context"}
