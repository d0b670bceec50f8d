"""Realistic requests through every path of the decision, driven as the people would.

``make demo`` runs them on the embedded stack; the workflow tests run them on
the time-skipping server and check the records they leave. The names and
narratives are invented.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID, uuid4

from pydantic import BaseModel

from app.packages import PackageService
from app.requests import NewRequest, RequestService, SubjectDetails
from domain.commands import (
    AssessPurpose,
    DetermineLawfulBasis,
    GiveAdvice,
    RecordConsent,
    RecordConsentNotSought,
    RecordDecision,
    RecordInforming,
    RequestAdvice,
    SeekConsent,
    SelectInformation,
)
from domain.decision import TaskKind
from domain.events import Sealed
from domain.events.values import InformationItem, InformPlan, LawfulBasis
from domain.models import Actor
from domain.tasks import TaskId
from domain.vocabulary import (
    AdviceRecommendation,
    Art6Basis,
    ConsentOutcome,
    FactOrOpinion,
    NotInformedReason,
    NotShareReason,
    NotSoughtReason,
    Outcome,
    PurposeCategory,
    Rating,
    Role,
    SubjectKind,
    WithoutConsentGround,
)

TASK_WAIT_S = 60.0


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

    async def items(self) -> list[InformationItem]:
        # Dated by the engine's clock (the request's opening), not the machine's: under the
        # time-skipping test server the two can be years apart.
        dated = (await self.hub.requests.view(self.request_id)).state.opened_at.date() - timedelta(
            days=40
        )
        return [
            InformationItem(
                item_id=uuid4(),
                description=await self.text("Domestic abuse incident attended at the home"),
                content=await self.text(
                    "Officers attended after a neighbour's call; the child was present "
                    "and was seen to be unharmed."
                ),
                kind=FactOrOpinion.FACT,
                dated=dated,
                source=await self.text("Incident log, response team"),
                historical=False,
            ),
            InformationItem(
                item_id=uuid4(),
                description=await self.text("Attending officer's assessment"),
                content=await self.text("The officer was worried about the child's demeanour."),
                kind=FactOrOpinion.OPINION,
                dated=dated,
                source=await self.text("Officer's notes"),
                historical=False,
            ),
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


async def consent_given(hub: Hub, name: str = "Ada Example") -> UUID:
    """Consent sought and given; shared on the public task; delivered and acknowledged."""
    rid, subject = await open_request(hub, name, ["police"])
    walk = Walk(hub, rid, subject, "police")
    await walk.assess()
    await walk.by_worker("seek_consent", SeekConsent())
    await walk.by_worker("record_consent", RecordConsent(outcome=ConsentOutcome.GIVEN))
    await walk.share(
        LawfulBasis(art6=Art6Basis.PUBLIC_TASK), inform=InformPlan(will_inform=True), override=False
    )
    await walk.receive()
    await walk.by_worker("record_informing", RecordInforming(informed=True))
    return rid


async def consent_refused_not_shared(hub: Hub, name: str = "Ben Example") -> UUID:
    """Consent refused, and no ground to override it: the refusal is respected."""
    rid, subject = await open_request(hub, name, ["school_oak"], purpose=PurposeCategory.EARLY_HELP)
    walk = Walk(hub, rid, subject, "school_oak")
    await walk.assess()
    await walk.by_worker("seek_consent", SeekConsent())
    await walk.by_worker("record_consent", RecordConsent(outcome=ConsentOutcome.REFUSED))
    await walk.not_share(
        NotShareReason.RESPECTING_REFUSAL,
        "Parents refused; early help only, no indication of significant harm",
    )
    return rid


async def refused_but_shared_with_advice(hub: Hub, name: str = "Cara Example") -> UUID:
    """Consent refused, advice sought; shared without consent to protect the child."""
    rid, subject = await open_request(hub, name, ["police"])
    walk = Walk(hub, rid, subject, "police")
    await walk.assess()
    await walk.by_worker("seek_consent", SeekConsent())
    await walk.by_worker("record_consent", RecordConsent(outcome=ConsentOutcome.REFUSED))
    await walk.by_worker(
        "request_advice",
        RequestAdvice(question=await walk.text("Is sharing without consent justified here?")),
    )
    await walk.until(TaskKind.GIVE_ADVICE)
    await walk.by_advisor(
        "give_advice",
        GiveAdvice(
            recommendation=AdviceRecommendation.SHARE,
            agrees_to_share_without_consent=True,
            advice=await walk.text("Risk of significant harm outweighs the refusal: share"),
        ),
    )
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK, without_consent=WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD
    )
    plan = InformPlan(will_inform=False, reason_not=NotInformedReason.WOULD_PUT_SOMEONE_AT_RISK)
    await walk.share(basis, inform=plan, override=False)
    await walk.receive()
    return rid


async def red_consent_not_sought(hub: Hub, name: str = "Dan Example") -> UUID:
    """Red: consent not sought (delay would harm); shared at once, advisor reviews after."""
    rid, subject = await open_request(hub, name, ["police"], rating=Rating.RED)
    walk = Walk(hub, rid, subject, "police")
    await walk.assess()
    await walk.by_worker(
        "consent_not_sought",
        RecordConsentNotSought(
            reason=NotSoughtReason.HARMFUL_DELAY_IN_URGENT_CASE,
            explanation=await walk.text("Child at immediate risk; strategy meeting within hours"),
        ),
    )
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK, without_consent=WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD
    )
    plan = InformPlan(will_inform=False, reason_not=NotInformedReason.WOULD_PREJUDICE_INVESTIGATION)
    await walk.share(basis, inform=plan, override=True)
    await walk.receive()
    await walk.until(TaskKind.REVIEW_URGENT_SHARE)
    await walk.by_advisor(
        "give_advice",
        GiveAdvice(
            recommendation=AdviceRecommendation.SHARE,
            agrees_to_share_without_consent=True,
            advice=await walk.text("Reviewed: sharing at once was right"),
        ),
    )
    return rid


async def no_legitimate_purpose(hub: Hub, name: str = "Eve Example") -> UUID:
    """The purpose does not hold up: nothing is shared, and the requester is told why."""
    rid, subject = await open_request(
        hub, name, ["gp_riverside"], purpose=PurposeCategory.SAFEGUARDING_WELFARE
    )
    walk = Walk(hub, rid, subject, "gp_riverside")
    await walk.assess(purpose_clear=False)
    await walk.not_share(
        NotShareReason.NO_LEGITIMATE_PURPOSE,
        "The request asks for the family's full medical history with no stated concern",
    )
    return rid


async def deadline_missed(hub: Hub, opened: asyncio.Queue[UUID], answer: asyncio.Event) -> UUID:
    """Nobody answers in time: the deadline passes, escalates, and the request goes on.

    The request's id is put on ``opened``; once the caller has seen the escalation it
    sets ``answer``, the worker answers late, and the lateness stays on the record.
    """
    rid, subject = await open_request(hub, "Fay Example", ["probation"], rating=Rating.RED)
    walk = Walk(hub, rid, subject, "probation")
    await walk.until(TaskKind.ASSESS_PURPOSE)
    await opened.put(rid)
    await answer.wait()
    await walk.assess()
    await walk.by_worker("seek_consent", SeekConsent())
    await walk.by_worker(
        "record_consent",
        RecordConsent(outcome=ConsentOutcome.REFUSED),
    )
    await walk.not_share(
        NotShareReason.INFORMATION_NOT_HELD, "Probation holds no record of this household"
    )
    return rid
