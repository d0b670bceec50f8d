"""Opening a request: by the hub for a requesting agency, or proactively by a practitioner.

Every agency must be in the hub's register, and the recipient must have a public key
(or nothing could be delivered to it securely). An ISP is looked up and recorded,
never required. Re-exported by :mod:`domain.request`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.commands import OpenRequest
from domain.errors import ValidationFailed
from domain.events.base import Event
from domain.events.catalogue import RequestOpened
from domain.events.values import Holder
from domain.models import Actor, AgencyRegister, IspRegister
from domain.permissions import Action, require
from domain.policy import DEFAULT_POLICY, HubPolicy, deadline


def registered_holders(
    requesting_agency: str,
    holding_agencies: Sequence[str],
    agencies: AgencyRegister,
    isps: IspRegister,
    now: datetime,
) -> list[Holder]:
    """The holders as the request records them; refused unless every agency is in the
    register and the requester has a public key (or nothing could be delivered to it
    securely). Callers check this before sealing anything, so a refusal writes nothing."""
    requester = agencies.get(requesting_agency)
    if requester is None:
        raise ValidationFailed(
            "requesting_agency", f"agency {requesting_agency} is not in the register"
        )
    if requester.public_key is None:
        raise ValidationFailed(
            "requesting_agency",
            f"agency {requesting_agency} has no public key registered, so nothing could be "
            "delivered to it securely; register its key first",
        )
    holders = []
    for code in holding_agencies:
        agency = agencies.get(code)
        if agency is None:
            raise ValidationFailed("holding_agencies", f"agency {code} is not in the register")
        isp = isps.in_force_between(code, requesting_agency, now.date())
        holders.append(
            Holder(
                agency=code,
                kind=agency.kind,
                isp_with_requester=isp is not None,
                public_authority=agency.is_public_authority,
                isp_reference=isp.reference if isp is not None else None,
            )
        )
    return holders


def decide_open(
    command: OpenRequest,
    actor: Actor,
    now: datetime,
    agencies: AgencyRegister,
    isps: IspRegister,
    policy: HubPolicy = DEFAULT_POLICY,
) -> list[Event]:
    """Open a request. Every agency must be in the hub's register, and the requester must
    have a public key, or nothing could be delivered to it securely. An ISP is looked up and
    recorded, never required."""
    require(actor, Action.OPEN_REQUEST, doing="open a request")
    return _opened(command, actor, now, agencies, isps, policy, proactive=False)


def decide_share_proactively(
    command: OpenRequest,
    actor: Actor,
    now: datetime,
    agencies: AgencyRegister,
    isps: IspRegister,
    policy: HubPolicy = DEFAULT_POLICY,
) -> list[Event]:
    """Step 10's other direction: a practitioner shares unsolicited (for example telling the
    police at once of a crime or an immediate risk). The guidance expects it; no hub request
    is needed. It is recorded as a request the worker's own agency opens to itself, the one
    holding agency, for the recipient (the ``requesting_agency``, which asked nothing):
    the same decision steps, rules, advice, sealed transfer and acknowledgement follow,
    and the record is marked proactive. ``requested_by`` is the practitioner."""
    r = command.request
    require(actor, Action.SHARE_PROACTIVELY, r.holding_agencies[0], doing="share proactively")
    if r.holding_agencies != [actor.agency]:
        raise ValidationFailed(
            "holding_agencies", "you share proactively from your own agency only"
        )
    if r.requested_by != actor.user_id:
        raise ValidationFailed("requested_by", "a proactive share is made by you")
    return _opened(command, actor, now, agencies, isps, policy, proactive=True)


def _opened(
    command: OpenRequest,
    actor: Actor,
    now: datetime,
    agencies: AgencyRegister,
    isps: IspRegister,
    policy: HubPolicy,
    *,
    proactive: bool,
) -> list[Event]:
    r = command.request
    holders = registered_holders(r.requesting_agency, r.holding_agencies, agencies, isps, now)
    return [
        RequestOpened(
            request_id=r.request_id,
            subject_id=r.subject_id,
            subject_kind=r.subject_kind,
            requesting_agency=r.requesting_agency,
            requested_by=r.requested_by,
            holders=holders,
            purpose_category=r.purpose_category,
            rating=r.rating,
            subject_details=r.subject_details,
            purpose=r.purpose,
            information_sought=r.information_sought,
            consent_already_held=r.consent_already_held,
            opened_by=actor.user_id,
            opened_at=now,
            decision_due_at=deadline(now, r.rating, policy),
            allegation_against_staff=r.allegation_against_staff,
            policy=policy,
            policy_digest=policy.digest(),
            proactive=proactive,
        )
    ]
