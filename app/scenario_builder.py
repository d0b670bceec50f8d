"""The one builder of demo and test scenarios: a small hub's people (:class:`Hub`), a
request opened by its coordinator (:func:`open_request`) and one agency's decision
walked step by step as its people would (:class:`Walk`). The paths themselves are
in :mod:`app.scenarios`. The names and narratives are invented.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID, uuid4

from pydantic import BaseModel

from app.packages import PackageService
from app.request_inputs import NewRequest, SubjectDetails
from app.requests import RequestService
from domain.commands import (
    AssessPurpose,
    DetermineLawfulBasis,
    GiveAdvice,
    RecordConsent,
    RecordDecision,
    RequestAdvice,
    SeekConsent,
    SelectInformation,
)
from domain.decision import TaskKind
from domain.events import Sealed
from domain.events.values import InformationItem, InformPlan, LawfulBasis
from domain.models import Actor
from domain.policy import HubPolicy, RatingWindows
from domain.tasks import TaskId
from domain.vocabulary import (
    AdviceRecommendation,
    AdvisorCapacity,
    ConsentOutcome,
    FactOrOpinion,
    NotShareReason,
    Outcome,
    PurposeCategory,
    Rating,
    Role,
    SubjectKind,
)
from infra.directory import AgencyDirectory, AlreadyExistsError

TASK_WAIT_S = 60.0

AGENCIES = (
    ("police", "Northshire Police", "police"),
    ("csc", "Northshire Children's Social Care", "childrens_social_care"),
    ("asc", "Northshire Adult Social Care", "adult_social_care"),
    ("gp_riverside", "Riverside GP Practice", "health_gp"),
    ("school_oak", "Oak Primary School", "education"),
    ("probation", "Probation Service North", "probation"),
)
"""The demo hub's agencies (code, name, kind), as the scenarios name them."""


async def register_agencies(agencies: AgencyDirectory) -> None:
    """Register the demo hub's agencies (those already there are left as they are)."""
    for code, name, kind in AGENCIES:
        with contextlib.suppress(AlreadyExistsError):
            await agencies.add(code, name, kind)


Seconds = tuple[float, float, float]
"""Red, amber and green windows, in seconds."""


def policy_in_seconds(decision: Seconds, others: Seconds) -> HubPolicy:
    """A hub policy measured in seconds, round the clock: the decision's windows, and
    those of every other step (consent, advice, acknowledgement). For the demo and tests
    that show a deadline passing."""

    def windows(red: float, amber: float, green: float) -> RatingWindows:
        return RatingWindows(
            red=timedelta(seconds=red),
            amber=timedelta(seconds=amber),
            green=timedelta(seconds=green),
        )

    rest = windows(*others)
    return HubPolicy(
        decision=windows(*decision),
        consent=rest,
        advice=rest,
        acknowledgement=rest,
        working_hours_ratings=[],
    )


@dataclass(frozen=True)
class Entry:
    """One record an agency holds, to be shared as an information item."""

    description: str
    content: str
    source: str
    kind: FactOrOpinion = FactOrOpinion.FACT


POLICE_RECORDS = (
    Entry(
        "Domestic abuse incident attended at the home",
        "Officers attended after a neighbour's call; the child was present "
        "and was seen to be unharmed.",
        "Incident log, response team",
    ),
    Entry(
        "Attending officer's assessment",
        "The officer was worried about the child's demeanour.",
        "Officer's notes",
        FactOrOpinion.OPINION,
    ),
)


@dataclass(frozen=True)
class Hub:
    """The people of a small hub, and the services they use."""

    requests: RequestService
    packages: PackageService
    requesting_agency: str = "csc"

    @property
    def coordinator(self) -> Actor:
        return Actor(user_id="u-coordinator-1", role=Role.COORDINATOR)

    def worker(self, agency: str) -> Actor:
        return Actor(user_id=f"u-worker-{agency}", role=Role.AGENCY_WORKER, agency=agency)

    def advisor(self, agency: str) -> Actor:
        return Actor(user_id=f"u-advisor-{agency}", role=Role.ADVISOR, agency=agency)

    @property
    def recipient(self) -> Actor:
        agency = self.requesting_agency
        return Actor(user_id=f"u-recipient-{agency}", role=Role.RECIPIENT, agency=agency)


class Walk:
    """One agency's decision on one request, step by step."""

    def __init__(self, hub: Hub, request_id: UUID, subject_id: UUID, agency: str) -> None:
        self.hub = hub
        self.request_id = request_id
        self.subject_id = subject_id
        self.agency = agency
        self._keys = hub.requests.keyring.session()  # the subject's key, read once
        self._version: int | None = None
        """The decision's version after this walk's last step, as its answer gave it."""

    async def text(self, value: str) -> Sealed:
        return await self._keys.seal(self.subject_id, value)

    async def by_worker(self, update: str, command: BaseModel) -> None:
        await self.step(self.hub.worker(self.agency), update, command)

    async def by_advisor(self, update: str, command: BaseModel) -> None:
        await self.step(self.hub.advisor(self.agency), update, command)

    async def step(self, actor: Actor, update: str, command: BaseModel) -> None:
        """Take a step as a client of the API does: its task id made from the version the
        last step answered with, so nothing asks the workflow first (the first step, with
        no answer yet, lets ``RequestService.step`` ask)."""
        task_id = None
        if self._version is not None:
            task_id = str(TaskId(self.request_id, self.agency, update, self._version))
        done = await self.hub.requests.step(
            actor, self.request_id, self.agency, update, command, task_id=task_id
        )
        self._version = done.version

    async def until(self, kind: TaskKind) -> None:
        """Wait until a task of ``kind`` is open (the engine works in the background)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TASK_WAIT_S
        while loop.time() < deadline:
            try:
                tasks = await self.hub.requests.tasks(self.request_id, self.agency)
                if any(t.kind is kind for t in tasks.tasks):
                    return
            except Exception:  # noqa: S110 - the child workflow may not have started yet
                pass
            await asyncio.sleep(0.1)
        raise TimeoutError(f"no {kind} task opened for {self.agency}")

    async def items(
        self, entries: Sequence[Entry] = POLICE_RECORDS, *, days_before: int = 40
    ) -> list[InformationItem]:
        """The entries as information items, sealed, dated ``days_before`` the request's
        opening (the engine's clock, not the machine's: under the time-skipping test
        server the two can be years apart)."""
        opened = (await self.hub.requests.view(self.request_id)).state.opened_at
        dated = opened.date() - timedelta(days=days_before)
        return [
            InformationItem(
                item_id=uuid4(),
                description=await self.text(e.description),
                content=await self.text(e.content),
                kind=e.kind,
                dated=dated,
                source=await self.text(e.source),
                historical=False,
            )
            for e in entries
        ]

    async def assess(self, *, purpose_clear: bool = True, special: bool = False) -> None:
        await self.until(TaskKind.ASSESS_PURPOSE)
        await self.by_worker(
            "assess_purpose",
            AssessPurpose(
                purpose_clear=purpose_clear,
                identifiable=True,
                confidential=True,
                special_category=special,
                note=await self.text("Purpose checked against the referral"),
            ),
        )

    async def consent(self, outcome: ConsentOutcome) -> None:
        """The worker seeks consent and records what came of it."""
        await self.by_worker("seek_consent", SeekConsent())
        await self.by_worker("record_consent", RecordConsent(outcome=outcome))

    async def advised_to_share(
        self,
        question: str,
        advice: str,
        capacity: AdvisorCapacity | None = None,
        position: str | None = None,
    ) -> None:
        """The worker asks the advisor, who agrees to share without consent."""
        await self.by_worker("request_advice", RequestAdvice(question=await self.text(question)))
        await self.until(TaskKind.GIVE_ADVICE)
        await self.by_advisor(
            "give_advice",
            GiveAdvice(
                recommendation=AdviceRecommendation.SHARE,
                agrees_to_share_without_consent=True,
                advice=await self.text(advice),
                capacity=capacity,
                position=position,
            ),
        )

    async def share(
        self,
        basis: LawfulBasis,
        *,
        inform: InformPlan,
        override: bool,
        items: list[InformationItem] | None = None,
    ) -> None:
        await self.by_worker("determine_lawful_basis", DetermineLawfulBasis(basis=basis))
        chosen = items if items is not None else await self.items()
        await self.by_worker("select_information", SelectInformation(items=chosen))
        await self.by_worker(
            "record_decision",
            RecordDecision(
                outcome=Outcome.SHARE,
                reasons=await self.text("The information bears directly on the child's safety"),
                necessity=await self.text("Only the two entries about the recent incident"),
                inform=inform,
                urgent_override=(
                    await self.text("Waiting for the advisor would leave the child at risk")
                    if override
                    else None
                ),
            ),
        )

    async def receive(self) -> None:
        """The recipient opens the delivered package and acknowledges what arrived."""
        await self.until(TaskKind.ACKNOWLEDGE_RECEIPT)
        (package,) = [
            p
            for p in await self.hub.packages.inbox(self.hub.recipient)
            if p.request_id == self.request_id and p.sender_agency == self.agency
        ]
        opened = await self.hub.packages.open(self.hub.recipient, package.package_id)
        await self.hub.packages.acknowledge(self.hub.recipient, package.package_id, opened.sha256)

    async def not_share(self, reason: NotShareReason, why: str) -> None:
        await self.by_worker(
            "record_decision",
            RecordDecision(
                outcome=Outcome.NOT_SHARE, reasons=await self.text(why), not_share_reasons=[reason]
            ),
        )


async def open_request(
    hub: Hub,
    name: str,
    holders: list[str],
    rating: Rating = Rating.AMBER,
    purpose: PurposeCategory = PurposeCategory.SAFEGUARDING_WELFARE,
    kind: SubjectKind = SubjectKind.CHILD,
) -> tuple[UUID, UUID]:
    request_id = await hub.requests.open_request(
        hub.coordinator,
        NewRequest(
            subject=SubjectDetails(name=name, date_of_birth=date(2017, 3, 14)),
            subject_kind=kind,
            requesting_agency=hub.requesting_agency,
            requested_by=f"u-worker-{hub.requesting_agency}",
            holding_agencies=holders,
            purpose_category=purpose,
            purpose="Strategy discussion after concerns raised by the school",
            information_sought="Police contact with the household in the last year",
            rating=rating,
        ),
    )
    view = await hub.requests.view(request_id)
    return request_id, view.state.subject_id
