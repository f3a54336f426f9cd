"""Results (wire-v1 §4): one entry per plan entry on ``<prefix>stream:apply.result``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from .errors import ResultError

DECISIONS = ("EXECUTED", "DENIED", "FAILED", "UNKNOWN")


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


@dataclass(frozen=True)
class Result:
    """One result (wire-v1 §4). Decimals stay text as written (``qty``, ``fill_qty``,
    ``avg_price``); the ``*_decimal`` properties give them as :class:`~decimal.Decimal`.

    Fields a newer executor adds are kept in ``raw`` (the whole JSON object).
    """

    entry_id: str
    """The result's own id on the result stream."""
    stream_id: str
    """The plan entry's id on its plan stream: ``(lane, stream_id)`` names the entry."""
    lane: str
    """``main`` or ``manual``."""
    decision: str
    """``EXECUTED``, ``DENIED`` (refused by a gate), ``FAILED`` (tried, nothing placed) or
    ``UNKNOWN`` (sent, outcome not known yet: a ``reconciled`` follow-up comes)."""
    error: str | None
    """``None`` when executed, else a reason code such as ``invalid_plan:qty``."""
    executed: bool
    authenticated: bool
    """True only when the entry's signature was verified."""
    plan_id: str | None
    action: str
    source: str | None
    venue: str | None
    symbol: str | None
    side: str | None
    qty: str | None
    reduce_only: bool | None
    mode: str
    """``paper`` or ``live``."""
    client_order_id: str | None
    order_id: str | None
    fill_qty: str | None
    avg_price: str | None
    timestamp: int
    """Milliseconds since the epoch when the decision was made."""
    reconciled: bool
    """True on the follow-up of an ``UNKNOWN``."""
    v: int = 1
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def qty_decimal(self) -> Decimal | None:
        return _decimal(self.qty)

    @property
    def fill_qty_decimal(self) -> Decimal | None:
        return _decimal(self.fill_qty)

    @property
    def avg_price_decimal(self) -> Decimal | None:
        return _decimal(self.avg_price)

    @property
    def reason_code(self) -> str | None:
        """The base of ``error``, before the first ``:`` (``invalid_plan`` of ``invalid_plan:qty``)."""
        return None if self.error is None else self.error.split(":", 1)[0]

    @property
    def final(self) -> bool:
        """False only for an ``UNKNOWN`` still to be reconciled."""
        return self.decision != "UNKNOWN"

    def to_dict(self) -> dict[str, Any]:
        """The result's JSON object as written by the executor."""
        return dict(self.raw)


def _opt_str(obj: Mapping[str, Any], name: str, entry_id: str) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise ResultError(f"result {entry_id}: {name} is not a string or null")
    return value


def parse_result(entry_id: str, text: str | bytes) -> Result:
    """A :class:`Result` from the ``result`` field of a result entry; raises :class:`ResultError`."""
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ResultError(f"result {entry_id}: not JSON") from None
    if not isinstance(obj, dict):
        raise ResultError(f"result {entry_id}: not a JSON object")
    if obj.get("v") != 1:
        raise ResultError(f"result {entry_id}: v is {obj.get('v')!r}, not 1")
    for name in ("stream_id", "lane", "decision"):
        if not isinstance(obj.get(name), str):
            raise ResultError(f"result {entry_id}: {name} is missing")
    if obj["decision"] not in DECISIONS:
        raise ResultError(f"result {entry_id}: unknown decision {obj['decision']!r}")
    reduce_only = obj.get("reduce_only")
    return Result(
        entry_id=entry_id,
        stream_id=obj["stream_id"],
        lane=obj["lane"],
        decision=obj["decision"],
        error=_opt_str(obj, "error", entry_id),
        executed=obj.get("executed") is True,
        authenticated=obj.get("authenticated") is True,
        plan_id=_opt_str(obj, "plan_id", entry_id),
        action=_opt_str(obj, "action", entry_id) or "place",
        source=_opt_str(obj, "source", entry_id),
        venue=_opt_str(obj, "venue", entry_id),
        symbol=_opt_str(obj, "symbol", entry_id),
        side=_opt_str(obj, "side", entry_id),
        qty=_opt_str(obj, "qty", entry_id),
        reduce_only=reduce_only if isinstance(reduce_only, bool) else None,
        mode=_opt_str(obj, "mode", entry_id) or "paper",
        client_order_id=_opt_str(obj, "client_order_id", entry_id),
        order_id=_opt_str(obj, "order_id", entry_id),
        fill_qty=_opt_str(obj, "fill_qty", entry_id),
        avg_price=_opt_str(obj, "avg_price", entry_id),
        timestamp=obj.get("timestamp") if isinstance(obj.get("timestamp"), int) else 0,
        reconciled=obj.get("reconciled") is True,
        raw=obj,
    )
