"""Catalog admin API: /api/catalog/{products|offers}[/{id}] and bulk import (shared/catalog/)."""

from __future__ import annotations

from typing import Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from functions.http_io import JsonBody, error_responses, json_response
from shared import wiring
from shared.catalog import importer
from shared.catalog.models import Offer, Product
from shared.errors import bad_request, not_found

router = APIRouter(tags=["catalog"])
KINDS = {"products": "product", "offers": "offer"}
Collection = Literal["products", "offers"]
ItemId = Path(min_length=1, max_length=128)
PRODUCT_BODY = JsonBody(Product, error_code="InvalidCatalogItem")
OFFER_BODY = JsonBody(Offer, error_code="InvalidCatalogItem")


def _changed() -> None:
    wiring.current().catalog_cache.invalidate()


@router.get(
    "/catalog/{collection}",
    summary="List products or offers, a page at a time (in id order)",
    responses=error_responses(400),
)
def list_items(
    collection: Collection,
    limit: int = Query(50, ge=1, le=500),
    after: str = Query("", max_length=128, description="the `next` cursor of the previous page"),
) -> Response:
    kind = KINDS[collection]
    items, cursor = wiring.current().catalog.page(kind, limit, after)
    return json_response(
        {"items": [i.model_dump(mode="json") for i in items], "next": cursor, "count": len(items)}
    )


@router.get(
    "/catalog/{collection}/{itemId}",
    summary="One product or offer",
    responses=error_responses(404),
)
def get_item(collection: Collection, itemId: str = ItemId) -> Response:
    item = wiring.current().catalog.get(KINDS[collection], itemId)
    if item is None:
        raise not_found(f"no {KINDS[collection]} {itemId!r}", code="CatalogItemNotFound")
    return json_response(item.model_dump(mode="json"))


@router.put(
    "/catalog/products/{itemId}",
    summary="Create or replace a product",
    openapi_extra=PRODUCT_BODY.openapi,
    response_model=Product,
    responses={201: {"model": Product, "description": "Created"}, **error_responses(400)},
)
async def put_product(request: Request, itemId: str = ItemId) -> Response:
    return await _put("product", request, itemId)


@router.put(
    "/catalog/offers/{itemId}",
    summary="Create or replace an offer",
    openapi_extra=OFFER_BODY.openapi,
    response_model=Offer,
    responses={201: {"model": Offer, "description": "Created"}, **error_responses(400)},
)
async def put_offer(request: Request, itemId: str = ItemId) -> Response:
    return await _put("offer", request, itemId)


async def _put(kind: str, request: Request, item_id: str) -> Response:
    item: Product | Offer = await (PRODUCT_BODY if kind == "product" else OFFER_BODY).parse(request)
    if item.id != item_id:
        raise bad_request(
            f"the body's id {item.id!r} differs from the URL's {item_id!r}",
            code="InvalidCatalogItem",
            target="id",
        )
    catalog = wiring.current().catalog
    if isinstance(item, Offer):
        missing = catalog.unknown_products(item.productIds)
        if missing:
            raise bad_request(
                f"productIds name unknown products {missing[:5]}",
                code="InvalidCatalogItem",
                target="productIds",
            )
    created = catalog.put(kind, item)
    _changed()
    return json_response(item.model_dump(mode="json"), 201 if created else 200)


@router.delete(
    "/catalog/{collection}/{itemId}",
    status_code=204,
    summary="Delete a product or offer",
    responses=error_responses(404),
)
def delete_item(collection: Collection, itemId: str = ItemId) -> Response:
    if not wiring.current().catalog.delete(KINDS[collection], itemId):
        raise not_found(f"no {KINDS[collection]} {itemId!r}", code="CatalogItemNotFound")
    _changed()
    return Response(status_code=204)


@router.post(
    "/catalog/{collection}/import",
    summary="Bulk import: JSON lines (application/x-ndjson) or CSV (text/csv); per-row errors",
    responses=error_responses(400, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_items(request: Request, collection: Collection) -> Response:
    kind = KINDS[collection]
    content_type = request.headers.get("content-type", "").lower()
    text = (await request.body()).decode("utf-8", errors="replace")
    if "csv" in content_type:
        rows = importer.rows_from_csv(text)
    elif "ndjson" in content_type or "jsonl" in content_type or "json" in content_type:
        rows = importer.rows_from_jsonl(text)
    else:
        raise bad_request(
            "Content-Type must be application/x-ndjson or text/csv", code="InvalidCatalogImport"
        )
    items, errors = importer.validate(kind, rows)
    if kind == "offer" and items:
        kept = []
        for item in items:
            missing = wiring.current().catalog.unknown_products(getattr(item, "productIds", []))
            if missing:
                errors.append(importer.RowError(0, item.id, f"unknown products {missing[:5]}"))
            else:
                kept.append(item)
        items = kept
    if not items and errors:
        body = importer.ImportReport(kind, 0, errors).to_json()
        return Response(
            orjson.dumps({"error": {"code": "InvalidCatalogImport", "message": "no valid row",
                                    "details": body["errors"]}}),
            400,
            {"x-ms-error-code": "InvalidCatalogImport"},
            media_type="application/json",
        )  # fmt: skip
    written = wiring.current().catalog.put_many(kind, items)
    _changed()
    return json_response(importer.ImportReport(kind, written, errors).to_json())
