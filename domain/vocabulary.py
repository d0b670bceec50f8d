"""The words of the domain: every enumeration, in one module with no imports of its own.

Kept apart from :mod:`domain.models` so that the event catalogue can use them
without an import cycle (``domain.models`` needs ``Sealed`` from
``domain.events``, whose package imports the catalogue). ``domain.models``
re-exports all of them: import from there.
"""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    POLICE = "police"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    ADULT_SOCIAL_CARE = "adult_social_care"
    HEALTH_GP = "health_gp"
    HEALTH_HOSPITAL = "health_hospital"
    HEALTH_VISITING = "health_visiting"
    EDUCATION = "education"
    PROBATION = "probation"
    YOUTH_OFFENDING = "youth_offending"
    HOUSING = "housing"
    VOLUNTARY_SECTOR = "voluntary_sector"


def public_authority_by_kind(kind: AgencyKind) -> bool:
    """The default a newly registered agency takes (and existing ones took when the status
    became a register field): every kind is a public authority but the voluntary sector.
    Only a default: the register holds each agency's own answer (a charity may run a
    public function; a company may run a school), and the rules read that."""
    return kind is not AgencyKind.VOLUNTARY_SECTOR


HEALTH_OR_CARE_KINDS = frozenset(
    {
        AgencyKind.HEALTH_GP,
        AgencyKind.HEALTH_HOSPITAL,
        AgencyKind.HEALTH_VISITING,
        AgencyKind.CHILDRENS_SOCIAL_CARE,
        AgencyKind.ADULT_SOCIAL_CARE,
    }
)


class Role(StrEnum):
    COORDINATOR = "coordinator"
    AGENCY_WORKER = "agency_worker"
    ADVISOR = "advisor"
    RECIPIENT = "recipient"
    COMPLIANCE_OFFICER = "compliance_officer"
    SYSTEM = "system"
    """The engine itself (timers, secure transfer); never a person's role."""


class SubjectKind(StrEnum):
    CHILD = "child"
    YOUNG_PERSON = "young_person"
    ADULT = "adult"
    FAMILY = "family"


UNDER_18_KINDS = frozenset({SubjectKind.CHILD, SubjectKind.YOUNG_PERSON, SubjectKind.FAMILY})
"""Subjects who are, or include, someone under 18 (a family is taken to include a child)."""

ADULT_KINDS = frozenset({SubjectKind.ADULT, SubjectKind.FAMILY})


class Rating(StrEnum):
    """The hub's urgency rating. Red is immediate risk of significant harm."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"

    @property
    def urgency(self) -> int:
        """0 is the most urgent."""
        return _URGENCY[self]


_URGENCY = {Rating.RED: 0, Rating.AMBER: 1, Rating.GREEN: 2}


class PurposeCategory(StrEnum):
    SAFEGUARDING_WELFARE = "safeguarding_welfare"
    EARLY_HELP = "early_help"
    CRIME_PREVENTION_DETECTION = "crime_prevention_detection"
    PUBLIC_PROTECTION = "public_protection"
    OTHER = "other"
    NONE = "none"


LEGITIMATE_PURPOSES = frozenset(
    {
        PurposeCategory.SAFEGUARDING_WELFARE,
        PurposeCategory.EARLY_HELP,
        PurposeCategory.CRIME_PREVENTION_DETECTION,
        PurposeCategory.PUBLIC_PROTECTION,
    }
)


class Outcome(StrEnum):
    SHARE = "share"
    NOT_SHARE = "not_share"


class ConsentOutcome(StrEnum):
    """What happened about consent, as the record states it; never more than is true."""

    GIVEN = "given"
    REFUSED = "refused"
    COULD_NOT_BE_OBTAINED = "could_not_be_obtained"
    SOUGHT_NO_ANSWER = "sought_no_answer"
    """Consent was asked for and no answer came: neither given nor refused."""
    NOT_SOUGHT = "not_sought"
    NOT_NEEDED = "not_needed"
    """A statutory duty or court order applies (named on the assessment): consent cannot
    change the outcome, so asking for it would not be honest."""
    NOT_REQUIRED = "not_required"
    """The information is not confidential, or identifies no one: consent is not the question."""
    WITHDRAWN = "withdrawn"
    """Consent was given and later withdrawn (``consent.withdrawn``): from then on there is
    none, so sharing not yet made needs a lawful basis without it, as after a refusal."""
    UNRESOLVED = "unresolved"
    """Consent was never settled because the decision not to share came first."""


NO_CONSENT_OUTCOMES = frozenset(
    {
        ConsentOutcome.REFUSED,
        ConsentOutcome.COULD_NOT_BE_OBTAINED,
        ConsentOutcome.SOUGHT_NO_ANSWER,
        ConsentOutcome.NOT_SOUGHT,
        ConsentOutcome.WITHDRAWN,
    }
)
"""Outcomes where consent was the question and there is none: step 6 decides."""


class CouldNotObtainReason(StrEnum):
    NO_CONTACT = "no_contact"
    NO_CAPACITY = "no_capacity"


class NotSoughtReason(StrEnum):
    """The only reasons the guidance accepts for not seeking consent.

    The risk reasons concern whoever would be put at risk by asking (a child of
    the subject, a partner, the subject), not the kind of person the information
    is about; that person is named with the reason.
    """

    RISK_OF_SIGNIFICANT_HARM_TO_CHILD = "risk_of_significant_harm_to_child"
    RISK_OF_SERIOUS_HARM_TO_ADULT = "risk_of_serious_harm_to_adult"
    WOULD_PREJUDICE_SERIOUS_CRIME = "would_prejudice_serious_crime"
    HARMFUL_DELAY_IN_URGENT_CASE = "harmful_delay_in_urgent_case"
    """Asking would delay protection and the delay would cause harm, whatever the rating
    (the stored value keeps its first wording; the pages say "harmful delay")."""
    INAPPROPRIATE = "inappropriate"
    """Seeking consent would be inappropriate on the facts (the 2018 advice's word),
    explained in writing."""


RISK_NOT_SOUGHT = frozenset(
    {
        NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD,
        NotSoughtReason.RISK_OF_SERIOUS_HARM_TO_ADULT,
    }
)


class ProtectedRelation(StrEnum):
    """Who is protected, in relation to the person the information is about (never a name)."""

    SUBJECT = "subject"
    CHILD_OF_SUBJECT = "child_of_subject"
    SIBLING_OF_SUBJECT = "sibling_of_subject"
    PARENT_OR_CARER_OF_SUBJECT = "parent_or_carer_of_subject"
    PARTNER_OF_SUBJECT = "partner_of_subject"
    OTHER_CHILD_IN_HOUSEHOLD = "other_child_in_household"
    OTHER_PERSON = "other_person"


class AtRiskKind(StrEnum):
    """Whom the harm would fall on, as the guidance and DPA 2018 Sch. 1 para 18 distinguish."""

    CHILD = "child"
    """Under 18: a risk of significant harm."""
    ADULT_AT_RISK = "adult_at_risk"
    """18 or over, with care and support needs, experiencing or at risk of neglect or harm
    and unable to protect themselves."""
    ADULT = "adult"
    """Another adult at risk of serious harm (not within para 18)."""


class Para18Reason(StrEnum):
    """Why the data subject's consent is not had, in the words of DPA 2018 Sch. 1 para 18(2)."""

    CANNOT_BE_GIVEN = "cannot_be_given"
    CANNOT_REASONABLY_BE_OBTAINED = "cannot_reasonably_be_obtained"
    WOULD_PREJUDICE_PROTECTION = "would_prejudice_protection"


class Art6Basis(StrEnum):
    """UK GDPR Article 6(1) lawful bases."""

    CONSENT = "consent"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"
    RECOGNISED_LEGITIMATE_INTEREST = "recognised_legitimate_interest"
    """Article 6(1)(ea); its safeguarding condition needs no balancing test."""


class Art9Condition(StrEnum):
    """Conditions for special-category data (UK GDPR Article 9, DPA 2018 Schedule 1)."""

    EXPLICIT_CONSENT = "explicit_consent"
    VITAL_INTERESTS = "vital_interests"
    HEALTH_OR_SOCIAL_CARE = "health_or_social_care"
    STATUTORY_PURPOSES = "statutory_purposes"
    PREVENTING_OR_DETECTING_UNLAWFUL_ACTS = "preventing_or_detecting_unlawful_acts"
    SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK = "safeguarding_children_and_individuals_at_risk"
    """DPA 2018 Schedule 1 paragraph 18."""


class OffenceCondition(StrEnum):
    """Conditions for criminal offence data (offences, allegations, proceedings): UK GDPR
    Article 10 with a DPA 2018 Schedule 1 condition, or Part 3 (law enforcement) for a
    competent authority. Modelled as Article 9 is: required as well as an Article 6 basis."""

    LAW_ENFORCEMENT = "law_enforcement"
    """DPA 2018 Part 3: a competent authority processing for a law-enforcement purpose."""
    CONSENT = "consent"
    """Sch. 1 para 29."""
    VITAL_INTERESTS = "vital_interests"
    """Sch. 1 para 30 (the subject cannot give consent; life or death)."""
    STATUTORY_PURPOSES = "statutory_purposes"
    """Sch. 1 para 6, as extended by para 36."""
    PREVENTING_OR_DETECTING_UNLAWFUL_ACTS = "preventing_or_detecting_unlawful_acts"
    """Sch. 1 para 10, as extended by para 36."""
    SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK = "safeguarding_children_and_individuals_at_risk"
    """Sch. 1 para 18, as extended by para 36."""


COMPETENT_AUTHORITY_KINDS = frozenset(
    {AgencyKind.POLICE, AgencyKind.PROBATION, AgencyKind.YOUTH_OFFENDING}
)
"""Kinds of agency that are competent authorities for DPA 2018 Part 3 (its Schedule 7)."""


class WithoutConsentGround(StrEnum):
    """Why confidential information may be shared without consent (step 6 of the decision)."""

    STATUTORY_DUTY = "statutory_duty"
    COURT_ORDER = "court_order"
    SIGNIFICANT_HARM_TO_CHILD = "significant_harm_to_child"
    SERIOUS_HARM_TO_ADULT = "serious_harm_to_adult"
    VITAL_INTERESTS = "vital_interests"
    SAFEGUARDING_CONDITION = "safeguarding_condition"
    PUBLIC_INTEREST = "public_interest"


NAMED_INSTRUMENT_GROUNDS = frozenset(
    {WithoutConsentGround.STATUTORY_DUTY, WithoutConsentGround.COURT_ORDER}
)


class InstrumentKind(StrEnum):
    STATUTORY_DUTY = "statutory_duty"
    COURT_ORDER = "court_order"


class AdvisorCapacity(StrEnum):
    """In what capacity an advisor advised (the ICO form asks)."""

    MANAGER = "manager"
    CALDICOTT_GUARDIAN = "caldicott_guardian"
    DATA_PROTECTION_OFFICER = "data_protection_officer"


class ConsentGiver(StrEnum):
    """Who gave consent: the person, or for a child someone acting for them."""

    THE_PERSON = "the_person"
    PARENT_OR_CARER = "parent_or_carer"
    PARENTAL_RESPONSIBILITY = "someone_with_parental_responsibility"


class AdviceRecommendation(StrEnum):
    SHARE = "share"
    NOT_SHARE = "not_share"
    MORE_INFORMATION_NEEDED = "more_information_needed"


class NotShareReason(StrEnum):
    """Structured reasons for not sharing. The absence of an ISP is deliberately not one."""

    NO_LEGITIMATE_PURPOSE = "no_legitimate_purpose"
    NO_LAWFUL_BASIS = "no_lawful_basis"
    RESPECTING_REFUSAL = "respecting_refusal"
    NOT_NECESSARY_OR_PROPORTIONATE = "not_necessary_or_proportionate"
    INFORMATION_NOT_HELD = "information_not_held"
    OTHER = "other"


class FactOrOpinion(StrEnum):
    FACT = "fact"
    OPINION = "opinion"


class NotInformedReason(StrEnum):
    WOULD_PUT_SOMEONE_AT_RISK = "would_put_someone_at_risk"
    WOULD_PREJUDICE_INVESTIGATION = "would_prejudice_investigation"
    CANNOT_BE_CONTACTED = "cannot_be_contacted"


class DeadlineKind(StrEnum):
    DECISION = "decision"
    CONSENT = "consent"
    ADVICE = "advice"
    ACKNOWLEDGEMENT = "acknowledgement"


class EscalationLevel(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


class RecordType(StrEnum):
    """Kinds of record a retention policy covers."""

    SHARED_DECISION = "shared_decision"
    NOT_SHARED_DECISION = "not_shared_decision"
    WITHDRAWN_REQUEST = "withdrawn_request"
    PACKAGE = "package"
    ALLEGATION_AGAINST_STAFF = "allegation_against_staff"
    """The decision record of a request about an allegation against someone who works
    with children (whatever was decided): kept far longer than other records."""


class RetentionAnchor(StrEnum):
    """What a retention period counts from."""

    CASE_CLOSED = "case_closed"
    """The day the hub's request closed: every agency finished, or it was withdrawn."""
    SUBJECT_18TH_BIRTHDAY = "subject_18th_birthday"
    """The person's 18th birthday or the case closing, whichever is later: a record about
    an adult never falls due the day it closes."""
    DECISION_DATE = "decision_date"
    """The day the decision was recorded (for a package, the day it was sent)."""


class DisposalReason(StrEnum):
    RETENTION_PERIOD_ENDED = "retention_period_ended"
    NO_LONGER_NECESSARY = "no_longer_necessary"
    ERASURE_REQUEST_UPHELD = "erasure_request_upheld"
