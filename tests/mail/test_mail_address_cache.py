"""The address checks' shortcuts give exactly email-validator's answers.

``_addresses._validate`` skips email-validator for a plain local part on a domain it already
accepted, and ``parse_addresses`` caches whole lists by text; neither may ever accept,
refuse or rewrite an address differently from a full check.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postroom.connectors.mail import _addresses
from postroom.connectors.mail.mime import AddressError, parse_addresses

DOMAINS = [
    "example.com", "Example.COM", "mail.example.org", "xn--bcher-kva.example", "bücher.example", "EXAMPLE.net",
    "a-b.example.com", "-bad.example.com", "bad-.example.com", "example", "localhost", "example.invalid",
    "ex..ample.com", "123.example.com", "example.123", "x" * 63 + ".com", "y" * 64 + ".com",
    ".".join(["d" * 60] * 4) + ".com", ".".join(["e" * 50] * 4) + ".com", "[127.0.0.1]", "", "exa mple.com",
]
LOCAL_ALPHABET = string.ascii_letters + string.digits + "._+-!#$%&'*/=?^`{|}~\"(),:;<>@[\\] é\u00a0"


def reference(address: str):
    """email-validator itself, no shortcut and no cache."""
    try:
        return _addresses._validate_fully.__wrapped__(address)
    except AddressError:
        return "invalid"


def shortcut(address: str):
    try:
        return _addresses._validate(address)
    except AddressError:
        return "invalid"


@pytest.fixture(autouse=True)
def known_domains():
    """Every domain of the list seen once, so the shortcut applies wherever it may."""
    saved = dict(_addresses._VALID_DOMAINS)
    for domain in DOMAINS:
        reference(f"warm@{domain}")
    yield
    _addresses._VALID_DOMAINS.clear()
    _addresses._VALID_DOMAINS.update(saved)


@settings(max_examples=600, deadline=None)
@given(
    local=st.one_of(
        st.text(LOCAL_ALPHABET, min_size=0, max_size=80),
        st.from_regex(r"[A-Za-z0-9_+-]{1,30}(\.[A-Za-z0-9_+-]{1,30}){0,3}", fullmatch=True),
        st.sampled_from(["Info", "POSTMASTER", "abuse", "www", "Sales", "a" * 64, "a" * 65, "a..b", ".a", "a."]),
    ),
    domain=st.sampled_from(DOMAINS),
)
def test_shortcut_answers_as_email_validator(local, domain):
    address = f"{local}@{domain}"
    assert shortcut(address) == reference(address)


@pytest.mark.fast
def test_the_shortcut_is_taken_for_the_bulk_case(monkeypatch):
    calls = []
    _addresses._validate_fully.cache_clear()
    real = _addresses.validate_email
    monkeypatch.setattr(_addresses, "validate_email", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert _addresses._validate("anna.fischer.1@example.com") == ("anna.fischer.1@example.com", False)
    assert _addresses._validate("bob+x@Example.COM") == ("bob+x@example.com", False)
    assert calls == []
    assert _addresses._validate("Info@example.com") == ("info@example.com", False)  # a role mailbox: the full check
    assert len(calls) == 1


@pytest.mark.fast
def test_length_limits_hold_on_the_shortcut():
    long_domain = ".".join(["e" * 50] * 4) + ".com"  # 207 characters, accepted
    assert shortcut(f"{'a' * 46}@{long_domain}") == reference(f"{'a' * 46}@{long_domain}") != "invalid"
    assert shortcut(f"{'a' * 47}@{long_domain}") == reference(f"{'a' * 47}@{long_domain}") == "invalid"


@pytest.mark.fast
def test_parse_addresses_cache_hands_out_fresh_lists():
    first = parse_addresses("Clinic <clinic@example.com>; b@example.org")
    first.append("changed by the caller")
    again = parse_addresses("Clinic <clinic@example.com>; b@example.org")
    assert [a.addr for a in again] == ["clinic@example.com", "b@example.org"]
    with pytest.raises(AddressError):
        parse_addresses("not-an-address")
    with pytest.raises(AddressError):  # a refusal is not cached as an answer
        parse_addresses("not-an-address")


@settings(max_examples=400, deadline=None)
@given(address=st.one_of(
    st.from_regex(r"[A-Za-z0-9_+-]{1,20}(\.[A-Za-z0-9_+-]{1,20}){0,2}@[A-Za-z0-9-]{1,20}(\.[A-Za-z0-9-]{1,20}){0,2}",
                  fullmatch=True),
    st.text(LOCAL_ALPHABET, max_size=30).map(lambda local: f"{local}@example.com"),
))
def test_envelope_addresses_are_quoted_as_smtplib_quotes_them(address):
    import smtplib

    from postroom.connectors.mail._smtp.wire import quoteaddr as _quoteaddr

    assert _quoteaddr(address) == smtplib.quoteaddr(address)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(
    st.text(LOCAL_ALPHABET + "\r\n\t\x85\u2028", max_size=40).map(lambda local: f"{local}@example.com"),
    st.text(LOCAL_ALPHABET + "\r\n\t", max_size=40),
))
@pytest.mark.fast
def test_one_bare_address_parses_as_the_list_parser_would(text):
    def outcome(parse):
        try:
            return parse(text)
        except AddressError as exc:
            return str(exc)

    assert outcome(parse_addresses) == outcome(lambda t: list(_addresses._parse_addresses.__wrapped__(t)))
