"""The command side of sharing requests: open, withdraw, re-rate (coordinator).

Routes only translate: plain-text bodies go to :class:`app.requests.RequestService`,
which seals them under the subject's key and drives the workflows; the
workflows' refusals come back as domain errors and leave as problems.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import pydantic
from fastapi import APIRouter, Header, Response, status

from api.deps import (
    ProactiveSharer,
    RequestOpener,
    RequestRerater,
    Requests,
    RequestWithdrawer,
    Users,
)
from api.problems import problem_responses
from api.schemas.requests_write import (
    ProactiveShareCreate,
    RatingBody,
    RequestChanged,
    RequestCreate,
    RequestCreated,
    SubjectIn,
    WithdrawBody,
)
from app import idempotency, proactive
from app.identity import actor_of
from app.proactive import NewProactiveShare
from app.request_inputs import NewRequest, SubjectDetails
from app.requester import check_requester
from app.requests import RequestView, view_of
from domain.errors import InvalidState, validation_failed
from infra.auth import Principal

router = APIRouter(prefix="/api", tags=["requests"])

WRITE_RESPONSES = problem_responses(401, 403, 404, 409, 422, 503)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description=(
            "Optional; a new random value (such as a UUID) for each request you mean to open. "
            "Sent again by the same user with the same body, it answers as the first call did "
            "(201, the same request id and Location) and opens nothing; with another body it is "
            "a 422 problem naming the header, nothing written. Keys are scoped to the user and "
            "kept for as long as the request's record is kept (at least 24 hours)."
        ),
        min_length=1,
        max_length=255,
    ),
]


def subject_details(subject: SubjectIn) -> SubjectDetails:
    return SubjectDetails(
        name=subject.name, date_of_birth=subject.date_of_birth, address=subject.address or None
    )


def new_request(body: RequestCreate, principal: Principal) -> NewRequest:
    try:
        return NewRequest(
            subject=subject_details(body.subject),
            subject_kind=body.subject_kind,
            requesting_agency=body.requesting_agency,
            requested_by=body.requested_by or str(principal.user_id),
            holding_agencies=body.holding_agencies,
            purpose_category=body.purpose_category,
            purpose=body.purpose,
            information_sought=body.information_sought,
            rating=body.rating,
            consent_already_held=body.consent_already_held,
            allegation_against_staff=body.allegation_against_staff,
        )
    except pydantic.ValidationError as exc:
        raise validation_failed(exc) from None


def new_share(body: ProactiveShareCreate) -> NewProactiveShare:
    try:
        return NewProactiveShare(
            subject=subject_details(body.subject),
            subject_kind=body.subject_kind,
            recipient_agency=body.recipient_agency,
            purpose_category=body.purpose_category,
            purpose=body.purpose,
            information=body.information,
            rating=body.rating,
        )
    except pydantic.ValidationError as exc:
        raise validation_failed(exc) from None


@router.post(
    "/requests",
    response_model=RequestCreated,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_RESPONSES,
)
async def open_request(
    body: RequestCreate,
    principal: RequestOpener,
    requests: Requests,
    users: Users,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RequestCreated:
    """Open a sharing request for a requesting agency, addressed to holding agencies. With an
    ``Idempotency-Key``, a retry answers with the request the key opened first."""
    new = new_request(body, principal)
    await check_requester(users, new.requested_by, new.requesting_agency, str(principal.user_id))
    request_id = await requests.open_request(
        actor_of(principal), new, idempotency_key=idempotency_key
    )
    href = f"/api/requests/{request_id}"
    response.headers["Location"] = href
    return RequestCreated(request_id=request_id, href=href)


@router.post(
    "/shares",
    response_model=RequestCreated,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_RESPONSES,
)
async def share_proactively(
    body: ProactiveShareCreate,
    principal: ProactiveSharer,
    requests: Requests,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RequestCreated:
    """Share unsolicited with another agency (agency worker, from their own agency): the same
    decision steps follow as tasks of your agency, and the recipient receives and
    acknowledges the package as for a request. No hub request is needed. With an
    ``Idempotency-Key``, a retry answers with the share the key opened first."""
    new = new_share(body)
    request_id = await proactive.share_proactively(
        requests, actor_of(principal), new, idempotency_key=idempotency_key
    )
    href = f"/api/requests/{request_id}"
    response.headers["Location"] = href
    return RequestCreated(request_id=request_id, href=href)


@router.post(
    "/requests/{request_id}/withdraw", response_model=RequestChanged, responses=WRITE_RESPONSES
)
async def withdraw(
    request_id: UUID, body: WithdrawBody, principal: RequestWithdrawer, requests: Requests
) -> RequestChanged:
    """Withdraw a request (coordinator); open decisions stop, the reason is recorded sealed."""
    view = await view_of(requests, request_id)
    _still_open(view)
    changed = await requests.withdraw(
        actor_of(principal), request_id, body.reason, view.state.subject_id
    )
    return changed_of(changed)


@router.post(
    "/requests/{request_id}/rating", response_model=RequestChanged, responses=WRITE_RESPONSES
)
async def change_rating(
    request_id: UUID, body: RatingBody, principal: RequestRerater, requests: Requests
) -> RequestChanged:
    """Re-rate a request (coordinator) with a written rationale; deadlines are recomputed."""
    view = await view_of(requests, request_id)
    _still_open(view)
    changed = await requests.change_rating(
        actor_of(principal), request_id, body.rating, body.rationale, view.state.subject_id
    )
    return changed_of(changed)


def _still_open(view: RequestView) -> None:
    """The request's own refusal (``domain.request``), said from its state: once withdrawn or
    closed its workflow has ended and is not there to say it (the refusal read only 'this
    request or decision is no longer open')."""
    if view.state.withdrawn_at is not None:
        raise InvalidState("the request has already been withdrawn")
    if view.state.closed_at is not None:
        raise InvalidState("the request is closed")


def changed_of(view: RequestView) -> RequestChanged:
    return RequestChanged(
        request_id=view.state.request_id,
        rating=view.state.rating,
        withdrawn=view.state.withdrawn_at is not None,
        version=view.version,
    )
