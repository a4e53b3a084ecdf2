"""What kind of party an address is: person, role account, automated, internal, room.

The class decides whether an address may ever become a contact (creation
policy per class), so the lists here are the project's one definition of
"role account" and "automated sender". Classification order matters: an
owner's own ``noreply@`` is still internal, and a room is a room whatever its
local part says.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connectors.records import Address, Message, normalize_email
from matcher.mailboxes import mailbox_key
from matcher.plan import LIST_ADDRESS, AccountPolicy, ParticipantClass
from matcher.remembered import remembered

# Local-part tokens of machine senders. Multi-word families ("no-reply",
# "do-not-reply", "mailer-daemon") are matched on joined neighbouring tokens,
# so every separator spelling is one entry.
AUTOMATED_LOCAL_TOKENS = frozenset(
    {
        "noreply",
        "noreplies",
        "donotreply",
        "dontreply",
        "notification",
        "notifications",
        "notify",
        "mailerdaemon",
        "postmaster",
        "bounce",
        "bounces",
        "autoreply",
        "autoresponder",
        "newsletter",
        "newsletters",
        "alerts",
        "automailer",
        "mailbot",
    }
)

# Shared mailboxes that belong to a function, not a person (RFC 2142 names
# plus what sales teams meet daily). Matched on the whole local part and on
# its first token ("sales.emea@", "info-de@").
ROLE_LOCAL_PARTS = frozenset(
    {
        "sales",
        "info",
        "support",
        "admin",
        "administrator",
        "billing",
        "accounts",
        "accounting",
        "invoice",
        "invoices",
        "contact",
        "contactus",
        "hello",
        "hi",
        "team",
        "office",
        "jobs",
        "careers",
        "recruiting",
        "hr",
        "marketing",
        "press",
        "media",
        "pr",
        "help",
        "helpdesk",
        "service",
        "services",
        "customerservice",
        "enquiries",
        "inquiries",
        "orders",
        "reception",
        "webmaster",
        "hostmaster",
        "abuse",
        "security",
        "legal",
        "privacy",
        "finance",
        "partners",
        "feedback",
        "events",
        "announce",
        "announcement",
        "announcements",
        "general",
        "mail",
        "it",
        "ops",
        "root",
    }
)

# Distribution lists name their whole audience, anywhere in the local part
# ("enron.everyone_ets_omaha@", "sales-allstaff@"): no person is called that.
AUDIENCE_TOKENS = frozenset({"everyone", "allstaff", "allemployees", "allhands", "allusers"})

_SEPARATORS = re.compile(r"[._\-+=]+")


@dataclass(frozen=True, slots=True)
class Classification:
    klass: ParticipantClass
    reason: str  # "owner", "org-domain", "local-part:noreply", "header:list-id", ...


# Every batch normalizes the account's domain lists again (``Perimeter.of``).
@functools.lru_cache(maxsize=4096)
def _idna_domain(domain: str) -> str:
    domain = domain.strip().strip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def domain_within(domain: str, domains: frozenset[str]) -> bool:
    """True when ``domain`` is one of ``domains`` or a subdomain of one."""
    # Each suffix after a dot, by slicing: no list of labels and no joins
    # (this runs for every participant against the org and blocked domains).
    if not domains:
        return False
    while domain not in domains:
        dot = domain.find(".")
        if dot == -1:
            return False
        domain = domain[dot + 1 :]
    return True


@dataclass(frozen=True, slots=True)
class Perimeter:
    """The account's own side (owners, org domains) and its blocklist, normalized once."""

    owners: frozenset[str]
    org_domains: frozenset[str]
    blocked_addresses: frozenset[str]
    blocked_domains: frozenset[str]
    subaddress_domains: frozenset[str] = frozenset()

    @classmethod
    def of(cls, policy: AccountPolicy) -> Perimeter:
        return cls(
            owners=frozenset(owner_mailbox(e) for e in _emails(policy.owner_addresses)),
            org_domains=frozenset(_idna_domain(d) for d in policy.org_domains if d.strip()),
            blocked_addresses=_emails(policy.blocklist.addresses),
            blocked_domains=frozenset(
                _idna_domain(d) for d in policy.blocklist.domains if d.strip()
            ),
            subaddress_domains=frozenset(
                _idna_domain(d) for d in policy.subaddress_domains if d.strip()
            ),
        )

    def mailbox(self, email: str) -> str:
        """The mailbox key contacts are matched by (``matcher.mailboxes``)."""
        return mailbox_key(email, self.subaddress_domains)

    def blocks(self, email: str) -> bool:
        domain = email.rpartition("@")[2]
        return email in self.blocked_addresses or domain_within(domain, self.blocked_domains)

    def internal_reason(self, email: str) -> str | None:
        if owner_mailbox(email) in self.owners:
            return "owner"
        if domain_within(email.rpartition("@")[2], self.org_domains):
            return "org-domain"
        return None


def owner_mailbox(email: str) -> str:
    """The mailbox an owner's address delivers to: any plus-tag dropped, provider rules.

    Broader than contact matching (``matcher.mailboxes``): an owner's own
    "+tag" alias is theirs whatever their server, and mistaking it for an
    outsider would turn the owner's mail inbound.
    """
    local, _, domain = email.rpartition("@")
    return mailbox_key(f"{local.split('+', 1)[0] or local}@{domain}")


def _emails(values: Iterable[str]) -> frozenset[str]:
    return frozenset(e for e in (normalize_email(v) for v in values) if e)


def _local_tokens(local: str) -> list[str]:
    local = local.split("+", 1)[0] or local  # plus-tags say nothing about the owner
    return [t for t in _SEPARATORS.split(local) if t]


def automated_local_part(local: str) -> str | None:
    """The automated family a local part belongs to ("noreply", "bounce", ...), if any."""
    tokens = [re.sub(r"\d+$", "", t) for t in _SEPARATORS.split(local.lower()) if t]
    for size in (1, 2, 3):
        for i in range(len(tokens) - size + 1):
            joined = "".join(tokens[i : i + size])
            if joined in AUTOMATED_LOCAL_TOKENS:
                return joined
    return None


def role_local_part(local: str) -> str | None:
    tokens = _local_tokens(local.lower())
    if not tokens:
        return None
    whole = "".join(tokens)
    if whole in ROLE_LOCAL_PARTS:
        return whole
    if tokens[0] in ROLE_LOCAL_PARTS:
        return tokens[0]
    return next((t for t in tokens if t in AUDIENCE_TOKENS), None)


def sender_signal(message: Message) -> str | None:
    """Why a message as a whole was sent by a machine or a list, if it was.

    Applies to the sender side only (from, sender, reply-to): the recipients
    of list mail are people, merely not the counterparty.
    """
    # The first value of each field, as ``Message.header`` gives it: one pass
    # over the headers instead of one per field asked for.
    first = dict(reversed(message.headers))
    # RFC 6522: a report (bounce, read receipt) is written by a mail system,
    # whatever address Exchange sends it from.
    if (first.get("content-type") or "").lstrip().lower().startswith("multipart/report"):
        return "header:content-type:report"
    for name in ("list-id", "list-unsubscribe"):
        if (first.get(name) or "").strip():
            return f"header:{name}"
    precedence = (first.get("precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"header:precedence:{precedence}"
    # RFC 3834 section 5: any value but "no" marks an automatic message.
    auto = (first.get("auto-submitted") or "").split(";", 1)[0].strip().lower()
    if auto and auto != "no":
        return f"header:auto-submitted:{auto}"
    # Older autoresponders mark their own replies with these instead. Not
    # X-Auto-Response-Suppress: Outlook puts it on mail people write, to ask
    # recipients not to auto-reply (MS-OXCMAIL 2.2.3.2.14); it says nothing
    # about who sent the message.
    for name in ("x-autoreply", "x-autorespond"):
        if (first.get(name) or "").strip():
            return f"header:{name}"
    # RFC 5321 section 4.5.5: a null reverse-path is a bounce or notification.
    return_path = first.get("return-path")
    if return_path is not None and return_path.strip().strip("<>").strip() == "":
        return "header:return-path:null"
    return None


# Where a list names its own address: RFC 2369 List-Post is the posting
# address itself; List-Help and List-Subscribe name the list's command
# address ("dev-request@", "dev+subscribe@"), whose list is the part before
# the command suffix or tag. List-Id (RFC 2919) is handled apart.
_LIST_MAILTO_HEADERS = frozenset({"list-post", "list-help", "list-subscribe"})
_MAILTO = re.compile(r"<\s*mailto:([^>?\s]{1,320})", re.I)
_LIST_ID = re.compile(r"<\s*([A-Za-z0-9][A-Za-z0-9_+\-]{0,63})\.([A-Za-z0-9.\-]{1,250})\s*>")
# Mailman, Sympa and majordomo command addresses: "<list>-request@" etc.
_COMMAND_SUFFIX = re.compile(
    r"-(?:request|owner|admin|bounces|join|leave|subscribe|unsubscribe|help|confirm)$"
)


def list_addresses(message: Message) -> dict[str, str]:
    """The addresses a mailing list names as its own, each with the header that named it.

    A list address in To/Cc is no person: it is where the list receives
    mail, so it is automated wherever it appears in the message.
    """
    found: dict[str, str] = {}
    # One pass over the headers: most mail has none of these fields.
    for name, raw in message.headers:
        if name in _LIST_MAILTO_HEADERS:
            for target in _MAILTO.findall(raw[:2000]):
                for email in _list_and_command(target):
                    found.setdefault(email, name)
        elif name == "list-id":
            # RFC 2919 recommends the list's address with its "@" made a dot
            # (Mailman "dev.lists.acme.com", Google Groups "sales.acme.com").
            ident = _LIST_ID.search(raw[:2000])
            email = normalize_email("@".join(ident.groups())) if ident else ""
            if email:
                found.setdefault(email, name)
    return found


def _list_and_command(target: str) -> list[str]:
    """A mailto: target and, for a command address, the list it commands."""
    email = normalize_email(target)
    if not email:
        return []
    local, _, domain = email.rpartition("@")
    base = _COMMAND_SUFFIX.sub("", local.split("+", 1)[0])
    return [email] if not base or base == local else [email, f"{base}@{domain}"]


def classify(
    address: Address,
    perimeter: Perimeter,
    *,
    signal: str | None = None,
    cutype: str | None = None,
    lists: Mapping[str, str] | None = None,
) -> Classification:
    """The class of one address; ``signal`` only for the sender side of a message."""
    kind = (cutype or "").upper()
    if is_room(address, cutype):
        reason = f"cutype:{kind.lower()}" if kind in _ROOM_TYPES else "domain:calendar-resource"
        return Classification("room", reason)
    if domain_within(address.domain, CALENDAR_DOMAINS):
        return Classification("automated", "domain:calendar")
    internal = perimeter.internal_reason(address.email)
    if internal:
        return Classification("internal", internal)
    family, role = _local_families(address.local)
    if family:
        return Classification("automated", f"local-part:{family}")
    if lists and address.email in lists:
        return Classification("automated", f"{LIST_ADDRESS}{lists[address.email]}")
    if signal:
        return Classification("automated", signal)
    machine = _machine_sign(address)
    if machine:
        return Classification("automated", machine)
    if kind == "GROUP":
        # RFC 5545 CUTYPE=GROUP: a distribution list invited as one attendee.
        return Classification("role", "cutype:group")
    if role:
        return Classification("role", f"local-part:{role}")
    return Classification("person", "person")


# Signs that a machine owns an address whatever its local part says:
# - a reply or bounce host ("reply+AAB3...@reply.github.com",
#   "author@noreply.github.com"): the leftmost label of a host under a
#   registrable domain. Hosts under a two-letter-ish second level ("co.uk",
#   "com.au") are left alone, where that label may be a company's name;
# - a generated local part: a long hex run or a UUID (Amazon SES, ticket and
#   reply tokens), which no person chooses;
# - a relay's display name, "Jane Doe via DocuSign": the address is the
#   service's (dse_NA3@docusign.net), only the name is the person's.
_MACHINE_HOSTS = frozenset(
    {"noreply", "no-reply", "reply", "replies", "bounce", "bounces", "mailer"}
)
_GENERATED_LOCAL = re.compile(
    r"[0-9a-f]{16,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
_RELAYED = re.compile(r"\s\(?via\s+\S")


def _machine_sign(address: Address) -> str | None:
    labels = address.domain.split(".")
    if len(labels) >= 3 and labels[0] in _MACHINE_HOSTS and len(labels[-2]) > 3:
        return f"domain:{labels[0]}"
    if _GENERATED_LOCAL.search(address.local.lower()):
        return "local-part:generated"
    if address.name and _RELAYED.search(address.name):
        return "display:relayed"
    return None


# Google Calendar's own addresses: a shared or team calendar organizing its
# events (c_...@group.calendar.google.com), a holiday or other public calendar
# (...@group.v.calendar.google.com), a room or other resource
# (...@resource.calendar.google.com) and the stand-in organizer of an
# imported event (unknownorganizer@calendar.google.com). No person reads them.
CALENDAR_DOMAINS = frozenset({"calendar.google.com"})
_RESOURCE_DOMAINS = frozenset({"resource.calendar.google.com"})
_ROOM_TYPES = ("ROOM", "RESOURCE")


def is_room(address: Address, cutype: str | None) -> bool:
    """A room or other resource: by its CUTYPE (RFC 5545 3.2.3), or by Google's
    resource addresses, which some exports list without one."""
    return (cutype or "").upper() in _ROOM_TYPES or domain_within(address.domain, _RESOURCE_DOMAINS)


# The same senders recur in every batch and the token scan costs more than a
# dict hit; past RFC 5321's 64 characters nothing is remembered.
@remembered(maxsize=4096, chars=64)
def _local_families(local: str) -> tuple[str | None, str | None]:
    """The automated and role families of a local part (both pure functions of it)."""
    return automated_local_part(local), role_local_part(local)


def automated_family(local: str) -> str | None:
    """``automated_local_part``, remembered as ``classify`` remembers it (every
    message's sender is asked whether it is a mail system)."""
    return _local_families(local)[0]
