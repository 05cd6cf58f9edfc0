"""API keys with two roles, because a storefront's key ends up in pages and apps.

- client keys reach the serving routes a website or app calls: rank, reward, activate (single and
  multi-slot), POST/GET /api/offers and POST /api/activity;
- admin keys reach everything (configuration, policy, model, logs, evaluations, catalog, stats,
  simulations, user data and erasure), and the serving routes too.
No key configured at all = open (local use). `PERSONALIZER_API_KEY`, Personalizer's single key,
is an admin key, so a Personalizer user who sets one key keeps one key that does everything.
Keys arrive in `Ocp-Apim-Subscription-Key` (Personalizer's clients) or `x-functions-key`
(Functions' convention); several per role allow rotation; compared in constant time.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from shared.errors import ApiError
from shared.settings import Settings

Role = Literal["public", "client", "admin"]
HEADERS = ("ocp-apim-subscription-key", "x-functions-key")

_PERSONALIZER_SERVING = re.compile(
    r"^/api/personalizer(?:/v[^/]+)?/(?:multislot/)?(?:rank|events/[^/]+/(?:reward|activate))/?$"
)
_CLIENT_ROUTES = {("POST", "/api/offers"), ("GET", "/api/offers"), ("POST", "/api/activity")}
_PUBLIC = {"/api/health", "/api/docs", "/api/openapi.json", "/api/docs/oauth2-redirect"}


def route_role(method: str, path: str) -> Role:
    """Who may call `method path`: the one table the FastAPI app and the fast path both use."""
    if not path.startswith("/api/") or path in _PUBLIC or method == "OPTIONS":
        return "public"  # the web pages, health, the API's own docs, CORS preflights
    trimmed = path.rstrip("/") or path
    if (method, trimmed) in _CLIENT_ROUTES:
        return "client"
    if method == "POST" and _PERSONALIZER_SERVING.match(path):
        return "client"
    return "admin"


@dataclass(frozen=True)
class KeyRing:
    client: tuple[bytes, ...]
    admin: tuple[bytes, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        admin = [*settings.admin_keys, *([settings.api_key] if settings.api_key else [])]
        return cls(_encoded(settings.client_keys), _encoded(admin))

    @property
    def open(self) -> bool:
        return not self.client and not self.admin

    def role_of(self, presented: bytes) -> Role | None:
        # every comparison runs (no early exit), so timing does not tell which set matched
        is_admin = _matches(presented, self.admin)
        is_client = _matches(presented, self.client)
        return "admin" if is_admin else "client" if is_client else None

    def authorize(self, method: str, path: str, headers: Mapping[bytes, bytes]) -> ApiError | None:
        """None when the request may proceed; else the 401/403 to answer."""
        if self.open:
            return None
        needed = route_role(method, path)
        if needed == "public":
            return None
        presented = next((headers[h.encode()] for h in HEADERS if h.encode() in headers), b"")
        if not presented:
            return ApiError(
                401, "PermissionDenied", "missing key: send it in Ocp-Apim-Subscription-Key"
            )
        granted = self.role_of(presented)
        if granted is None:
            return ApiError(401, "PermissionDenied", "wrong key for Ocp-Apim-Subscription-Key")
        if needed == "admin" and granted != "admin":
            return ApiError(
                403, "Forbidden", "this route needs an admin key; a client key was sent"
            )
        return None


def _encoded(keys: Iterable[str]) -> tuple[bytes, ...]:
    return tuple(k.encode() for k in keys if k)


def _matches(presented: bytes, keys: tuple[bytes, ...]) -> bool:
    found = False
    for key in keys:
        found |= hmac.compare_digest(presented, key)
    return found
