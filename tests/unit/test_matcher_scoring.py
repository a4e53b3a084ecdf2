"""matcher.identity and matcher.scoring: names compared, candidates weighed, outcomes decided.

Each case is shaped like mail a sales team gets: aliases at one company, a
personal address, a namesake colleague, a family business, a shared team
mailbox, a job change and a reused address.
"""

from __future__ import annotations

import pytest

from matcher.identity import (
    blocking_keys,
    company_domains,
    fold,
    name_similarity,
    parse_name,
    search_keys,
)
from matcher.profile import PersonName, Profile
from matcher.scoring import Resolution, Thresholds, parse_rule, resolve_scored, rule_of, score

MOBILE = "+14155550123"
OTHER_MOBILE = "+14155550199"
OFFICE = "+13125550100"


def person(
    contact_id: int | None,
    name: str,
    *addresses: str,
    phones: tuple[tuple[str, str], ...] = (),
    titles: tuple[str, ...] = (),
    threads: tuple[str, ...] = (),
    former: tuple[str, ...] = (),
) -> Profile:
    return Profile(
        contact_id,
        parse_name(name),
        tuple((a, "current") for a in addresses) + tuple((a, "former") for a in former),
        phones,
        frozenset(fold(t) for t in titles),
        frozenset(threads),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Robert Smith", PersonName("robert", "smith")),
        ("Smith, Bob", PersonName("bob", "smith")),
        ("José García", PersonName("jose", "garcia")),
        ("Dr. Søren Kierkegaard", PersonName("soren", "kierkegaard")),
        ("J. Smith", PersonName("j", "smith")),
        ("John Miller Jr.", PersonName("john", "miller", "jr")),
        ("Anna van der Berg", PersonName("anna", "van der berg")),
        ("Müller", PersonName("", "muller")),
    ],
)
def test_names_are_parsed_folded_and_turned_round(text: str, expected: PersonName) -> None:
    assert parse_name(text) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Robert Smith", "Robert Smith", 1.0),
        ("José García", "Jose Garcia", 1.0),
        ("Bob Smith", "Robert Smith", 0.97),  # nickname
        ("Bill Jones", "William Jones", 0.97),
        ("Smith, Bob", "Robert Smith", 0.97),  # "Last, First"
        ("J. Smith", "John Smith", 0.93),  # initial
        ("Frank Rossi", "Marco Rossi", 0.55),  # father and son: given names differ
        ("John Miller", "John Miller Jr.", 0.7),  # one generation apart
        ("Jane Doe", "Jane Park", 0.5),
        ("Smith", "John Smith", 0.5),  # a surname alone
    ],
)
def test_name_similarity(a: str, b: str, expected: float) -> None:
    assert name_similarity(parse_name(a), parse_name(b)) == expected


def test_nicknames_and_initials_share_a_blocking_key() -> None:
    bob = person(None, "Bob Smith", "bob@acme.com")
    robert = person(1, "Robert Smith", "robert.smith@acme.com")
    initial = person(None, "R. Smith", "rs@acme.com")
    assert "n:smith:robert" in search_keys(bob) & blocking_keys(robert)
    assert search_keys(initial) & blocking_keys(robert) == {"n:smith:r"}
    assert "d:acme.com" in blocking_keys(robert)
    assert "d:acme.com" not in search_keys(robert)  # a domain weighs, it never finds


def test_alias_at_one_company_with_the_same_mobile_links() -> None:
    contact = person(7, "Bob Smith", "bob@acme.com", phones=(("mobile", MOBILE),))
    query = person(None, "Robert Smith", "robert.smith@acme.com", phones=(("mobile", MOBILE),))
    assert resolve_scored(query, [contact], Thresholds()) == Resolution(
        "link", 7, 0.98, "name 0.97 + same company domain + same mobile"
    )


def test_personal_address_in_the_same_thread_links() -> None:
    contact = person(3, "José García", "jgarcia@globex.com", threads=("t-1",))
    query = person(None, "Jose Garcia", "jose.garcia1987@gmail.com", threads=("t-1",))
    assert resolve_scored(query, [contact], Thresholds()) == Resolution(
        "link", 3, 0.85, "name 1.00 + same thread"
    )
    # A stricter configuration asks a person instead.
    assert resolve_scored(query, [contact], Thresholds(link=0.9)) == Resolution(
        "review", 3, 0.85, "name 1.00 + same thread"
    )


def test_a_name_alone_never_links_nor_asks() -> None:
    contact = person(4, "John Smith", "john.smith@gmail.com")
    query = person(None, "John Smith", "jsmith1990@gmail.com")
    assert resolve_scored(query, [contact], Thresholds(link=0.5, review=0.5)) == Resolution(
        "create", None, 0.6, "name 1.00"
    )


def test_two_john_smiths_at_one_company_are_not_merged() -> None:
    sales = person(
        10,
        "John Smith",
        "jsmith@acme.com",
        phones=(("mobile", MOBILE),),
        titles=("Account Executive",),
    )
    # The other John Smith, in engineering, signs with his own mobile.
    engineer = person(
        None,
        "John Smith",
        "john.smith@acme.com",
        phones=(("mobile", OTHER_MOBILE),),
        titles=("Senior Engineer",),
    )
    assert resolve_scored(engineer, [sales], Thresholds()) == Resolution(
        "create", None, 0.5, "name 1.00 + same company domain + different mobile + different title"
    )
    # With nothing but a name and a domain, a person decides.
    bare = person(None, "John Smith", "john.smith@acme.com")
    assert resolve_scored(bare, [sales], Thresholds()) == Resolution(
        "review", 10, 0.75, "name 1.00 + same company domain"
    )


def test_father_and_son_sharing_a_surname_and_a_phone_are_not_merged() -> None:
    father = person(20, "Frank Rossi", "frank@rossiplumbing.com", phones=(("office", OFFICE),))
    son = person(None, "Marco Rossi", "marco@rossiplumbing.com", phones=(("office", OFFICE),))
    assert resolve_scored(son, [father], Thresholds()) == Resolution(
        "create", None, 0.73, "name 0.55 + same company domain + same phone"
    )
    junior = person(None, "John Miller Jr.", "jm@millerandson.com", phones=(("office", OFFICE),))
    senior = person(21, "John Miller", "john@millerandson.com", phones=(("office", OFFICE),))
    assert resolve_scored(junior, [senior], Thresholds()).outcome == "create"


def test_a_shared_team_address_is_no_company_evidence() -> None:
    jane = person(30, "Jane Doe", "jane@acme.com")
    via_team = person(None, "Jane Doe", "team@acme.com")
    assert company_domains(via_team) == frozenset()
    assert resolve_scored(via_team, [jane], Thresholds()) == Resolution(
        "create", None, 0.6, "name 1.00"
    )
    free = person(None, "Jane Doe", "jane.doe@gmail.com")
    assert company_domains(free) == frozenset()


def test_a_job_change_links_and_names_the_domain_left() -> None:
    jane = person(40, "Jane Doe", "jane@acme.com", phones=(("mobile", MOBILE),), titles=("CFO",))
    moved = person(
        None, "Jane Doe", "jane.doe@globex.com", phones=(("mobile", MOBILE),), titles=("CFO",)
    )
    assert resolve_scored(moved, [jane], Thresholds()) == Resolution(
        "link", 40, 0.95, "name 1.00 + same mobile + same title", moved_from="acme.com"
    )


def test_a_former_employees_address_reused_by_a_new_hire_is_not_merged() -> None:
    jane = person(50, "Jane Doe", "jane.doe@globex.com", former=("jane@acme.com",))
    new_hire = person(None, "Jane Park", "jane@acme.com")
    assert resolve_scored(new_hire, [jane], Thresholds()).outcome == "create"
    # Old mail of Jane's own, read again in a backfill, still finds her.
    old_mail = person(None, "Jane Doe", "jane@acme.com")
    assert resolve_scored(old_mail, [jane], Thresholds()) == Resolution(
        "link", 50, 0.85, "name 1.00 + a former address of theirs"
    )


def test_two_candidates_equally_close_go_to_review() -> None:
    a = person(60, "Ann Lee", "ann@acme.com", phones=(("office", OFFICE),))
    b = person(61, "Ann Lee", "alee@acme.com", phones=(("office", OFFICE),))
    query = person(None, "Ann Lee", "ann.lee@acme.com", phones=(("office", OFFICE),))
    assert resolve_scored(query, [b, a], Thresholds()) == Resolution(
        "review", 60, 1.0, "name 1.00 + same company domain + same phone"
    )


def test_scored_rules_round_trip() -> None:
    link = Resolution("link", 40, 0.95, "name 1.00 + same mobile", moved_from="acme.com")
    assert rule_of(link) == "scored:0.95:name 1.00 + same mobile:moved-from=acme.com"
    parsed = parse_rule(rule_of(link))
    assert parsed is not None
    assert (parsed.outcome, parsed.score, parsed.reasons, parsed.moved_from) == (
        "link",
        0.95,
        "name 1.00 + same mobile",
        "acme.com",
    )
    review = parse_rule(rule_of(Resolution("review", 1, 0.75, "name 1.00 + same thread")))
    assert review is not None
    assert (review.outcome, review.reasons, review.moved_from) == (
        "review",
        "name 1.00 + same thread",
        None,
    )
    assert parse_rule("exact-email") is None
    assert parse_rule("policy:person:on_exchange") is None


def test_score_is_symmetric_for_duplicate_scans() -> None:
    a = person(1, "Bob Smith", "bob@acme.com", phones=(("mobile", MOBILE),))
    b = person(2, "Robert Smith", "rsmith@acme.com", phones=(("mobile", MOBILE),))
    assert score(a, b).score == score(b, a).score == 0.98
