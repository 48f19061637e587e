"""One redaction for every text that comes from a mail server or a library error.

A server may echo what it was sent: a refusal such as ``535 5.7.8 bad credentials: AUTH
PLAIN AGNsaW5pYwBzM2NyZXQ=`` carries base64 of the user name and password, and an error
may quote the command line. :func:`redact` removes each credential from such a text in
every form it can be echoed in:

* in clear (the password, the token, the user name);
* inside any base64 stream, wherever it starts: AUTH PLAIN sends ``\\0user\\0password``
  in one blob, AUTH LOGIN each value alone, XOAUTH2 ``user=...\\x01auth=Bearer token``.
  A value's bytes land at one of three offsets of a 3-byte base64 group, and at each the
  characters that depend only on the value are the same whatever surrounds it; those
  characters (the standard and URL-safe alphabets, from the UTF-8 bytes as sent) are
  replaced, so the blob cannot be decoded back to the value.

Values shorter than :data:`MIN_SECRET` characters are left alone (they would blank
ordinary words).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["redact", "MIN_SECRET"]

#: Shorter values are not looked for (a 1- or 2-letter value matches ordinary text).
MIN_SECRET = 3
#: A base64 core shorter than this is not replaced (too likely to occur by chance).
_MIN_CORE = 4
MASK = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` without any of ``secrets``, in clear or base64 (see the module's doc)."""
    if not text:
        return text
    for form in _forms(tuple(sorted({s for s in secrets if s and len(s) >= MIN_SECRET}))):
        if form in text:
            text = text.replace(form, MASK)
    return text


@lru_cache(maxsize=64)
def _forms(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """Every form of every secret, longest first (a longer form may contain a shorter one)."""
    forms: set[str] = set()
    for secret in secrets:
        forms.add(secret)
        raw = secret.encode("utf-8")
        forms.add(base64.b64encode(raw).decode("ascii"))
        forms.update(_cores(raw))
    return tuple(sorted(forms, key=len, reverse=True))


def _cores(raw: bytes) -> set[str]:
    """The base64 characters that depend on ``raw`` alone, for each of the three offsets."""
    cores: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        start = -(-8 * offset // 6)  # the first character with no bit of the filler
        end = 8 * (offset + len(raw)) // 6  # past the last character made of raw's bits only
        core = encoded[start:end]
        if len(core) >= _MIN_CORE:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores
