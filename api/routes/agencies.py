"""The hub's register: agencies (with their public keys) and the ISPs between them.

Reading is open to every signed-in user (senders need the public keys, workers
want to see which protocols exist). Changing the register is hub
administration, which is the coordinator's job: compliance officers audit
the hub and do not administer it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import Agencies, CurrentPrincipal, RegisterKeeper
from api.problems import problem_responses
from api.schemas.agencies import (
    AgencyChange,
    AgencyCreate,
    AgencyResponse,
    ProtocolCreate,
    ProtocolResponse,
    RegisterResponse,
)
from infra.directory import AGENCY_CODE

router = APIRouter(prefix="/api", tags=["agencies"])

_AUTH = problem_responses(401, 403)
CodeParam = Annotated[str, Path(pattern=AGENCY_CODE.pattern)]
"""An agency's code in a path: anything else is a 422 naming ``code``, not a 404 that
repeats what was sent."""
_WRITE = _AUTH | problem_responses(409, 422)


@router.get("/agencies", response_model=RegisterResponse, responses=_AUTH)
async def register(_: CurrentPrincipal, agencies: Agencies) -> RegisterResponse:
    """Every agency with its public key, and every information sharing protocol."""
    today = datetime.now(UTC).date()
    return RegisterResponse(
        agencies=[AgencyResponse.of(a) for a in await agencies.list()],
        protocols=[ProtocolResponse.of(p, today) for p in await agencies.protocols()],
    )


@router.get(
    "/agencies/{code}",
    response_model=AgencyResponse,
    responses=_AUTH | problem_responses(404),
)
async def agency(code: CodeParam, _: CurrentPrincipal, agencies: Agencies) -> AgencyResponse:
    return AgencyResponse.of(await agencies.get(code))


@router.post(
    "/agencies",
    response_model=AgencyResponse,
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
)
async def add_agency(
    body: AgencyCreate, _: RegisterKeeper, agencies: Agencies, response: Response
) -> AgencyResponse:
    """Register an agency (coordinator). Its transfer keypair is made here; the private half
    stays wrapped under the hub's key-encryption key."""
    added = await agencies.add(body.code, body.name, body.kind, body.public_authority)
    response.headers["Location"] = f"/api/agencies/{added.code}"
    return AgencyResponse.of(added)


@router.patch(
    "/agencies/{code}",
    response_model=AgencyResponse,
    responses=_WRITE | problem_responses(404),
)
async def change_agency(
    code: CodeParam, body: AgencyChange, keeper: RegisterKeeper, agencies: Agencies
) -> AgencyResponse:
    """Record whether the agency is a public authority (coordinator). The rules read it when
    they offer public task; the change is recorded as ``register.agency_public_authority_changed``
    with who made it. Requests already open keep the status they were opened with."""
    changed = await agencies.set_public_authority(
        code, body.public_authority, by=str(keeper.user_id), by_role=keeper.role.value
    )
    return AgencyResponse.of(changed)


@router.post(
    "/protocols",
    response_model=ProtocolResponse,
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
)
async def add_protocol(
    body: ProtocolCreate, _: RegisterKeeper, agencies: Agencies
) -> ProtocolResponse:
    """Record an information sharing protocol between two agencies (coordinator)."""
    first, second = body.agencies
    added = await agencies.add_protocol(
        first,
        second,
        title=body.title,
        reference=body.reference,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
    )
    return ProtocolResponse.of(added, datetime.now(UTC).date())
