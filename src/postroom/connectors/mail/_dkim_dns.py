"""The DKIM part of ``postroom connections test``: is the signing key's public half the one
published at ``SELECTOR._domainkey.DOMAIN``?

The TXT record is looked up with dnspython (which dkimpy depends on), through the system's
resolver or the one named by ``POSTROOM_DNS_SERVER`` (``HOST`` or ``HOST:PORT``, for a
split-horizon DNS). A record with another key fails the test (every signed email would
fail verification); no record, or no DNS at all, is reported with the record to publish
and never fails the test by itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from ._dkim import DkimSigner, txt_record

__all__ = ["DkimCheck", "DnsUnreachable", "check_published", "dns_lookup", "zone_line"]

#: A TXT lookup: the record's strings joined, one entry per record; [] when the name has none.
Lookup = Callable[[str], list[str]]


class DnsUnreachable(Exception):
    """No answer from DNS (no resolver, a timeout): the record could not be checked."""


@dataclass(frozen=True)
class DkimCheck:
    ok: bool  # False only when a different key is published
    fact: str  # the line connections test prints
    warning: str = ""  # what to publish, when it is not (yet) there or DNS could not say


def dns_lookup(name: str, timeout: float = 3.0) -> list[str]:
    """The TXT records at ``name`` (each one's strings joined), by dnspython (imported here:
    only a connection test with DKIM looks anything up)."""
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=not os.environ.get("POSTROOM_DNS_SERVER"))
    server = os.environ.get("POSTROOM_DNS_SERVER", "")
    if server:
        host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
        resolver.nameservers = [host]
        resolver.port = int(port) if port else 53
    resolver.lifetime = timeout
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.DNSException, OSError) as exc:
        raise DnsUnreachable(str(exc) or type(exc).__name__) from None
    return [b"".join(rdata.strings).decode("ascii", "replace") for rdata in answer]


def _tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags[name.strip()] = "".join(value.split())
    return tags


def check_published(signer: DkimSigner, lookup: Lookup = dns_lookup) -> DkimCheck:
    """Compare the signer's public key with the published one."""
    name, value = txt_record(signer.selector, signer.domain, signer.key)
    publish = f"publish a TXT record at {name}: {value}"
    try:
        records = [_tags(text) for text in lookup(name)]
    except DnsUnreachable as exc:
        return DkimCheck(True, f"not checked: DNS could not be reached ({exc})", publish)
    keys = [tags for tags in records if tags.get("v", "DKIM1") == "DKIM1" and "p" in tags]
    if not keys:
        return DkimCheck(True, f"no DKIM key published at {name} yet", publish)
    if any(tags["p"] == signer.key.public for tags in keys):
        return DkimCheck(True, f"the key matches the TXT record at {name} ({signer.key.algorithm})")
    return DkimCheck(False, f"the TXT record at {name} publishes another key: receivers will reject every "
                            f"signature; {publish} (or set the private key that matches it)")


def zone_line(name: str, value: str) -> str:
    """The record as a zone-file line, the value cut into strings of at most 255 characters."""
    strings = " ".join(f'"{value[i:i + 255]}"' for i in range(0, len(value), 255))
    return f"{name}. IN TXT ( {strings} )"
