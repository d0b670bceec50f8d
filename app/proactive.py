"""Proactive sharing: a practitioner shares unsolicited with another agency.

The guidance expects a practitioner to share without waiting to be asked where
that protects someone (for example telling the police at once of a crime or an
immediate risk). No hub request is needed: the practitioner's own agency opens
the share to itself, as its one holding agency, for the recipient agency, and
then walks the same decision (purpose, consent, lawful basis, advice, what to
share, the decision) through the same workflow; the package is sealed for the
recipient, which opens and acknowledges it as usual. The request and the decision
record are marked proactive (``RequestOpened.proactive``). Used by the API, the
pages and the CLI.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.request_inputs import NewRequest, SubjectDetails
from app.requests import RequestService
from domain.errors import NotPermitted, ValidationFailed
from domain.inputs import PlainText
from domain.models import Actor
from domain.vocabulary import PurposeCategory, Rating, SubjectKind


class NewProactiveShare(BaseModel):
    """A practitioner's unsolicited share, in plain words, before sealing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: SubjectDetails
    subject_kind: SubjectKind
    recipient_agency: str = Field(min_length=2, max_length=40)
    purpose_category: PurposeCategory
    purpose: PlainText = Field(min_length=1, max_length=10_000)
    """Why the recipient needs to know now (the concern, the risk)."""
    information: PlainText = Field(min_length=1, max_length=10_000)
    """What the practitioner means to share, in outline; the items are chosen at step 8."""
    rating: Rating


async def share_proactively(
    requests: RequestService,
    actor: Actor,
    new: NewProactiveShare,
    *,
    idempotency_key: str | None = None,
) -> UUID:
    """Start the share; returns its request id. Refused (nothing sealed, nothing started)
    unless the actor is an agency worker sharing from their own agency to another
    registered agency that has a public key. ``idempotency_key``: as for
    :meth:`RequestService.open_request` (the same key again answers with the same share)."""
    if actor.agency is None:
        raise NotPermitted("only an agency worker may share proactively, from their own agency")
    if new.recipient_agency == actor.agency:
        raise ValidationFailed("recipient_agency", "share with another agency than your own")
    request = NewRequest(
        subject=new.subject,
        subject_kind=new.subject_kind,
        requesting_agency=new.recipient_agency,
        requested_by=actor.user_id,
        holding_agencies=[actor.agency],
        purpose_category=new.purpose_category,
        purpose=new.purpose,
        information_sought=new.information,
        rating=new.rating,
    )
    try:
        return await requests.open_request(
            actor, request, proactive=True, idempotency_key=idempotency_key
        )
    except ValidationFailed as exc:
        if exc.field not in _SHARE_FIELDS:
            raise
        # Named as the share's own fields, not the request's it is recorded as.
        message = str(exc).removeprefix(f"{exc.field}: ")
        raise ValidationFailed(_SHARE_FIELDS[exc.field], message) from None


_SHARE_FIELDS = {"requesting_agency": "recipient_agency", "information_sought": "information"}
"""The request's fields that a share fills from its own (the rest keep their names)."""
