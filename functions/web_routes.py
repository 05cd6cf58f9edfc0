"""The web pages the app serves: the dashboard at `/`, the demo storefront at `/store`, and their
assets under `/web/`. Static files from web/ (no CDN at run time); they call the function URLs
(/api/...) exactly as any website would."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from shared.errors import not_found

WEB = Path(__file__).resolve().parent.parent / "web"
ASSETS = {p.name: p for p in WEB.iterdir() if p.suffix in (".js", ".css", ".svg")}
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard() -> Response:
    return FileResponse(WEB / "dashboard.html", media_type="text/html")


@router.get("/store")
def store() -> Response:
    return FileResponse(WEB / "store.html", media_type="text/html")


@router.get("/web/{name}")
def asset(name: str) -> Response:
    path = ASSETS.get(name)  # a fixed list: no path from the URL reaches the file system
    if path is None:
        raise not_found(f"no asset {name!r}")
    return FileResponse(
        path, media_type=TYPES[path.suffix], headers={"Cache-Control": "max-age=60"}
    )
