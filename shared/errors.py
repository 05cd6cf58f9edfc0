"""Errors that reach the caller, in Personalizer's error body shape.

`{"error": {"code", "message", "target", "details": [], "innerError": {...}}}`; the code is also
sent in the `x-ms-error-code` header, as the 2022-09 API does.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details or []

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.target, self.details)


def error_body(
    code: str, message: str, target: str | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "details": details or []}
    if target:
        error["target"] = target
    return {"error": error}


def bad_request(message: str, code: str = "BadRequest", target: str | None = None) -> ApiError:
    return ApiError(400, code, message, target)


def not_found(message: str, code: str = "ResourceNotFound") -> ApiError:
    return ApiError(404, code, message)
