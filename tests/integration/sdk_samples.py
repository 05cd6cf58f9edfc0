"""The request data of azure-ai-personalizer 1.0.0b1's own tests (Azure/azure-sdk-for-python,
sdk/personalizer/azure-ai-personalizer/tests: test_rank.py, test_multi_slot_rank.py), shared by
the tests that replay its scenarios against the local host."""

from __future__ import annotations

from typing import Any

ACTIONS: list[dict[str, Any]] = [
    {"id": "NewsArticle", "features": [{"type": "News"}]},
    {"id": "SportsArticle", "features": [{"type": "Sports"}]},
    {"id": "EntertainmentArticle", "features": [{"type": "Entertainment"}]},
]
CONTEXT: list[dict[str, Any]] = [
    {"user": {"profileType": "anonymousUser", "latLong": "47.6,-122.1"}},
    {"environment": {"dayOfMonth": "28", "monthOfYear": "8", "weather": "Sunny"}},
    {"device": {"mobile": True, "windows": True}},
    {"recentActivity": {"itemsInCart": 3}},
]
SLOTS: list[dict[str, Any]] = [
    {
        "id": "Main Article",
        "baselineAction": "NewsArticle",
        "positionFeatures": [{"Size": "Large", "Position": "Top Middle"}],
        "excludedActions": ["SportsArticle", "EntertainmentArticle"],
    },
    {
        "id": "Side Bar",
        "baselineAction": "SportsArticle",
        "positionFeatures": [{"Size": "Small", "Position": "Bottom Right"}],
        "excludedActions": ["EntertainmentArticle"],
    },
]
# What the service answered for both slots in the recordings (and what the tests assert)
SLOT_ANSWERS = ["NewsArticle", "SportsArticle"]
