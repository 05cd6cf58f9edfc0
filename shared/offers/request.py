"""What a storefront asks: this visitor, on this page, in this context — which offers?"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Placement = Literal["homepage", "product", "cart", "email"]
ContextValue = str | int | float | bool
MAX_COUNT = 10


class OffersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    userId: str | None = Field(default=None, min_length=1, max_length=128)
    sessionId: str | None = Field(default=None, min_length=1, max_length=128)
    placement: Placement = "homepage"
    productId: str | None = Field(default=None, min_length=1, max_length=128)
    cartProductIds: list[str] = Field(default_factory=list, max_length=100)
    context: dict[str, ContextValue] = Field(
        default_factory=dict,
        max_length=30,
        description="e.g. timeOfDay, device, referral, season, segment",
    )
    count: int = Field(default=3, ge=1, le=MAX_COUNT)
    eventId: str | None = Field(default=None, min_length=1, max_length=256)

    def visitor(self) -> str:
        """Who the control split and the profile are keyed on."""
        return self.userId or self.sessionId or ""

    def segment(self, profile_segment: str | None) -> str:
        given = self.context.get("segment")
        return str(given) if given else (profile_segment or "")

    def context_values(self) -> dict[str, Any]:
        return dict(self.context)
