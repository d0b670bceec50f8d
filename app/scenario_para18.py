"""The commonest hub case, driven as the people would: a parent's information shared
without their consent to protect their child, on DPA 2018 Sch. 1 para 18.

``make demo`` runs it beside the paths of :mod:`app.scenarios`; the workflow
tests check the record it leaves. The names and narratives are invented.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from app.scenarios import Hub, Walk, open_request
from domain.commands import GiveAdvice, RecordConsentNotSought, RequestAdvice
from domain.decision import TaskKind
from domain.events.values import InformationItem, InformPlan, LawfulBasis, ProtectedPerson
from domain.vocabulary import (
    AdviceRecommendation,
    AdvisorCapacity,
    Art6Basis,
    Art9Condition,
    AtRiskKind,
    FactOrOpinion,
    NotInformedReason,
    NotSoughtReason,
    Para18Reason,
    ProtectedRelation,
    SubjectKind,
    WithoutConsentGround,
)


async def health_items(walk: Walk) -> list[InformationItem]:
    """What a GP practice holds about a parent that bears on a child's safety."""
    dated = (await walk.hub.requests.view(walk.request_id)).state.opened_at.date() - timedelta(
        days=20
    )
    return [
        InformationItem(
            item_id=uuid4(),
            description=await walk.text("Mental health review"),
            content=await walk.text(
                "Relapse of severe depression; stopped medication; has said they cannot "
                "cope with the children alone."
            ),
            kind=FactOrOpinion.FACT,
            dated=dated,
            source=await walk.text("GP consultation record"),
            historical=False,
        )
    ]


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
    await walk.by_worker(
        "request_advice",
        RequestAdvice(question=await walk.text("May we share a parent's health record unasked?")),
    )
    await walk.until(TaskKind.GIVE_ADVICE)
    await walk.by_advisor(
        "give_advice",
        GiveAdvice(
            recommendation=AdviceRecommendation.SHARE,
            agrees_to_share_without_consent=True,
            advice=await walk.text("Para 18 applies: the child's protection comes first"),
            capacity=AdvisorCapacity.CALDICOTT_GUARDIAN,
            position="Caldicott guardian, Riverside GP Practice",
        ),
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
    await walk.share(basis, inform=plan, override=False, items=await health_items(walk))
    await walk.receive()
    return rid
