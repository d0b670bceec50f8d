"""Counts and roles read as plain English in every page and command."""

from __future__ import annotations

from app.wording import count, role_words, with_article
from domain.vocabulary import Role


def test_counts_take_the_plural_only_when_not_one() -> None:
    assert count(1, "open task") == "1 open task"
    assert count(0, "open task") == "0 open tasks"
    assert count(3, "request") == "3 requests"
    assert count(2, "person", "people") == "2 people"


def test_roles_take_an_before_a_vowel() -> None:
    assert with_article(role_words(Role.AGENCY_WORKER)) == "an agency worker"
    assert with_article(role_words(Role.ADVISOR)) == "an advisor"
    assert with_article(role_words(Role.COORDINATOR)) == "a hub coordinator"
    assert with_article(role_words(Role.RECIPIENT)) == "a recipient"
    assert with_article(role_words("compliance_officer")) == "a compliance officer"
