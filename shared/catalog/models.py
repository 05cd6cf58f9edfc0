"""Catalog items as the admin API and the importer accept them (validated, with clear errors).

A product is something sold; an offer promotes one or more products to shoppers, inside a date
window, optionally only to some segments, and optionally up to a cap (conversions allowed; 0 =
sold out). Unknown fields are refused so a typo in an import file is reported, not dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["product", "offer"]
ID = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Product(_Item):
    id: str = ID
    name: str = Field(min_length=1, max_length=300)
    category: str = Field(min_length=1, max_length=100)
    brand: str = Field(default="", max_length=100)
    price: float = Field(ge=0)
    rating: float | None = Field(default=None, ge=0, le=5)
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=50)


class Offer(_Item):
    id: str = ID
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    productIds: list[str] = Field(min_length=1, max_length=50)
    discount: float = Field(default=0.0, ge=0, le=1, description="fraction off, 0..1")
    price: float | None = Field(default=None, ge=0)
    category: str = Field(default="", max_length=100)
    brand: str = Field(default="", max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=50)
    startDate: datetime | None = None
    endDate: datetime | None = None
    segments: list[str] = Field(default_factory=list, description="empty: every segment")
    priority: int = Field(default=0, ge=-100, le=100)
    cap: int | None = Field(default=None, ge=0, description="conversions allowed; 0: sold out")
    active: bool = True

    @model_validator(mode="after")
    def _window(self) -> Offer:
        for name in ("startDate", "endDate"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                setattr(self, name, value.replace(tzinfo=UTC))
        if self.startDate and self.endDate and self.endDate <= self.startDate:
            raise ValueError("endDate must be after startDate")
        return self

    def live(self, now: datetime) -> bool:
        """Active and inside its date window."""
        if not self.active:
            return False
        if self.startDate and now < self.startDate:
            return False
        return not (self.endDate and now >= self.endDate)


MODELS: dict[str, type[Product] | type[Offer]] = {"product": Product, "offer": Offer}


def parse(kind: str, data: dict[str, Any]) -> Product | Offer:
    return MODELS[kind].model_validate(data)


class Catalog(BaseModel):
    """The whole catalog, as in shared/demo/catalog.json."""

    model_config = ConfigDict(extra="ignore")
    products: list[Product] = Field(default_factory=list)
    offers: list[Offer] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Catalog:
        known = {p.id for p in self.products}
        for offer in self.offers:
            missing = [p for p in offer.productIds if p not in known]
            if missing:
                raise ValueError(f"offer {offer.id!r} names unknown products {missing}")
        return self
