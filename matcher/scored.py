"""The scored path of resolution: addresses no contact owns, weighed against likely contacts.

Runs after ``matcher.resolve`` has decided every participant by exact
mailbox and read the signatures, and only for the misses: people (never
role, automated or internal addresses) whose decision is a creation or a
creation the policy may still make. A batch whose every address resolved
exactly costs nothing here: no profile is built and the directory is not
asked. Otherwise one ``Directory.candidates`` call serves the whole batch,
found by blocking keys (``matcher.identity.search_keys``) and by the
mailboxes themselves (an address a contact used to have).

Two first sightings in one batch are weighed against each other too
(``same_people``): a link between them makes one new contact of both.

A candidate present on the same message as the address is not that
address's person: two addresses on one message are two people far more
often than someone copying themselves (two John Smiths cc'd together).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from matcher.enrich import pending
from matcher.identity import fold, parse_name, search_keys
from matcher.plan import AccountPolicy, Directory, InteractionPlan, Observation, ParticipantPlan
from matcher.profile import Profile
from matcher.scoring import Resolution, resolve_scored, rule_of

_HEADER_ROLES = frozenset(
    {"from", "sender", "reply-to", "to", "cc", "bcc", "organizer", "attendee"}
)
MIN_PHONE_CONFIDENCE = 0.8  # a number phonenumbers found valid (``signature_fields``)


def is_miss(p: ParticipantPlan) -> bool:
    """A person in the headers whom no contact owns, and whom capture would create."""
    if p.klass != "person" or p.contact_id is not None or p.role not in _HEADER_ROLES:
        return False
    return p.decision == "create" or (p.decision == "skip" and pending(p.rule))


def score_misses(
    interactions: Sequence[InteractionPlan], directory: Directory, policy: AccountPolicy
) -> tuple[InteractionPlan, ...]:
    """``interactions`` with each miss linked, sent to review, or left to be created."""
    misses = {p.key for ip in interactions for p in ip.participants if is_miss(p)}
    if not misses:
        return tuple(interactions)
    queries = _queries(interactions, misses)
    keys = {k for q in queries.values() for k in search_keys(q)}
    threads = {t for q in queries.values() for t in q.threads}
    found = directory.candidates(sorted(keys), sorted(misses), sorted(threads))
    beside = _beside(interactions, misses)
    index = _index(found)
    decided: dict[str, Resolution] = {}
    for key, query in sorted(queries.items()):
        near = {n for k in (*search_keys(query), f"m:{key}") for n in index.get(k, ())}
        candidates = [
            c
            for c in (found[n] for n in sorted(near))
            if c.contact_id not in beside[key]
            and key not in c.rejected  # a person said no: never proposed again
        ]
        if candidates:
            decided[key] = resolve_scored(query, candidates, policy.identity)
    joined = same_people(interactions, queries, decided, policy)
    if not joined and not any(r.outcome != "create" for r in decided.values()):
        return tuple(interactions)
    rules = {k: rule_of(r) for k, r in decided.items() if r.outcome != "create"}
    rules.update({k: rule_of(r, same_as=first) for k, (first, r) in joined.items()})
    return tuple(_decided(ip, decided, rules) for ip in interactions)


def _index(found: Sequence[Profile]) -> dict[str, list[int]]:
    """Positions in ``found`` by search key, and by "m:" + each mailbox they hold."""
    index: dict[str, list[int]] = {}
    for n, c in enumerate(found):
        for k in (*search_keys(c), *(f"m:{m}" for m in c.mailboxes())):
            index.setdefault(k, []).append(n)
    return index


def same_people(
    interactions: Sequence[InteractionPlan],
    queries: Mapping[str, Profile],
    decided: Mapping[str, Resolution],
    policy: AccountPolicy,
) -> dict[str, tuple[str, Resolution]]:
    """Misses that are a person the same batch creates from another address: key ->
    (the first address's key, the link's resolution).

    A backfill reads a person's two addresses in one batch as often as in two;
    they are scored against each other as against stored contacts, in the
    order they first appear, and a link makes them one new contact.
    """
    creators = {p.key for ip in interactions for p in ip.participants if p.decision == "create"}
    together = _together(interactions, set(queries))
    first_seen: list[str] = []
    for ip in sorted(interactions, key=lambda i: (i.occurred_at, i.identity)):
        first_seen.extend(p.key for p in ip.participants if p.key in queries)
    order = list(dict.fromkeys(first_seen))
    pool: dict[str, list[int]] = {}  # search key -> positions in ``targets``
    targets: list[str] = []
    joined: dict[str, tuple[str, Resolution]] = {}
    for key in order:
        if key in decided and decided[key].outcome != "create":
            continue
        query = queries[key]
        near = {i for k in search_keys(query) for i in pool.get(k, ())}
        near = {i for i in near if targets[i] not in together[key]}
        if near:
            candidates = [replace(queries[targets[i]], contact_id=i + 1) for i in sorted(near)]
            result = resolve_scored(query, candidates, policy.identity)
            if result.outcome == "link" and result.contact_id is not None:
                joined[key] = (targets[result.contact_id - 1], replace(result, moved_from=None))
                continue
        if key in creators:
            for k in search_keys(query):
                pool.setdefault(k, []).append(len(targets))
            targets.append(key)
    return joined


def _together(interactions: Sequence[InteractionPlan], keys: set[str]) -> dict[str, set[str]]:
    """For each of ``keys``, the others of ``keys`` on one message with it."""
    together: dict[str, set[str]] = {k: set() for k in keys}
    for ip in interactions:
        present = {p.key for p in ip.participants if p.key in keys}
        for k in present:
            together[k] |= present - {k}
    return together


def _queries(interactions: Sequence[InteractionPlan], misses: set[str]) -> dict[str, Profile]:
    """One profile per missed mailbox, from every observation the batch gave it."""
    seen: dict[str, list[Observation]] = {}
    threads: dict[str, set[str]] = {}
    for ip in interactions:
        for p in ip.participants:
            if p.key in misses:
                seen.setdefault(p.key, []).extend(p.observations)
                if ip.thread_key:
                    threads.setdefault(p.key, set()).add(ip.thread_key)
    return {
        key: _profile(key, observations, frozenset(threads.get(key, ())))
        for key, observations in seen.items()
    }


def _profile(key: str, observations: Iterable[Observation], threads: frozenset[str]) -> Profile:
    best: dict[str, Observation] = {}
    phones: set[tuple[str, str]] = set()
    titles: set[str] = set()
    for ob in observations:
        if ob.field.startswith("phone"):
            label = ob.field.partition(":")[2]
            if ob.confidence >= MIN_PHONE_CONFIDENCE and label != "fax":
                phones.add((label, ob.value))
        elif ob.field == "title":
            titles.add(fold(ob.value))
        elif ob.field not in best or ob.confidence > best[ob.field].confidence:
            best[ob.field] = ob
    name = parse_name(
        *(best[f].value if f in best else None for f in ("name", "given_name", "family_name"))
    )
    return Profile(
        None, name, ((key, "current"),), tuple(sorted(phones)), frozenset(titles), threads
    )


def _beside(interactions: Sequence[InteractionPlan], misses: set[str]) -> dict[str, set[int]]:
    """The contacts on the same messages as each missed mailbox."""
    beside: dict[str, set[int]] = {key: set() for key in misses}
    for ip in interactions:
        present = {p.contact_id for p in ip.participants if p.contact_id is not None}
        for p in ip.participants:
            if p.key in misses:
                beside[p.key] |= present
    return beside


def _decided(
    ip: InteractionPlan, decided: Mapping[str, Resolution], rules: Mapping[str, str]
) -> InteractionPlan:
    if not any(p.key in rules and is_miss(p) for p in ip.participants):
        return ip
    return replace(ip, participants=tuple(_apply(p, decided, rules) for p in ip.participants))


def _apply(
    p: ParticipantPlan, decided: Mapping[str, Resolution], rules: Mapping[str, str]
) -> ParticipantPlan:
    rule = rules.get(p.key)
    if rule is None or not is_miss(p):
        return p
    result = decided.get(p.key)
    if result is None or result.outcome == "create":
        # The same person as a first sighting of this batch: one new contact for both.
        return replace(p, decision="create", rule=rule)
    if result.outcome == "link":
        return replace(p, decision="link", contact_id=result.contact_id, rule=rule)
    # A review keeps the address unowned; storage holds it and its fields for a person.
    return replace(p, decision="skip", contact_id=result.contact_id, rule=rule)
