#!/usr/bin/env python3
"""DKIM signing speed: Postroom's signer against dkimpy's ``dkim.sign``, in the same run.

    .venv/bin/python bench/dkim_sign.py [COUNT]      # 500 letters per way

The letters are the clinic's (``tests/support/mimekit.py``: a different patient in To, a
short personal letter), built by :class:`MessageTemplate` as a send builds them. Each way
signs every letter with the same 2048-bit RSA key, the same headers and relaxed/relaxed:

dkimpy       ``dkim.sign`` (RSA in Python integers), as Postroom signed until issue 13;
postroom     :class:`DkimSigner` (dkimpy's canonicalisation and header hash, the RSA step in
             ``cryptography``);
ed25519      :class:`DkimSigner` with an Ed25519 key (dkimpy and PyNaCl), for scale.

Every signature of each way is checked by dkimpy's verifier after the timing. Prints
milliseconds per letter and letters per second; target: postroom at least 3x dkimpy on
RSA; exit 1 when it is not or when a signature does not verify.
"""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import dkim  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa  # noqa: E402

from postroom.connectors.mail._dkim import SIGNED_HEADERS, DkimSigner, load_key, txt_record  # noqa: E402
from postroom.connectors.mail.mime import MessageTemplate, parse_content_type  # noqa: E402
from support.mimekit import clinic_letters  # noqa: E402

TARGET = 3.0
DOMAIN, SELECTOR = "example.com", "bench"


def _letters(count: int) -> list[bytes]:
    plain = parse_content_type("text/plain")
    template = MessageTemplate(disposition="inline", attachment_type=plain, body_type=plain)
    return [template.build(letter) for letter in clinic_letters(count)]


def _dkimpy(private: bytes) -> Callable[[bytes], bytes]:
    def sign(message: bytes) -> bytes:
        head = message.split(b"\r\n\r\n", 1)[0].lower()
        include = [n.lower().encode() for n in SIGNED_HEADERS if head.startswith(n.lower().encode() + b":")
                   or b"\r\n" + n.lower().encode() + b":" in head] + [b"from"]
        return dkim.sign(message, SELECTOR.encode(), DOMAIN.encode(), private, canonicalize=(b"relaxed", b"relaxed"),
                         include_headers=include, linesep=b"\r\n") + message
    return sign


def _time(sign: Callable[[bytes], bytes], letters: list[bytes], repeat: int = 3) -> tuple[float, list[bytes]]:
    """Best seconds per letter over ``repeat`` runs, and the signed letters of the last run."""
    best, signed = float("inf"), []
    for _ in range(repeat):
        started = time.perf_counter()
        signed = [sign(message) for message in letters]
        best = min(best, (time.perf_counter() - started) / len(letters))
    return best, signed


def _verified(signed: list[bytes], key_value: str) -> bool:
    record = key_value.encode()
    return all(dkim.verify(message, dnsfunc=lambda name, timeout=5: record) for message in signed)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    letters = _letters(count)
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    seed = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    rsa_key, ed_key = load_key(pem), load_key(base64.b64encode(seed).decode(), "ed25519-sha256")
    ways = {"dkimpy (rsa-sha256)": (_dkimpy(rsa_key.private), rsa_key),
            "postroom (rsa-sha256)": (DkimSigner(DOMAIN, SELECTOR, rsa_key).sign, rsa_key),
            "postroom (ed25519-sha256)": (DkimSigner(DOMAIN, SELECTOR, ed_key).sign, ed_key)}
    seconds: dict[str, float] = {}
    failed = False
    for label, (sign, key) in ways.items():
        seconds[label], signed = _time(sign, letters)
        ok = _verified(signed, txt_record(SELECTOR, DOMAIN, key)[1])
        failed |= not ok
        print(f"{label:>28}: {seconds[label] * 1000:7.3f} ms/letter {1 / seconds[label]:9.0f} letters/s"
              f"  {'verified' if ok else 'DOES NOT VERIFY'}")
    speed_up = seconds["dkimpy (rsa-sha256)"] / seconds["postroom (rsa-sha256)"]
    print(f"{'speed-up (postroom/dkimpy)':>28}: {speed_up:7.1f}x (target {TARGET:.0f}x), {count} letters, "
          f"{len(letters[0])} bytes each")
    sys.exit(1 if failed or speed_up < TARGET else 0)


if __name__ == "__main__":
    main()
