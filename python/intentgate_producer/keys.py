"""Signing keys: HMAC-SHA256 secrets and Ed25519 private keys.

Formats are the ones ``intentgate keys gen`` prints (and the TypeScript SDK
uses):

* ``hmac-sha256``: ``secret`` is text; its raw UTF-8 bytes are the HMAC key
  (it is never hex- or base64-decoded). The executor refuses secrets shorter
  than 32 bytes, so this package does too.
* ``ed25519``: ``private_key`` is base64url (padding optional) of the PKCS#8
  DER private key, as ``keys gen`` prints it, or of the raw 32-byte seed.
  Ed25519 needs the ``cryptography`` package; HMAC needs nothing but the
  standard library.

Key objects never show their secret: ``repr``/``str`` print the key id and
algorithm only, and every error message names the key id at most.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from typing import Any, Mapping

from .errors import MissingDependencyError, SigningKeyError

KEY_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+={0,2}")
#: The smallest HMAC secret the executor's config accepts, in bytes.
MIN_HMAC_SECRET_BYTES = 32
#: PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows (RFC 8410).
ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")

ALGS = ("hmac-sha256", "ed25519")
_UNREADABLE = object()


def _quietly(fn: Any) -> Any:
    """``fn()``, or ``_UNREADABLE`` when it raises. The caller raises its own error *outside* the
    handler, so no exception holding key material (a UnicodeEncodeError keeps its whole input)
    is chained as ``__context__`` to what the caller sees."""
    try:
        return fn()
    except Exception:
        return _UNREADABLE


def b64url(data: bytes) -> str:
    """Unpadded base64url text of ``data``."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decodes base64url text with or without padding; raises ``ValueError``."""
    stripped = text.rstrip("=")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))


def _check_key_id(key_id: object) -> str:
    if not isinstance(key_id, str) or KEY_ID_RE.fullmatch(key_id) is None:
        raise SigningKeyError("key_id must be 1-64 characters of [A-Za-z0-9._-]")
    return key_id


def _check_binding(source: object, role: object) -> tuple[str | None, str | None]:
    if source is not None and (not isinstance(source, str) or source == ""):
        raise SigningKeyError("source must be a non-empty string or None")
    if role is not None and role != "permit_issuer":
        raise SigningKeyError("role must be 'permit_issuer' or None")
    if source is not None and role is not None:
        raise SigningKeyError("a key is bound to a source or is a permit issuer's, not both")
    return source, role  # type: ignore[return-value]


class SigningKey:
    """A producer's or permit issuer's key. Use :class:`HmacKey` or :class:`Ed25519Key`.

    ``source`` (the one source the key signs plans for) and ``role``
    (``"permit_issuer"``) are optional; when known (e.g. loaded from
    ``keys gen`` output) they let the package refuse a plan for another source,
    or a permit issuer's key signing a plan, before anything is published.
    """

    __slots__ = ("key_id", "source", "role")
    alg: str = ""

    key_id: str
    source: str | None
    role: str | None

    def sign(self, data: bytes) -> str:
        """The unpadded base64url signature of ``data``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        extra = f", source={self.source!r}" if self.source else ""
        extra += f", role={self.role!r}" if self.role else ""
        return f"{type(self).__name__}(key_id={self.key_id!r}, alg={self.alg!r}{extra}, secret=<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} holds key material and is not picklable")


class HmacKey(SigningKey):
    """An ``hmac-sha256`` key: ``secret`` is text whose UTF-8 bytes are the HMAC key."""

    __slots__ = ("_secret",)
    alg = "hmac-sha256"

    def __init__(
        self, key_id: str, secret: str, *, source: str | None = None, role: str | None = None
    ) -> None:
        self.key_id = _check_key_id(key_id)
        self.source, self.role = _check_binding(source, role)
        if not isinstance(secret, str):
            raise SigningKeyError(
                f"key {self.key_id}: the hmac-sha256 secret must be text (str); its UTF-8 bytes are the key"
            )
        raw = _quietly(lambda: secret.encode("utf-8"))
        if raw is _UNREADABLE:
            raise SigningKeyError(f"key {self.key_id}: the hmac-sha256 secret is not valid UTF-8 text")
        if len(raw) < MIN_HMAC_SECRET_BYTES:
            raise SigningKeyError(
                f"key {self.key_id}: the hmac-sha256 secret is {len(raw)} bytes; the executor needs at "
                f"least {MIN_HMAC_SECRET_BYTES} (generate one with `intentgate keys gen --alg hmac-sha256`)"
            )
        self._secret = raw

    def sign(self, data: bytes) -> str:
        return b64url(hmac.new(self._secret, data, hashlib.sha256).digest())


def _ed25519_module() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise MissingDependencyError("cryptography", "an ed25519 key", "python3-cryptography") from None
    return ed25519


class Ed25519Key(SigningKey):
    """An ``ed25519`` key from base64url PKCS#8 DER (what ``keys gen`` prints) or a 32-byte seed."""

    __slots__ = ("_private", "public_key")
    alg = "ed25519"

    public_key: str
    """Unpadded base64url of the raw 32-byte public key (the executor config's ``public_key``)."""

    def __init__(
        self, key_id: str, private_key: str, *, source: str | None = None, role: str | None = None
    ) -> None:
        self.key_id = _check_key_id(key_id)
        self.source, self.role = _check_binding(source, role)
        ed25519 = _ed25519_module()
        what = f"key {self.key_id}: the ed25519 private key"
        if not isinstance(private_key, str):
            raise SigningKeyError(f"{what} must be base64url text (str), as `intentgate keys gen` prints it")
        text = private_key.strip()
        if _B64URL_RE.fullmatch(text) is None:
            raise SigningKeyError(f"{what} is not base64url text")
        der = _quietly(lambda: b64url_decode(text))
        if der is _UNREADABLE:
            raise SigningKeyError(f"{what} is not base64url text")
        if len(der) == 32:
            seed = der
        elif len(der) == 48 and der.startswith(ED25519_PKCS8_PREFIX):
            seed = der[len(ED25519_PKCS8_PREFIX) :]
        else:
            seed = _seed_from_pkcs8(der, what)
        priv = _quietly(lambda: ed25519.Ed25519PrivateKey.from_private_bytes(seed))
        if priv is _UNREADABLE:
            raise SigningKeyError(f"{what} is not a valid Ed25519 key")
        self._private = priv
        from cryptography.hazmat.primitives import serialization

        self.public_key = b64url(
            priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def sign(self, data: bytes) -> str:
        return b64url(self._private.sign(data))


def _seed_from_pkcs8(der: bytes, what: str) -> bytes:
    """The seed of another PKCS#8 encoding of an Ed25519 key (e.g. one with its public key attached)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = _quietly(lambda: serialization.load_der_private_key(der, password=None))
    if key is _UNREADABLE:
        raise SigningKeyError(f"{what} is neither a 32-byte seed nor a PKCS#8 DER key")
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SigningKeyError(f"{what} is a PKCS#8 key of another algorithm, not Ed25519")
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def make_key(
    alg: str, key_id: str, material: str, *, source: str | None = None, role: str | None = None
) -> SigningKey:
    """A key of ``alg`` (``hmac-sha256``: ``material`` is the secret; ``ed25519``: the private key)."""
    if alg == "hmac-sha256":
        return HmacKey(key_id, material, source=source, role=role)
    if alg == "ed25519":
        return Ed25519Key(key_id, material, source=source, role=role)
    raise SigningKeyError(f"unsupported alg {alg!r}; expected one of {', '.join(ALGS)}")


def load_key(keys_gen_output: str | bytes | Mapping[str, Any]) -> SigningKey:
    """The key in the JSON ``intentgate keys gen`` prints (text, bytes or the parsed object).

    The key's ``source`` / ``role`` are taken from the config snippet in it.
    """
    if isinstance(keys_gen_output, (str, bytes)):
        try:
            obj = json.loads(keys_gen_output)
        except ValueError:
            # Raised outside the handler: a JSONDecodeError holds the whole text (the secret) as `.doc`.
            obj = _UNREADABLE
        if obj is _UNREADABLE:
            raise SigningKeyError("not the JSON that `intentgate keys gen` prints")
    else:
        obj = keys_gen_output
    if not isinstance(obj, Mapping):
        raise SigningKeyError("not the JSON object that `intentgate keys gen` prints")
    key_id, alg = obj.get("key_id"), obj.get("alg")
    if not isinstance(key_id, str) or alg not in ALGS:
        raise SigningKeyError("keys gen output: missing key_id or alg")
    field = "secret" if alg == "hmac-sha256" else "private_key"
    material = obj.get(field)
    if not isinstance(material, str):
        raise SigningKeyError(f"keys gen output for key {key_id}: no {field}")
    snippet: Any = obj.get("config", {})
    entry = snippet.get("keys", {}).get(key_id, {}) if isinstance(snippet, Mapping) else {}
    source = entry.get("source") if isinstance(entry, Mapping) else None
    role = entry.get("role") if isinstance(entry, Mapping) else None
    return make_key(alg, key_id, material, source=source, role=role)


def key_from_env(
    key_id: str,
    alg: str,
    env: str,
    *,
    source: str | None = None,
    role: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> SigningKey:
    """A key whose secret / private key is in the environment variable ``env``.

    One trailing newline is dropped (as when the variable was filled from a file).
    """
    value = (os.environ if environ is None else environ).get(env)
    if value is None or value == "":
        raise SigningKeyError(f"key {key_id}: the environment variable {env} is not set or empty")
    if value.endswith("\n"):
        value = value[:-1]
    return make_key(alg, key_id, value, source=source, role=role)
