"""Publishing plans to a Redis Streams bus and waiting for their results.

Stream names derive from the deployment's ``prefix`` (default ``intentgate:``):
``<prefix>stream:apply.plan`` (lane ``main``), ``<prefix>stream:apply.plan.manual``
(lane ``manual``) and ``<prefix>stream:apply.result``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from .errors import MissingDependencyError, ResultError, ResultTimeout, UsageError
from .keys import SigningKey
from .plan import SignedPlan, parse_plan_text, sign_plan
from .results import Result, parse_result

LANES = ("main", "manual")
#: Longest single blocking read, so a client's socket timeout never cuts one.
_BLOCK_SLICE_MS = 1000


def stream_keys(prefix: str) -> dict[str, str]:
    """The Redis keys of the streams a producer touches, under ``prefix``."""
    if not isinstance(prefix, str) or prefix == "":
        raise UsageError("prefix must be a non-empty string (the executor config's prefix)")
    return {
        "main": f"{prefix}stream:apply.plan",
        "manual": f"{prefix}stream:apply.plan.manual",
        "result": f"{prefix}stream:apply.result",
    }


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else str(value)


@dataclass(frozen=True)
class Published:
    """A plan entry that was published: wait for its result with :meth:`Producer.wait`."""

    lane: str
    stream_id: str
    """The entry's id on its plan stream (what ``XADD`` returned)."""
    plan_id: str
    plan: str
    """The exact plan text published."""
    result_cursor: str
    """The result stream's last id taken *before* publishing; the result comes after it."""


class Producer:
    """Signs and publishes plans to one IntentGate deployment on Redis, and reads results.

    ``redis`` is a ``redis.Redis`` client or a ``redis://`` / ``rediss://`` URL
    (then the producer owns the connection; :meth:`close` or ``with`` closes it).
    ``key`` signs every plan published (leave it ``None`` only to publish
    :class:`SignedPlan` objects signed elsewhere).
    """

    def __init__(self, redis: Any, *, key: SigningKey | None = None, prefix: str = "intentgate:") -> None:
        self.keys = stream_keys(prefix)
        self.prefix = prefix
        self.key = key
        if isinstance(redis, str):
            try:
                import redis as redis_module
            except ImportError:
                raise MissingDependencyError("redis", "publishing to Redis", "python3-redis") from None
            self.redis = redis_module.Redis.from_url(redis)
            self._owned = True
        else:
            self.redis = redis
            self._owned = False

    def __repr__(self) -> str:
        return f"Producer(prefix={self.prefix!r}, key={self.key!r})"

    def __enter__(self) -> "Producer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection when the producer opened it from a URL."""
        if self._owned:
            self.redis.close()

    # ------------------------------------------------------------------ publishing

    def sign(self, plan: str | Mapping[str, Any]) -> SignedPlan:
        if self.key is None:
            raise UsageError("this Producer has no key: pass key=... or publish a SignedPlan")
        return sign_plan(plan, self.key)

    def publish(self, plan: str | Mapping[str, Any] | SignedPlan, *, lane: str = "main") -> Published:
        """Checks and signs ``plan`` (a dict, plan text, or a :class:`SignedPlan`), then publishes it.

        Everything is checked before Redis is touched: a :class:`PlanError` or
        :class:`SigningKeyError` means nothing was published. The result stream's
        last id is read *before* the ``XADD``, so :meth:`wait` cannot miss the result.
        """
        if lane not in LANES:
            raise UsageError(f"lane must be 'main' or 'manual', got {lane!r}")
        if isinstance(plan, SignedPlan):
            plan_id = parse_plan_text(plan.plan)["plan_id"]
            signed = SignedPlan(plan=plan.plan, auth=plan.auth, plan_id=plan_id)
        else:
            signed = self.sign(plan)
        plan_bytes = signed.plan.encode("utf-8")
        cursor = self.last_result_id()
        stream_id = _text(
            self.redis.xadd(self.keys[lane], {"plan": plan_bytes, "auth": signed.auth.encode("ascii")})
        )
        return Published(lane=lane, stream_id=stream_id, plan_id=signed.plan_id, plan=signed.plan, result_cursor=cursor)

    def submit(
        self,
        plan: str | Mapping[str, Any] | SignedPlan,
        *,
        lane: str = "main",
        timeout: float = 30.0,
        follow_unknown: bool = True,
    ) -> Result:
        """:meth:`publish` then :meth:`wait`."""
        return self.wait(self.publish(plan, lane=lane), timeout=timeout, follow_unknown=follow_unknown)

    # ------------------------------------------------------------------ results

    def last_result_id(self) -> str:
        """The id of the result stream's newest entry (``0-0`` when it is empty)."""
        last = self.redis.xrevrange(self.keys["result"], "+", "-", count=1)
        return _text(last[0][0]) if last else "0-0"

    def read_results(
        self, after: str = "0-0", *, count: int = 100, block_ms: int | None = None
    ) -> list[Result]:
        """Results after the result-stream id ``after``, oldest first (at most ``count``).

        With ``block_ms`` it waits up to that long for the first one.
        """
        if not isinstance(count, int) or count <= 0:
            raise UsageError("count must be a positive integer")
        kwargs: dict[str, Any] = {"count": count}
        if block_ms is not None:
            if not isinstance(block_ms, int) or block_ms <= 0:
                raise UsageError("block_ms must be a positive integer or None")
            kwargs["block"] = block_ms
        reply = self.redis.xread({self.keys["result"]: after}, **kwargs)
        out: list[Result] = []
        for _stream, items in reply or []:
            for entry_id, fields in items:
                eid = _text(entry_id)
                value = None
                for name, v in (fields or {}).items():
                    if _text(name) == "result":
                        value = v
                if value is None:
                    raise ResultError(f"result entry {eid} has no 'result' field")
                out.append(parse_result(eid, value))
        return out

    def iter_results(self, after: str = "0-0", *, count: int = 100) -> Iterator[Result]:
        """Every result after ``after`` now on the stream, page by page, oldest first."""
        cursor = after
        while True:
            page = self.read_results(cursor, count=count)
            if not page:
                return
            yield from page
            cursor = page[-1].entry_id

    def wait(self, published: Published, *, timeout: float = 30.0, follow_unknown: bool = True) -> Result:
        """The result of ``published``, matched by ``lane`` and ``stream_id`` (never by plan_id).

        An ``UNKNOWN`` result (a live order whose outcome is not known yet) is
        followed to its ``reconciled: true`` follow-up unless ``follow_unknown`` is
        False. Raises :class:`ResultTimeout` (with ``last_result``, the ``UNKNOWN``
        seen if any) when no final result came within ``timeout`` seconds.
        """
        if not isinstance(published, Published):
            raise UsageError("wait() takes the Published that publish() returned")
        deadline = time.monotonic() + timeout
        cursor = published.result_cursor
        unknown: Result | None = None
        while True:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                what = "reconciled follow-up of the UNKNOWN result" if unknown else "result"
                raise ResultTimeout(
                    f"no {what} for {published.lane}/{published.stream_id} (plan_id {published.plan_id}) "
                    f"within {timeout} s",
                    published,
                    unknown,
                )
            page = self.read_results(cursor, count=500, block_ms=max(1, min(remaining_ms, _BLOCK_SLICE_MS)))
            for result in page:
                cursor = result.entry_id
                if result.lane != published.lane or result.stream_id != published.stream_id:
                    continue
                if result.decision == "UNKNOWN" and follow_unknown:
                    unknown = result
                    continue
                if unknown is not None and not result.reconciled:
                    continue
                return result
