"""Driver for the cross-language tests (test/python/pythonInterop.test.ts).

Reads one JSON request on stdin, prints one JSON answer on stdout. JSON
numbers arrive as Python ``int`` / ``float`` (so a request can carry the float
quantity a careless producer would pass). Ops:

* ``sign``: ``key`` (keys gen output), ``plans`` (texts) -> ``signed`` [{plan, auth}]
* ``plan_text``: ``plan`` (object) -> ``text``
* ``permit``: ``key``, ``args`` (issue_permit keywords) -> ``token``
* ``submit``: ``redis_url``, ``prefix``, ``key``, ``plans`` (objects), ``lane``,
  optional ``permits`` ({plan_id: {key, args}}) -> ``published`` and ``results``
  (waited for in reverse publishing order), or ``error`` for the first refused plan
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import intentgate_producer as ig  # noqa: E402


def published_dict(p: ig.Published) -> dict:
    return {"lane": p.lane, "stream_id": p.stream_id, "plan_id": p.plan_id, "plan": p.plan, "result_cursor": p.result_cursor}


def result_dict(r: ig.Result) -> dict:
    return {
        "entry_id": r.entry_id,
        "raw": r.to_dict(),
        "parsed": {
            "stream_id": r.stream_id, "lane": r.lane, "decision": r.decision, "error": r.error, "executed": r.executed,
            "authenticated": r.authenticated, "plan_id": r.plan_id, "qty": r.qty, "fill_qty": r.fill_qty,
            "avg_price": r.avg_price, "fill_value": str(r.fill_qty_decimal * r.avg_price_decimal) if r.executed else None,
            "reason_code": r.reason_code, "reconciled": r.reconciled, "mode": r.mode, "order_id": r.order_id,
        },
    }


def run(req: dict) -> dict:
    op = req["op"]
    if op == "sign":
        key = ig.load_key(req["key"])
        return {"signed": [{"plan": s.plan, "auth": s.auth} for s in (ig.sign_plan(t, key) for t in req["plans"])]}
    if op == "plan_text":
        return {"text": ig.plan_text(req["plan"])}
    if op == "permit":
        return {"token": ig.issue_permit(ig.load_key(req["key"]), **req["args"])}
    if op == "submit":
        key = ig.load_key(req["key"])
        with ig.Producer(req["redis_url"], key=key, prefix=req["prefix"]) as producer:
            published = []
            for plan in req["plans"]:
                permit = req.get("permits", {}).get(plan["plan_id"])
                if permit is not None:
                    plan = {**plan, "permit": ig.issue_permit(ig.load_key(permit["key"]), **permit["args"])}
                if "created_at" not in plan:
                    plan = {**plan, "created_at": ig.now_ms()}
                published.append(producer.publish(plan, lane=req.get("lane", "main")))
            results = {p.stream_id: producer.wait(p, timeout=req.get("timeout", 30)) for p in reversed(published)}
            return {
                "published": [published_dict(p) for p in published],
                "results": [result_dict(results[p.stream_id]) for p in published],
            }
    raise ValueError(f"unknown op {op!r}")


def main() -> int:
    req = json.load(sys.stdin)
    try:
        out = run(req)
    except ig.IntentGateError as err:
        out = {"error": {"type": type(err).__name__, "field": getattr(err, "field", None), "message": str(err)}}
    except Exception as err:  # an unexpected failure: show it whole
        out = {"crash": "".join(traceback.format_exception(err))}
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
