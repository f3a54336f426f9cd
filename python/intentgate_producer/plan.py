"""Plans (wire-v1 §3): building, checking and signing.

The checks here are the executor's gate 1, plus three a Python producer
needs and the wire format cannot catch:

* ``qty`` / ``price`` as a Python ``float`` are refused (``0.1 + 0.2`` is
  ``0.30000000000000004``, which the executor would execute as written); pass
  a :class:`decimal.Decimal`, an ``int`` or a ``str``. Published plans always
  carry them as JSON strings, and plan *text* given to :func:`sign_plan` with
  a JSON number there is refused for the same reason.
* ``created_at`` / ``expires_at`` must be integer milliseconds since the
  epoch; a value that looks like seconds (under 10^12) or micro/nanoseconds
  (10^14 and over) is refused, naming the unit it looks like.
* an unknown field is refused by name (the executor would refuse it too, but
  only after it was published).

Every refusal is a :class:`~intentgate_producer.errors.PlanError` naming the field;
nothing is signed or published.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from .errors import PlanError, SigningKeyError
from .keys import SigningKey

#: plan_id grammar (also target_plan_id).
PLAN_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: Decimal grammar of qty / price (wire-v1 §3).
DECIMAL_RE = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]{1,18})?")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
VENUES = ("paper", "binance-usdm", "polymarket")
LIVE_VENUES = ("binance-usdm", "polymarket")
ACTIONS = ("place", "cancel", "cancel_all")
SIDES = ("BUY", "SELL")
TYPES = ("MARKET", "LIMIT")
#: Every plan field, in the order this package writes them.
PLAN_FIELDS = (
    "v",
    "plan_id",
    "source",
    "venue",
    "account",
    "action",
    "symbol",
    "side",
    "type",
    "qty",
    "price",
    "reduce_only",
    "created_at",
    "expires_at",
    "permit",
    "meta",
    "target_plan_id",
)
ORDER_ONLY_FIELDS = ("side", "type", "qty", "price", "reduce_only", "permit")
MAX_PLAN_BYTES = 16 * 1024
MAX_META_BYTES = 4096
MAX_JSON_DEPTH = 32
MAX_PERMIT_CHARS = 4096
#: created_at / expires_at must lie in [MIN_EPOCH_MS, MAX_EPOCH_MS): 2001-09-09 to 5138-11-16.
MIN_EPOCH_MS = 10**12
MAX_EPOCH_MS = 10**14


def now_ms() -> int:
    """Milliseconds since the epoch, the unit of ``created_at`` and ``expires_at``."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class SignedPlan:
    """The two fields of a plan entry (wire-v1 §2): publish ``plan`` unchanged."""

    plan: str
    """The exact plan text that was signed."""
    auth: str
    """``<alg>:<key_id>:<sig>``."""
    plan_id: str


def _utf16_len(text: str) -> int:
    """Length as JavaScript counts it (UTF-16 code units): the executor's limits are in these."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _check_utf8(field: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PlanError(field, "is not valid Unicode text (it holds a lone surrogate)") from None


def _identifier(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise PlanError(field, f"must be a string, got {type(value).__name__}")
    _check_utf8(field, value)
    if _CONTROL_RE.search(value):
        raise PlanError(field, "must not contain control characters")
    if not 1 <= _utf16_len(value) <= 128:
        raise PlanError(field, "must be 1-128 characters")
    return value


def _plan_id(field: str, value: object) -> str:
    if not isinstance(value, str) or PLAN_ID_RE.fullmatch(value) is None:
        raise PlanError(field, f"must be 1-64 characters of [A-Za-z0-9._:-], got {value!r}")
    return value


def _choice(field: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise PlanError(field, f"must be one of {', '.join(allowed)}, got {value!r}")
    return value


def decimal_text(field: str, value: object, *, from_text: bool = False) -> str:
    """The wire text of a positive decimal given as ``Decimal``, ``int`` or ``str``; a float is refused."""
    if isinstance(value, float):
        raise PlanError(
            field,
            f"is a float ({value!r}); floats are not exact (0.1 + 0.2 == 0.30000000000000004), "
            f"so pass a decimal.Decimal or a str such as '0.3'",
        )
    if isinstance(value, bool):
        raise PlanError(field, "must be a decimal (Decimal, int or str), not a bool")
    if from_text and isinstance(value, (int, Decimal)):
        raise PlanError(
            field,
            "is a JSON number in the plan text; write it as a JSON string (\"0.3\") so no parser "
            "turns it into a float",
        )
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise PlanError(field, f"must be a finite decimal, got {value}")
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if text.startswith("-"):
            raise PlanError(field, f"must be > 0, got {value}")
        if "." in text and len(text.split(".", 1)[1]) > 18:
            raise PlanError(field, f"has more than 18 decimal places: {text}")
    elif isinstance(value, str):
        text = value
    else:
        raise PlanError(field, f"must be a decimal (Decimal, int or str), got {type(value).__name__}")
    if DECIMAL_RE.fullmatch(text) is None:
        raise PlanError(
            field,
            f"{text!r} is not a decimal of the form 123 or 0.123 (no sign, exponent, spaces or "
            f"leading zeros; at most 18 decimal places)",
        )
    if Decimal(text) <= 0:
        raise PlanError(field, f"must be > 0, got {text!r}")
    return text


def _epoch_ms(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "a float" if isinstance(value, (float, Decimal)) else type(value).__name__
        raise PlanError(
            field, f"must be an integer of milliseconds since the epoch, got {kind} ({value!r}); use now_ms()"
        )
    if value < MIN_EPOCH_MS:
        unit = "seconds" if value >= 10**9 else "a time before 2001"
        raise PlanError(
            field,
            f"{value} looks like {unit}; {field} is milliseconds since the epoch "
            f"(e.g. intentgate_producer.now_ms() = {now_ms()})",
        )
    if value >= MAX_EPOCH_MS:
        unit = "nanoseconds" if value >= 10**17 else "microseconds"
        raise PlanError(
            field,
            f"{value} looks like {unit}; {field} is milliseconds since the epoch "
            f"(e.g. intentgate_producer.now_ms() = {now_ms()})",
        )
    return value


def _json_depth_ok(value: Any, depth: int) -> bool:
    """True when ``value`` nests at most MAX_JSON_DEPTH levels, counting from ``depth``."""
    stack = [(value, depth)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list)):
            if d + 1 > MAX_JSON_DEPTH:
                return False
            stack.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))
    return True


def _dumps(value: Any) -> str:
    """Compact JSON, as JavaScript's JSON.stringify writes it for the same values."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _meta(value: object, *, from_text: bool) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PlanError("meta", f"must be an object (dict), got {type(value).__name__}")
    if not _json_depth_ok(value, 1):
        raise PlanError("meta", f"nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        # Plan text parsed here holds its JSON numbers as Decimal: measured as the numbers they are.
        text = json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_number if from_text else None
        )
    except (TypeError, ValueError) as err:
        raise PlanError("meta", f"is not JSON-serialisable ({err})") from None
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise PlanError("meta", "is not valid Unicode text (it holds a lone surrogate)") from None
    if size > MAX_META_BYTES:
        raise PlanError("meta", f"is {size} bytes of JSON; at most {MAX_META_BYTES}")
    if "kelly_fraction" in value:
        k = value["kelly_fraction"]
        if isinstance(k, bool) or not isinstance(k, (int, float, Decimal)) or not 0 <= k <= 1:
            raise PlanError("meta", f"meta.kelly_fraction must be a number from 0 to 1, got {k!r}")
    if not from_text and any(isinstance(v, Decimal) for v in _walk(value)):
        raise PlanError("meta", "holds a Decimal; write decimals in meta as strings")
    return value


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _walk(value: Any) -> Any:
    stack = [value]
    while stack:
        v = stack.pop()
        yield v
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


def check_plan(plan: Mapping[str, Any], *, from_text: bool = False) -> dict[str, Any]:
    """Checks a plan object and returns it normalised (decimals as wire text, fields in
    :data:`PLAN_FIELDS` order). Raises :class:`PlanError` naming the first bad field."""
    if not isinstance(plan, Mapping):
        raise PlanError("plan", f"must be an object (dict), got {type(plan).__name__}")
    for name in plan:
        if name not in PLAN_FIELDS:
            raise PlanError(
                str(name), f"is not a plan field (the executor refuses unknown fields); known: {', '.join(PLAN_FIELDS)}"
            )
    out: dict[str, Any] = {}
    present = {k: v for k, v in plan.items() if v is not None or from_text}
    # A JSON null is a value of the wrong type, not an absent field.
    for name, value in present.items():
        if value is None:
            raise PlanError(name, "is null; leave the field out instead")
    v = present.get("v", 1)
    if isinstance(v, bool) or v != 1 or not isinstance(v, int):
        raise PlanError("v", f"must be 1, got {v!r}")
    out["v"] = 1
    if "plan_id" not in present:
        raise PlanError("plan_id", "is required")
    out["plan_id"] = _plan_id("plan_id", present["plan_id"])
    if "source" not in present:
        raise PlanError("source", "is required (the producing service)")
    out["source"] = _identifier("source", present["source"])
    if "venue" not in present:
        raise PlanError("venue", f"is required: one of {', '.join(VENUES)}")
    venue = out["venue"] = _choice("venue", present["venue"], VENUES)
    if "account" in present:
        out["account"] = _identifier("account", present["account"])
    elif venue in LIVE_VENUES:
        raise PlanError("account", f"is required on the live venue {venue}")
    action = "place"
    if "action" in present:
        action = out["action"] = _choice("action", present["action"], ACTIONS)
    if action != "place":
        for f in ORDER_ONLY_FIELDS:
            if f in present:
                raise PlanError(f, f"is not allowed on a {action} plan")
    if "symbol" in present:
        out["symbol"] = _identifier("symbol", present["symbol"])
    elif action != "cancel_all":
        raise PlanError("symbol", "is required")
    if action == "place":
        if "side" not in present:
            raise PlanError("side", "is required on an order: BUY or SELL")
        out["side"] = _choice("side", present["side"], SIDES)
        order_type = "MARKET"
        if "type" in present:
            order_type = out["type"] = _choice("type", present["type"], TYPES)
        if "qty" not in present:
            raise PlanError("qty", "is required on an order")
        out["qty"] = decimal_text("qty", present["qty"], from_text=from_text)
        if "price" in present:
            out["price"] = decimal_text("price", present["price"], from_text=from_text)
        elif order_type == "LIMIT":
            raise PlanError("price", "is required on a LIMIT order")
        if "reduce_only" in present:
            if not isinstance(present["reduce_only"], bool):
                raise PlanError("reduce_only", f"must be True or False, got {present['reduce_only']!r}")
            out["reduce_only"] = present["reduce_only"]
    if "created_at" not in present:
        raise PlanError("created_at", "is required: milliseconds since the epoch (now_ms())")
    out["created_at"] = _epoch_ms("created_at", present["created_at"])
    if "expires_at" in present:
        out["expires_at"] = _epoch_ms("expires_at", present["expires_at"])
    if "permit" in present:
        p = present["permit"]
        if not isinstance(p, str) or not 1 <= _utf16_len(p) <= MAX_PERMIT_CHARS:
            raise PlanError("permit", f"must be a permit token of 1-{MAX_PERMIT_CHARS} characters")
        _check_utf8("permit", p)
        out["permit"] = p
    if "meta" in present:
        out["meta"] = _meta(present["meta"], from_text=from_text)
    if action == "cancel":
        if "target_plan_id" not in present:
            raise PlanError("target_plan_id", "is required on a cancel plan")
        out["target_plan_id"] = _plan_id("target_plan_id", present["target_plan_id"])
    elif "target_plan_id" in present:
        raise PlanError("target_plan_id", f"is only allowed on a cancel plan, not on {action}")
    return out


def build_plan(
    *,
    plan_id: str,
    source: str,
    symbol: str | None = None,
    side: str | None = None,
    qty: Decimal | int | str | None = None,
    venue: str = "paper",
    account: str | None = None,
    action: str | None = None,
    type: str | None = None,  # noqa: A002 - the wire field's name
    price: Decimal | int | str | None = None,
    reduce_only: bool | None = None,
    created_at: int | None = None,
    expires_at: int | None = None,
    permit: str | None = None,
    meta: dict[str, Any] | None = None,
    target_plan_id: str | None = None,
    **unknown: Any,
) -> dict[str, Any]:
    """A checked plan object (wire-v1 §3); ``created_at`` defaults to :func:`now_ms`.

    Fields left ``None`` are left out. Raises :class:`PlanError` naming the field.
    """
    if unknown:
        name = next(iter(unknown))
        raise PlanError(name, f"is not a plan field; known: {', '.join(PLAN_FIELDS)}")
    fields = {
        "plan_id": plan_id,
        "source": source,
        "venue": venue,
        "account": account,
        "action": action,
        "symbol": symbol,
        "side": side,
        "type": type,
        "qty": qty,
        "price": price,
        "reduce_only": reduce_only,
        "created_at": now_ms() if created_at is None else created_at,
        "expires_at": expires_at,
        "permit": permit,
        "meta": meta,
        "target_plan_id": target_plan_id,
    }
    return check_plan(fields)


def plan_text(plan: Mapping[str, Any]) -> str:
    """Checks ``plan`` and returns its JSON text (compact, as JavaScript's JSON.stringify writes it)."""
    text = _dumps(check_plan(plan))
    _check_size(text)
    return text


def _check_size(text: str) -> bytes:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raise PlanError("plan", "is not valid Unicode text (it holds a lone surrogate)") from None
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanError("plan", f"is {len(raw)} bytes; the executor takes at most {MAX_PLAN_BYTES}")
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise PlanError(k, "appears twice in a JSON object (the executor refuses repeated keys)")
        seen[k] = v
    return seen


def _no_constant(name: str) -> Any:
    raise PlanError("plan", f"holds {name}, which is not JSON")


def _text_depth_ok(text: str) -> bool:
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def parse_plan_text(text: str) -> dict[str, Any]:
    """Parses plan text strictly (no repeated keys, no NaN, at most 32 levels) and checks it."""
    if not isinstance(text, str):
        raise PlanError("plan", f"plan text must be str, got {type(text).__name__}")
    _check_size(text)
    if not _text_depth_ok(text):
        raise PlanError("plan", f"nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        obj = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_float=Decimal, parse_constant=_no_constant
        )
    except (ValueError, InvalidOperation) as err:
        if isinstance(err, PlanError):
            raise
        raise PlanError("plan", f"is not JSON ({err})") from None
    if not isinstance(obj, dict):
        raise PlanError("plan", "is not a JSON object")
    return check_plan(obj, from_text=True)


def sign_plan(plan: str | Mapping[str, Any], key: SigningKey) -> SignedPlan:
    """Signs a plan: text is checked and signed as its exact UTF-8 bytes; an object is
    checked, serialised once, and that text is signed and returned.

    The ``auth`` field is ``<alg>:<key_id>:<sig>`` with ``sig`` the unpadded base64url
    signature. Raises :class:`PlanError` or :class:`SigningKeyError`; nothing is published.
    """
    if not isinstance(key, SigningKey):
        raise SigningKeyError(f"key must be an HmacKey or Ed25519Key, got {type(key).__name__}")
    if isinstance(plan, (bytes, bytearray, memoryview)):
        raise PlanError("plan", "pass the plan as str text or a dict, not bytes")
    if isinstance(plan, str):
        checked = parse_plan_text(plan)
        text = plan
    else:
        checked = check_plan(plan)
        text = _dumps(checked)
    raw = _check_size(text)
    if key.role == "permit_issuer":
        raise SigningKeyError(f"key {key.key_id} is a permit issuer's key; it cannot sign plans")
    if key.source is not None and key.source != checked["source"]:
        raise PlanError(
            "source",
            f"is {checked['source']!r} but key {key.key_id} signs for source {key.source!r} "
            "(the executor would refuse it: unauthenticated:source_mismatch)",
        )
    return SignedPlan(plan=text, auth=f"{key.alg}:{key.key_id}:{key.sign(raw)}", plan_id=checked["plan_id"])
