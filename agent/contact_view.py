"""``autocapture contacts show``: every field of a contact with where and when it was seen.

A value seen in forty messages would take forty lines; repeated sightings of
one value are grouped (first seen, last seen, how many times) and the
latest one is named: the interaction's subject (or id), account, date and
confidence.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from matcher.scoring import parse_rule

MAX_SUBJECT = 60


@dataclass(frozen=True, slots=True)
class Sightings:
    """Every observation of one (field, value), newest first."""

    latest: Any  # storage.queries.Observed
    first_seen: datetime
    times: int


def sightings(history: Any) -> dict[tuple[str, str], Sightings]:
    """Observations grouped by (field, value), in the order of ``history`` (newest first)."""
    grouped: dict[tuple[str, str], list[Any]] = {}
    for observed in history:
        grouped.setdefault((observed.field, observed.value), []).append(observed)
    return {
        key: Sightings(seen[0], min(o.observed_at for o in seen), len(seen))
        for key, seen in grouped.items()
    }


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "-"


def explain_rule(rule: str) -> str:
    """A participant's rule in words where it is a scored one; other rules as they are."""
    scored = parse_rule(rule)
    if scored is None:
        return rule
    if scored.outcome == "review":
        return f"sent to review, score {scored.score:.2f}: {scored.reasons}"
    text = f"scored link {scored.score:.2f}: {scored.reasons}"
    if scored.moved_from:
        text += f"; a job change from {scored.moved_from}"
    if scored.same_as:
        text += f"; the same person as {scored.same_as}, first seen in the same batch"
    return text


def address_origin(origin: str | None, created_rule: str) -> str:
    """Why an address is the contact's, in words (``contact_emails.origin``)."""
    if origin is None:  # kept before origins were recorded
        return f"exact: the contact was created from it or linked by it ({created_rule})"
    head = origin.partition(":")[0]
    if head == "scored":
        return explain_rule(origin)
    if origin.startswith("review:accepted:"):
        score, _, reasons = origin.removeprefix("review:accepted:").partition(":")
        return f"review accepted (score {score}: {reasons})"
    if head == "alias":
        return "alias: another spelling of a mailbox the contact holds (provider rules)"
    if head == "import":
        return f"import: a CRM card listed it ({origin})"
    return f"exact: the contact was created from it ({origin})"


def print_addresses(contact: Any, out: TextIO) -> None:
    """Each address with its status and why it belongs to the contact."""
    out.write("addresses (and why each is this contact's):\n")
    for a in contact.addresses:
        status = "" if a.status == "current" else f" [{a.status} since {_when(a.status_at)}"
        status += f", {a.status_reason}]" if status and a.status_reason else ("]" if status else "")
        out.write(f"  {a.email}{status}\n")
        out.write(f"    {address_origin(a.origin, contact.created_rule)}\n")


def print_employments(contact: Any, out: TextIO) -> None:
    jobs = getattr(contact, "employments", ())
    if not jobs:
        return
    out.write("employment (oldest first):\n")
    for job in jobs:
        title = f", {job.title}" if job.title else ""
        span = f"{_when(job.first_seen)} .. {_when(job.last_seen)}"
        ended = (
            f" (left: {job.ended_reason.partition(':moved-from=')[0]})" if job.ended_reason else ""
        )
        out.write(f"  {job.company or job.domain} ({job.domain}){title}: seen {span}{ended}\n")


def print_contact(contact: Any, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    out.write(f"contact {contact.id}\n")
    out.write(f"  emails    {', '.join(contact.emails)}\n")
    if contact.company_name:
        domains = ", ".join(contact.company_domains)
        out.write(
            f"  company   {contact.company_name}" + (f" ({domains})" if domains else "") + "\n"
        )
    out.write(f"  created   {_when(contact.created_at)} by rule {contact.created_rule}\n")
    print_addresses(contact, out)
    print_employments(contact, out)
    seen = sightings(contact.history)
    out.write("fields (current value, and where it comes from):\n")
    current = set()
    for f in contact.fields:
        out.write(f"  {f.field:<14} {f.value}\n")
        if f.observation is None:
            out.write(
                f"  {'':<14} set {f.owner} on {_when(f.since)}; "
                "automatic capture never overwrites it\n"
            )
            continue
        current.add((f.field, f.value))
        out.write(f"  {'':<14} {_provenance(seen[(f.field, f.value)], f.observation)}\n")
    others = [(key, s) for key, s in seen.items() if key not in current]
    if others:
        out.write("history (other values seen, newest first):\n")
        for (field, value), s in others:
            out.write(f"  {field:<14} {value}\n  {'':<14} {_provenance(s)}\n")


def _provenance(seen: Sightings, shown: Any = None) -> str:
    """Where and when: the observation the value comes from (else the latest
    sighting), then the span when there were several."""
    o = shown or seen.latest
    where = f'"{_short(o.subject)}"' if getattr(o, "subject", None) else "interaction"
    line = (
        f"seen {_when(o.observed_at)} in {where} (interaction {o.interaction_id}, {o.account}), "
        f"confidence {o.confidence:.2f}"
    )
    if seen.times > 1:
        line += f"; {seen.times} times since {_when(seen.first_seen)}"
    return line


def _short(subject: str) -> str:
    subject = " ".join(subject.split())
    return subject if len(subject) <= MAX_SUBJECT else subject[: MAX_SUBJECT - 1] + "…"
