"""Which mailbox an address delivers to, by the rules its provider documents.

Two written addresses are one person's when their provider delivers both
to one mailbox. That is a provider's rule, not a property of mail: RFC 5321
section 2.4 leaves the local part to the receiving server, and most servers
treat "ann.lee" and "annlee" as two people. So a rule is applied only where
the provider documents it, and never to a domain whose rules are unknown:

- Gmail ignores dots in the local part and everything after "+", and
  googlemail.com is gmail.com (Google, "Dots don't matter in Gmail
  addresses"; googlemail.com is the old UK/German name of the same
  service). Google Workspace domains keep dots significant (there,
  "j.smith" and "jsmith" may be two users), so they are not dotless.
- Outlook.com (with hotmail.com, live.com and msn.com), iCloud Mail
  (icloud.com, me.com, mac.com) and Fastmail deliver "name+tag" to "name".
- Any other domain strips "+tag" only when the organisation says its server
  does (``subaddress_domains``): its own domains, or ones it lists, such as
  a customer on Google Workspace.

The key is what matching compares; the address as written is kept for
people and CRMs (``contact_emails.email``).
"""

from __future__ import annotations

from matcher.remembered import remembered

SUBADDRESS_SEPARATOR = "+"  # the one every provider below documents

# Domains that are another name for one mail service.
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
# Services whose local parts ignore dots ("a.nn" is "ann").
DOTLESS_DOMAINS = frozenset({"gmail.com"})
# Services that deliver "name+tag" to "name".
PLUS_DOMAINS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
    }
)


@remembered(maxsize=8192, chars=320)  # the same few thousand correspondents recur in every batch
def mailbox_key(email: str, subaddress_domains: frozenset[str] = frozenset()) -> str:
    """The mailbox a normalized address delivers to, for matching.

    ``subaddress_domains``: further domains whose server strips "+tag" (the
    organisation's own, or ones it lists); their subdomains are not implied.
    An address the rules do not touch is its own key.
    """
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return email
    domain = DOMAIN_ALIASES.get(domain, domain)
    if domain in PLUS_DOMAINS or domain in subaddress_domains:
        # "+tag" alone is a whole local part, not a sub-address of nothing.
        local = local.split(SUBADDRESS_SEPARATOR, 1)[0] or local
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "") or local
    return f"{local}@{domain}"
