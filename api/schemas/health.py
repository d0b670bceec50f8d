"""Liveness and readiness reports."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

CheckResult = Literal["ok", "failed"]


class LiveResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, CheckResult]
