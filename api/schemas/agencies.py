"""The register of agencies and information sharing protocols: requests and responses."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.inputs import NO_CONTROLS, Flag, IsoDate
from domain.vocabulary import AgencyKind
from infra.directory import RegisteredAgency, RegisteredIsp

AgencyCode = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$"),
    Field(description="Short lower-case code, e.g. 'police' or 'csc_north'.", examples=["police"]),
]
Text200 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NO_CONTROLS
]


class AgencyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: AgencyCode
    name: Text200
    kind: AgencyKind
    public_authority: Flag | None = Field(
        default=None,
        description="Whether the agency is a public authority (public task is then its basis "
        "for its functions). Absent: every kind but voluntary_sector is.",
    )


class AgencyChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_authority: Flag = Field(
        description="Whether the agency is a public authority; recorded as a register event."
    )


class AgencyResponse(BaseModel):
    code: str
    name: str
    kind: AgencyKind
    public_authority: bool
    public_key: str = Field(description="X25519 public key, base64: what packages are sealed to.")
    created_at: datetime

    @classmethod
    def of(cls, agency: RegisteredAgency) -> AgencyResponse:
        return cls(
            code=agency.code,
            name=agency.name,
            kind=agency.kind,
            public_authority=agency.public_authority,
            public_key=agency.public_key,
            created_at=agency.created_at,
        )


class ProtocolCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agencies: Annotated[list[AgencyCode], Field(min_length=2, max_length=2)]
    title: Text200
    reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NO_CONTROLS
    ]
    valid_from: IsoDate
    valid_to: IsoDate | None = None


class ProtocolResponse(BaseModel):
    id: uuid.UUID
    agencies: tuple[str, str]
    title: str
    reference: str
    valid_from: date
    valid_to: date | None
    in_force: bool = Field(description="Whether the protocol is in force today.")

    @classmethod
    def of(cls, protocol: RegisteredIsp, today: date) -> ProtocolResponse:
        return cls(
            id=protocol.id,
            agencies=protocol.agencies,
            title=protocol.title,
            reference=protocol.reference,
            valid_from=protocol.valid_from,
            valid_to=protocol.valid_to,
            in_force=protocol.in_force(today),
        )


class RegisterResponse(BaseModel):
    """The hub's register. A protocol helps but is never required: no ISP is no bar to sharing."""

    agencies: list[AgencyResponse]
    protocols: list[ProtocolResponse]
