"""Email domains: is an address plausibly a work address at a given organisation?

Used to check the line manager's address an applicant gives (see
``opportunities.applications.check_manager_email``), and for an organisation's own
list of email domains, which its admins may make a requirement.

The rules, decided here and used everywhere:

- Domains are compared in lower case, as ASCII (internationalised names in their
  ``xn--`` form), without a trailing dot.
- An address is *on* a domain when its domain is that domain or a subdomain of it:
  ``mo@adults.northbridge.gov.uk`` is on ``northbridge.gov.uk``, and ``x.nhs.net`` is
  on ``nhs.net``. A parent or a sibling is not: ``northbridge.gov.uk`` is not on
  ``adults.northbridge.gov.uk``. Without the public suffix list we cannot tell a
  council's ``northbridge.gov.uk`` from ``gov.uk`` itself, so we never walk upwards.
- An organisation's domains are the ones its admins record and its website's host
  (``https://www.northbridge.gov.uk/about`` gives ``northbridge.gov.uk``: a leading
  ``www.`` is dropped).
- Personal webmail domains (gmail.com, outlook.com, ...) are nobody's work domain:
  an address there is always worth a warning, and they cannot be recorded. Nor can
  public suffixes such as ``gov.uk`` or ``org.uk``, which would match everyone.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_DOMAINS = 10

# Anyone can get an address on these, so an address there says nothing about where
# its owner works. Not exhaustive: the common UK providers.
PERSONAL_DOMAINS = frozenset({
    "aol.co.uk", "aol.com", "btinternet.com", "btopenworld.com", "fastmail.com",
    "gmail.com", "gmx.co.uk", "gmx.com", "googlemail.com", "hey.com", "hotmail.co.uk",
    "hotmail.com", "icloud.com", "live.co.uk", "live.com", "mac.com", "mail.com", "me.com",
    "msn.com", "ntlworld.com", "outlook.com", "pm.me", "proton.me", "protonmail.com",
    "sky.com", "talktalk.net", "tiscali.co.uk", "tutanota.com", "virginmedia.com",
    "yahoo.co.uk", "yahoo.com", "ymail.com", "zoho.com",
})

# Suffixes under which unrelated bodies register their own names. Single labels
# ("uk", "com") are refused anyway, as every domain needs a dot.
PUBLIC_SUFFIXES = frozenset({
    "ac.uk", "co.uk", "gov.uk", "ltd.uk", "me.uk", "mod.uk", "net.uk", "nhs.uk", "nic.uk",
    "org.uk", "plc.uk", "police.uk", "sch.uk", "gov.scot", "gov.wales", "llyw.cymru",
})

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SEPARATORS = re.compile(r"[\s,;]+")


class DomainError(ValueError):
    """A domain someone typed that we cannot use; the message says why, in plain English."""


def _ascii(domain: str) -> str | None:
    """Lower case, no trailing dot, internationalised labels as xn--; None if not valid."""
    domain = domain.strip().lower().rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        return None
    if labels[-1].isdigit():  # an IP address, not a domain
        return None
    return domain


def normalise_domain(text: str) -> str:
    """One domain as typed ("@Northbridge.gov.uk") -> "northbridge.gov.uk", or DomainError."""
    entry = text.strip()
    if "://" in entry or "/" in entry:
        raise DomainError(f"Enter email domains, not web addresses: for example, "
                          f"{website_domain(entry) or 'northbridge.gov.uk'} rather than "
                          f"{entry}")
    bare = entry.removeprefix("@")
    if "@" in bare:
        raise DomainError(f"Enter the domain only: for example, "
                          f"{bare.rpartition('@')[2]} rather than {entry}")
    domain = _ascii(bare)
    if domain is None:
        raise DomainError(f'"{entry}" is not an email domain. Enter domains like '
                          "northbridge.gov.uk")
    if domain in PERSONAL_DOMAINS:
        raise DomainError(f"{domain} is a personal email service that anyone can use, so "
                          "it cannot be one of your organisation's domains")
    if domain in PUBLIC_SUFFIXES:
        raise DomainError(f"{domain} is shared by many organisations. Enter your own "
                          f"domain, like northbridge.{domain}")
    return domain


def parse_domains(text: str) -> list[str]:
    """Domains separated by commas, spaces or new lines, normalised and without repeats."""
    domains: list[str] = []
    for entry in _SEPARATORS.split(text or ""):
        if entry:
            domain = normalise_domain(entry)
            if domain not in domains:
                domains.append(domain)
    if len(domains) > MAX_DOMAINS:
        raise DomainError(f"Enter {MAX_DOMAINS} domains or fewer")
    return domains


def email_domain(email: str) -> str | None:
    """The domain of an email address, normalised; None if it has none we can read."""
    _local, at, domain = (email or "").strip().rpartition("@")
    return _ascii(domain) if at else None


def website_domain(url: str | None) -> str | None:
    """The domain of a website address, without a leading "www."; None if there is none."""
    if not url:
        return None
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    domain = _ascii(host)
    if domain is None:
        return None
    if domain.startswith("www.") and domain.count(".") >= 2:
        domain = domain[4:]
    return domain


def is_on(domain: str | None, allowed: str) -> bool:
    """``domain`` is ``allowed`` or one of its subdomains."""
    return bool(domain) and (domain == allowed or str(domain).endswith("." + allowed))


def is_on_any(domain: str | None, allowed: list[str]) -> bool:
    return any(is_on(domain, a) for a in allowed)


def is_personal(domain: str | None) -> bool:
    """A webmail provider's domain (or a subdomain of one)."""
    return is_on_any(domain, sorted(PERSONAL_DOMAINS))


def usable_as_work_domain(domain: str | None) -> bool:
    return bool(domain) and not is_personal(domain) and domain not in PUBLIC_SUFFIXES


def describe(domains: list[str]) -> str:
    """"a.org", "a.org or b.org", "a.org, b.org or c.org"."""
    if len(domains) <= 1:
        return "".join(domains)
    return ", ".join(domains[:-1]) + " or " + domains[-1]
