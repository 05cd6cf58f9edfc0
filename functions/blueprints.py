"""Every trigger blueprint the app registers (HTTP routes are in functions/http_app.py)."""

from __future__ import annotations

import azure.functions as func

from functions import join, learn

ALL: list[func.Blueprint] = [join.bp, learn.bp]
