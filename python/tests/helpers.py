"""Shared fixtures of the unit tests."""

from __future__ import annotations

import base64

#: RFC 8032 §7.1 test 1: seed, public key, and the signature of the empty message.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIG_EMPTY = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")
SECRET = "test-secret-of-at-least-32-bytes-0123456789"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


#: The private key as `intentgate keys gen --alg ed25519` prints it (base64url PKCS#8 DER).
RFC8032_PKCS8 = b64u(PKCS8_PREFIX + RFC8032_SEED)


def order(**over):
    base = dict(plan_id="p-1", source="bot", symbol="BTCUSDT", side="BUY", qty="0.5", created_at=1_700_000_000_000)
    base.update(over)
    return base
