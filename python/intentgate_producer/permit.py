"""Permits (wire-v1 §5): a risk governor grants one plan a single-use token.

The token is ``<payload>.<sig>``: ``payload`` is the unpadded base64url of
the UTF-8 JSON ``{"v":1,"permit_id","plan_id","symbol","side","max_qty",
"reduce_only","exp","iss"}`` (in that order, compact), and ``sig`` the issuer
key's signature over the ASCII bytes of that base64url text.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal

from .errors import PermitError, PlanError, SigningKeyError
from .keys import SigningKey, b64url
from .plan import MAX_PERMIT_CHARS, _epoch_ms, decimal_text, now_ms

PERMIT_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
PLAN_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def issue_permit(
    key: SigningKey,
    *,
    plan_id: str,
    symbol: str,
    side: str,
    max_qty: Decimal | int | str,
    reduce_only: bool = False,
    exp: int | None = None,
    ttl_ms: int = 60_000,
    permit_id: str | None = None,
    iss: str | None = None,
) -> str:
    """A permit token for one plan, signed with the issuer's ``key``.

    ``exp`` is the expiry in ms since the epoch (default: now + ``ttl_ms``);
    ``permit_id`` defaults to a random UUID; ``iss`` defaults to, and must
    equal, ``key.key_id``. The plan must match ``plan_id``, ``symbol``,
    ``side`` and ``reduce_only`` exactly and its ``qty`` be at most ``max_qty``.
    Raises :class:`PermitError` naming the field, or :class:`SigningKeyError`.
    """
    if not isinstance(key, SigningKey):
        raise SigningKeyError(f"key must be an HmacKey or Ed25519Key, got {type(key).__name__}")
    if key.source is not None:
        raise SigningKeyError(
            f"key {key.key_id} is a producer key of source {key.source!r}; permits are signed with a "
            "permit issuer's key (role permit_issuer)"
        )
    iss = key.key_id if iss is None else iss
    if iss != key.key_id:
        raise PermitError("iss", f"{iss!r} is not the signing key's id {key.key_id!r}")
    permit_id = str(uuid.uuid4()) if permit_id is None else permit_id
    if not isinstance(permit_id, str) or PERMIT_ID_RE.fullmatch(permit_id) is None:
        raise PermitError("permit_id", f"must be 1-128 characters of [A-Za-z0-9._:-], got {permit_id!r}")
    if not isinstance(plan_id, str) or PLAN_ID_RE.fullmatch(plan_id) is None:
        raise PermitError("plan_id", f"must be a plan_id (1-64 characters of [A-Za-z0-9._:-]), got {plan_id!r}")
    if not isinstance(symbol, str) or symbol == "":
        raise PermitError("symbol", "must be a non-empty string")
    if side not in ("BUY", "SELL"):
        raise PermitError("side", f"must be BUY or SELL, got {side!r}")
    try:
        max_qty_text = decimal_text("max_qty", max_qty)
    except PlanError as err:
        raise PermitError("max_qty", err.reason) from None
    if not isinstance(reduce_only, bool):
        raise PermitError("reduce_only", f"must be True or False, got {reduce_only!r}")
    if exp is None:
        if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or ttl_ms <= 0:
            raise PermitError("exp", f"ttl_ms must be a positive integer of milliseconds, got {ttl_ms!r}")
        exp = now_ms() + ttl_ms
    try:
        exp = _epoch_ms("exp", exp)
    except PlanError as err:
        raise PermitError("exp", err.reason) from None
    body = {
        "v": 1,
        "permit_id": permit_id,
        "plan_id": plan_id,
        "symbol": symbol,
        "side": side,
        "max_qty": max_qty_text,
        "reduce_only": reduce_only,
        "exp": exp,
        "iss": iss,
    }
    try:
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise PermitError("symbol", "is not valid Unicode text (it holds a lone surrogate)") from None
    encoded = b64url(raw)
    token = f"{encoded}.{key.sign(encoded.encode('ascii'))}"
    if len(token) > MAX_PERMIT_CHARS:
        raise PermitError("permit", f"the token is {len(token)} characters; a plan takes at most {MAX_PERMIT_CHARS}")
    return token


def decode_permit(token: str) -> dict[str, object]:
    """The payload of a permit token (not verified: only the executor holds the issuers' keys)."""
    if not isinstance(token, str) or token.count(".") != 1:
        raise PermitError("permit", "is not a token of the form <payload>.<sig>")
    payload = token.split(".", 1)[0]
    try:
        from .keys import b64url_decode

        obj = json.loads(b64url_decode(payload).decode("utf-8"))
    except ValueError:
        raise PermitError("permit", "the payload is not base64url JSON") from None
    if not isinstance(obj, dict):
        raise PermitError("permit", "the payload is not a JSON object")
    return obj
