"""Realistic requests through every path of the decision, driven as the people would.

``make demo`` runs them on the embedded stack; the workflow tests run them on
the time-skipping server and check the records they leave. Each is built with
:mod:`app.scenario_builder`. The names and narratives are invented.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from app.scenario_builder import Entry, Hub, Walk, open_request
from domain.commands import (
    GiveAdvice,
    RecordConsent,
    RecordConsentNotSought,
    RecordInforming,
    SeekConsent,
)
from domain.decision import TaskKind
from domain.events.values import InformPlan, LawfulBasis, ProtectedPerson
from domain.vocabulary import (
    AdviceRecommendation,
    AdvisorCapacity,
    Art6Basis,
    Art9Condition,
    AtRiskKind,
    ConsentOutcome,
    NotInformedReason,
    NotShareReason,
    NotSoughtReason,
    Para18Reason,
    ProtectedRelation,
    PurposeCategory,
    Rating,
    SubjectKind,
    WithoutConsentGround,
)

GP_RECORDS = (
    Entry(
        "Mental health review",
        "Relapse of severe depression; stopped medication; has said they cannot "
        "cope with the children alone.",
        "GP consultation record",
    ),
)
"""What a GP practice holds about a parent that bears on a child's safety."""


async def consent_given(hub: Hub, name: str = "Ada Example") -> UUID:
    """Consent sought and given; shared on the public task; delivered and acknowledged."""
    rid, subject = await open_request(hub, name, ["police"])
    walk = Walk(hub, rid, subject, "police")
    await walk.assess()
    await walk.consent(ConsentOutcome.GIVEN)
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
    await walk.consent(ConsentOutcome.REFUSED)
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
    await walk.consent(ConsentOutcome.REFUSED)
    await walk.advised_to_share(
        "Is sharing without consent justified here?",
        "Risk of significant harm outweighs the refusal: share",
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


async def parent_shared_to_protect_child(hub: Hub, name: str = "Gus Example") -> UUID:
    """A parent's health information, shared without their consent to protect their child.

    The commonest hub case: the request is about an adult (the parent); asking the
    parent would put the child at risk, so consent is not sought; the GP practice's
    advisor agrees; the basis is public task with DPA 2018 Sch. 1 para 18, naming the
    child of the subject as the person protected.
    """
    rid, subject = await open_request(hub, name, ["gp_riverside"], kind=SubjectKind.ADULT)
    walk = Walk(hub, rid, subject, "gp_riverside")
    await walk.assess(special=True)
    child = ProtectedPerson(relation=ProtectedRelation.CHILD_OF_SUBJECT, kind=AtRiskKind.CHILD)
    await walk.by_worker(
        "consent_not_sought",
        RecordConsentNotSought(
            reason=NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD,
            explanation=await walk.text(
                "Asking the parent would alert the partner, who is the risk to the child"
            ),
            at_risk=child,
        ),
    )
    await walk.advised_to_share(
        "May we share a parent's health record unasked?",
        "Para 18 applies: the child's protection comes first",
        AdvisorCapacity.CALDICOTT_GUARDIAN,
        "Caldicott guardian, Riverside GP Practice",
    )
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK,
        art9=Art9Condition.SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK,
        without_consent=WithoutConsentGround.SAFEGUARDING_CONDITION,
        protects=child,
        para18_reason=Para18Reason.WOULD_PREJUDICE_PROTECTION,
        legal_power="Children Act 2004 s.11",
    )
    plan = InformPlan(will_inform=False, reason_not=NotInformedReason.WOULD_PUT_SOMEONE_AT_RISK)
    await walk.share(
        basis, inform=plan, override=False, items=await walk.items(GP_RECORDS, days_before=20)
    )
    await walk.receive()
    return rid
