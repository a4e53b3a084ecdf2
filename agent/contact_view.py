"""``autocapture contacts show``: every field of a contact with where and when it was seen."""

from __future__ import annotations

import sys
from typing import Any, TextIO


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "-"


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
    out.write("fields (current value, and where it comes from):\n")
    for f in contact.fields:
        out.write(f"  {f.field:<14} {f.value}\n")
        out.write(f"  {'':<14} {_provenance(f)}\n")
    superseded = [o for o in contact.history if not _is_current(contact, o)]
    if superseded:
        out.write("history (other values seen, newest first):\n")
        for o in superseded:
            out.write(
                f"  {o.field:<14} {o.value}  seen {_when(o.observed_at)} in interaction "
                f"{o.interaction_id} ({o.account}), confidence {o.confidence:.2f}\n"
            )


def _provenance(field: Any) -> str:
    if field.observation is None:
        return f"set {field.owner} on {_when(field.since)}; automatic capture never overwrites it"
    o = field.observation
    return (
        f"seen {_when(o.observed_at)} in interaction {o.interaction_id} ({o.account}), "
        f"confidence {o.confidence:.2f}"
    )


def _is_current(contact: Any, observed: Any) -> bool:
    return any(
        f.observation is not None and f.field == observed.field and f.value == observed.value
        for f in contact.fields
    )
