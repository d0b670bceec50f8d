"""Where each of the domain's problem codes is shown, in what words.

A page form or a question flow refused by the domain (an
:class:`~domain.errors.InconsistentDecision`) shows each problem at the field its code is
about (:func:`api.forms.attempt`); a question flow then links the field to the question
page that asks it.
"""

from __future__ import annotations

from collections.abc import Mapping

from api.forms import Place

PLACES: Mapping[str, Place] = {
    # the decision (steps 9 and 10)
    "necessity_not_explained": Place(
        "necessity", "Explain why sharing is necessary and proportionate"
    ),
    "inform_not_decided": Place(
        "inform_will_inform", "Say whether the person will be told, and if not, why"
    ),
    "advisor_agreement_missing": Place(
        "urgent_override",
        "Sharing without consent needs an advisor's agreement, or the reason waiting for it "
        "would put someone at risk",
    ),
    "override_not_needed": Place(
        "urgent_override", "No advisor's agreement is outstanding, so there is nothing to override"
    ),
    "no_reasons": Place("not_share_reasons", "Select at least one reason for not sharing"),
    "reasons_contradict_outcome": Place(
        "not_share_reasons", "Reasons for not sharing are for a decision not to share"
    ),
    "reason_contradicts_assessment": Place(
        "not_share_reasons", "The purpose was assessed as legitimate, so that reason does not fit"
    ),
    "reason_contradicts_consent": Place(
        "not_share_reasons", "Consent was not recorded as refused, so that reason does not fit"
    ),
    "share_fields_on_not_share": Place(
        "outcome", "Why sharing is necessary, and any override, are for a decision to share"
    ),
    "duty_requires_sharing": Place("outcome"),
    "purpose_not_legitimate": Place("outcome"),
    "consent_unresolved": Place(
        "form", "Record whether consent was given, refused or not sought before deciding"
    ),
    "no_lawful_basis": Place("form", "Record the lawful basis before deciding to share"),
    "no_items": Place("items", "Select at least one item of information to share"),
    # the items (step 8)
    "duplicate_items": Place("items", "Each item may be selected only once"),
    "item_dated_in_future": Place("item-{item}-dated", "The date must be today or in the past"),
    "historical_not_flagged": Place(
        "item-{item}-historical",
        "It is older than the hub's threshold: tick that it is historical information",
    ),
    # the lawful basis (steps 5 and 6)
    "basis_not_applicable": Place("art6"),
    "vital_interests_not_life_or_death": Place("life_or_death"),
    "special_category_condition_missing": Place("art9"),
    "condition_not_applicable": Place("art9"),
    "offence_condition_missing": Place("offence_condition"),
    "offence_condition_not_applicable": Place("offence_condition"),
    "no_ground_without_consent": Place("without_consent"),
    "ground_not_applicable": Place("without_consent"),
    "public_interest_not_explained": Place("rationale"),
    "instrument_not_named": Place("instrument_citation"),
    "instrument_mismatch": Place("instrument_citation"),
    "para18_reason_missing": Place("para18_reason"),
    "para18_reason_contradicts_consent": Place("para18_reason"),
    "protected_person_does_not_fit": Place("protects_relation"),
    "protected_person_inconsistent": Place("protects_relation"),
    # advice (step 7)
    "agreement_contradicts_recommendation": Place(
        "agrees_to_share_without_consent",
        "You can agree to sharing without consent only when you recommend sharing",
    ),
}
"""Each of the domain's problem codes at the field it is about, in plain words (``None``:
the domain's own sentence, which names the basis or condition concerned)."""


_BODY_FIELDS: Mapping[str, str | None] = {
    "inform_will_inform": "inform",
    "instrument_citation": "instrument",
    "protects_relation": "protects",
    "form": None,  # an earlier step of the decision, not a field of this body
}


_EARLIER_STEP = frozenset({"no_items"})
"""Codes a decision's body is refused with for what an earlier step did not record (no
items selected), shown on the page at that step's field."""


def body_field(code: str) -> str | None:
    """The field of the API's task body a problem code is about (``not_share_reasons``,
    ``inform``, ``items``), or None where it is about an earlier step (no consent or
    lawful basis recorded yet)."""
    place = PLACES.get(code)
    if place is None or code in _EARLIER_STEP:
        return None
    if place.field.startswith("item-"):
        return "items"
    return _BODY_FIELDS.get(place.field, place.field)
