"""Delivery status notification requests (RFC 3461): what MAIL FROM and RCPT TO carry.

``MAIL FROM:<a> RET=HDRS ENVID=<id>`` asks that a bounce return only the headers and name
the envelope; ``RCPT TO:<b> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b`` asks for a notice when
delivery to ``b`` fails or is delayed and names the recipient as given. Sent only when the
server's EHLO offers DSN: to any other server the parameters would be a syntax error, so
the email goes without them (the pool logs a note once).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENVID_LIMIT", "NOTIFY_VALUES", "DsnRequest", "xtext"]

#: RFC 3461 section 4.4: an ENVID is at most 100 characters (after xtext encoding).
ENVID_LIMIT = 100
NOTIFY_VALUES = ("success", "failure", "delay", "never")


def xtext(value: str) -> str:
    """RFC 3461 section 4: ``+`` and ``=`` and anything outside ``!`` to ``~`` as ``+HH``."""
    return "".join(ch if "!" <= ch <= "~" and ch not in "+=" else "".join(f"+{b:02X}" for b in ch.encode())
                   for ch in value)


@dataclass(frozen=True)
class DsnRequest:
    """One email's DSN request: ``notify`` (lower case, ``("never",)`` alone or some of
    success, failure, delay), ``ret`` (``hdrs``, ``full`` or "": the server's choice) and
    ``envid`` (the email's Message-ID, by which a bounce names it)."""

    notify: tuple[str, ...]
    ret: str = ""
    envid: str = ""

    def mail_options(self) -> list[str]:
        options = [f"RET={self.ret.upper()}"] if self.ret else []
        envid = xtext(self.envid)
        if envid and len(envid) <= ENVID_LIMIT:
            options.append(f"ENVID={envid}")
        return options

    def rcpt_options(self, recipient: str) -> list[str]:
        options = [f"NOTIFY={','.join(n.upper() for n in self.notify)}"] if self.notify else []
        if recipient.isascii():  # an internationalised address would need utf-8 (RFC 6533)
            options.append(f"ORCPT=rfc822;{xtext(recipient)}")
        return options
