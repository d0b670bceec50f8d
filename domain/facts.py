"""What the rules read about one agency's decision, and the first questions asked of it.

Steps 1 to 4 of the decision (``DOMAIN.md``): purpose, identity,
confidentiality, and a statutory duty or court order, asked before consent.
Pure: no I/O and no clock.
"""

from __future__ import annotations

from domain.events.values import (
    AdviceTaken,
    ConsentRecord,
    InformationItem,
    LawfulBasis,
    LegalInstrument,
)
from domain.frozen import Frozen
from domain.inputs import Flag
from domain.vocabulary import (
    LEGITIMATE_PURPOSES,
    NO_CONSENT_OUTCOMES,
    AgencyKind,
    ConsentOutcome,
    PurposeCategory,
    Rating,
    SubjectKind,
    public_authority_by_kind,
)


class Assessment(Frozen):
    """Steps 1 to 3: what the worker finds of the purpose and the information (the
    assessment's command and task body carry these too)."""

    purpose_clear: Flag
    """The worker finds the stated purpose clear and genuinely of the stated category."""
    identifiable: Flag
    confidential: Flag
    special_category: Flag
    adult_at_risk: Flag = False
    criminal_offence_data: Flag = False
    """Offences or allegations (criminal offence data): a condition is needed as well."""


class DecisionFacts(Assessment):
    """What is known about one agency's decision when a rule is asked."""

    subject_kind: SubjectKind
    rating: Rating
    purpose_category: PurposeCategory
    holder_kind: AgencyKind
    public_authority: bool | None = None
    """Whether the register holds the deciding agency to be a public authority (None: not
    recorded, read as its kind's default; see :func:`is_public_authority`)."""
    compelled_by: LegalInstrument | None = None
    """The statutory duty or court order found to apply at the assessment, if any."""
    consent: ConsentRecord | None = None
    lawful_basis: LawfulBasis | None = None
    advice: list[AdviceTaken] = []
    items: list[InformationItem] = []
    isp_exists: bool = False
    """Recorded for the decision record only: no rule reads it."""


def is_public_authority(facts: DecisionFacts) -> bool:
    """Public task (and the statutory-purposes conditions) are for public authorities, and
    whether an agency is one is a fact about that agency, set in the hub's register, not a
    consequence of its kind: a charity may carry out a commissioned public function, and a
    private provider may not be one. Only where nothing was recorded does the kind decide."""
    if facts.public_authority is not None:
        return facts.public_authority
    return public_authority_by_kind(facts.holder_kind)


def is_legitimate_purpose(category: PurposeCategory, purpose_clear: bool) -> bool:
    """Step 1: share only for a clear purpose that is safeguarding or promoting welfare,
    early help, preventing or detecting crime, or protecting the public."""
    return purpose_clear and category in LEGITIMATE_PURPOSES


def consent_question_arises(identifiable: bool, confidential: bool) -> bool:
    """Steps 2 and 3: consent matters only for confidential information about someone
    who can be identified; otherwise it is not the question (how to share still is)."""
    return identifiable and confidential


def consent_needed(facts: DecisionFacts) -> bool:
    """Step 4 comes before consent: where a statutory duty or court order requires the
    information, consent cannot change the outcome, so it is not asked for (asking would
    not be honest) and the record says it was not needed."""
    return (
        consent_question_arises(facts.identifiable, facts.confidential)
        and facts.compelled_by is None
    )


def has_consent(consent: ConsentRecord | None) -> bool:
    return consent is not None and consent.outcome is ConsentOutcome.GIVEN


def sharing_without_consent(facts: DecisionFacts) -> bool:
    """Step 6 applies: consent was the question and there is none."""
    return consent_needed(facts) and not has_consent(facts.consent)


def without_consent_outcome(consent: ConsentRecord | None) -> bool:
    """Consent was the question and there is none (refused, unobtainable, unanswered,
    not sought)."""
    return consent is not None and consent.outcome in NO_CONSENT_OUTCOMES
