"""The lawful-basis catalogue: vital interests, consent's place, criminal offence data."""

from __future__ import annotations

import pytest

from domain.models import (
    AgencyKind,
    Art6Basis,
    ConsentOutcome,
    LawfulBasis,
    PurposeCategory,
    Rating,
    WithoutConsentGround,
)
from domain.rules import applicable_bases, lawful_basis_problems
from domain.vocabulary import OffenceCondition
from tests.domain.make import codes, consent, facts


def test_vital_interests_is_accepted_only_where_a_life_is_at_stake() -> None:
    f = facts(rating=Rating.RED, consent=consent(ConsentOutcome.REFUSED))
    basis = LawfulBasis(
        art6=Art6Basis.VITAL_INTERESTS, without_consent=WithoutConsentGround.VITAL_INTERESTS
    )
    assert codes(lawful_basis_problems(basis, f)) == {"vital_interests_not_life_or_death"}
    asked = basis.model_copy(update={"life_or_death": True})
    assert lawful_basis_problems(asked, f) == []


def test_consent_is_offered_last_among_the_article_6_bases() -> None:
    offered = applicable_bases(facts(consent=consent())).art6
    assert offered[-1] is Art6Basis.CONSENT and len(offered) > 1


def test_criminal_offence_data_needs_its_own_condition() -> None:
    f = facts(criminal_offence_data=True, consent=consent())
    basis = LawfulBasis(art6=Art6Basis.PUBLIC_TASK)
    assert codes(lawful_basis_problems(basis, f)) == {"offence_condition_missing"}
    with_condition = basis.model_copy(
        update={"offence_condition": OffenceCondition.STATUTORY_PURPOSES}
    )
    assert lawful_basis_problems(with_condition, f) == []


@pytest.mark.parametrize(
    ("holder", "purpose", "part3"),
    [
        (AgencyKind.POLICE, PurposeCategory.CRIME_PREVENTION_DETECTION, True),
        (AgencyKind.PROBATION, PurposeCategory.PUBLIC_PROTECTION, True),
        (AgencyKind.YOUTH_OFFENDING, PurposeCategory.CRIME_PREVENTION_DETECTION, True),
        (AgencyKind.POLICE, PurposeCategory.SAFEGUARDING_WELFARE, False),
        (AgencyKind.EDUCATION, PurposeCategory.CRIME_PREVENTION_DETECTION, False),
        (AgencyKind.VOLUNTARY_SECTOR, PurposeCategory.PUBLIC_PROTECTION, False),
    ],
)
def test_part_3_law_enforcement_is_for_competent_authorities_for_law_enforcement(
    holder: AgencyKind, purpose: PurposeCategory, part3: bool
) -> None:
    f = facts(
        holder_kind=holder,
        purpose_category=purpose,
        criminal_offence_data=True,
        consent=consent(),
    )
    assert (OffenceCondition.LAW_ENFORCEMENT in applicable_bases(f).offence) is part3


def test_the_condition_for_criminal_offence_data_is_offered_only_for_it() -> None:
    assert applicable_bases(facts(consent=consent())).offence == []
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK, offence_condition=OffenceCondition.STATUTORY_PURPOSES
    )
    assert codes(lawful_basis_problems(basis, facts(consent=consent()))) == {
        "offence_condition_not_applicable"
    }
