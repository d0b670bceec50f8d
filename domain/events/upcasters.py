"""Upcasters: old stored shapes of an event, brought to the current one as they are read.

Each takes the stored data of one schema version and returns the next version's;
the registry chains them, so an event written years ago reads as today's model.
"""

from __future__ import annotations

from typing import Any

from domain.events.base import registry
from domain.vocabulary import AgencyKind


@registry.upcaster("request.opened", from_version=1)
def _request_opened_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 recorded no hub policy and no allegation mark. Which policy applied is not
    known from the event (the workflow's start input holds it), so it reads as None; no
    request could be marked as an allegation then."""
    return {**data, "allegation_against_staff": False, "policy": None, "policy_digest": None}


@registry.upcaster("request.opened", from_version=2)
def _request_opened_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 did not record whether each holder was a public authority (the rules then
    inferred it from the agency's kind) nor the ISP's reference. Each holder reads as its
    kind then made it, so a decision replays as it was made; no reference was recorded."""
    holders = [
        {
            **h,
            "public_authority": h.get("kind") != AgencyKind.VOLUNTARY_SECTOR.value,
            "isp_reference": None,
        }
        for h in data.get("holders", [])
    ]
    return {**data, "holders": holders, "proactive": False}
