import json
import unittest
from decimal import Decimal

from intentgate_producer import ResultError, parse_result

EXECUTED = {
    "v": 1,
    "plan_id": "p-1",
    "stream_id": "1700000000000-0",
    "lane": "main",
    "authenticated": True,
    "action": "place",
    "source": "bot",
    "venue": "paper",
    "symbol": "BTCUSDT",
    "side": "BUY",
    "qty": "0.5",
    "reduce_only": False,
    "executed": True,
    "decision": "EXECUTED",
    "error": None,
    "mode": "paper",
    "client_order_id": "ig-p-1",
    "order_id": "paper:main:1700000000000-0",
    "fill_qty": "0.5",
    "avg_price": "65000",
    "timestamp": 1700000000123,
    "a_future_field": {"x": 1},
}


class ParseResult(unittest.TestCase):
    def test_executed(self):
        r = parse_result("1700000000200-0", json.dumps(EXECUTED).encode())
        self.assertEqual((r.decision, r.executed, r.authenticated, r.lane, r.stream_id), ("EXECUTED", True, True, "main", "1700000000000-0"))
        self.assertEqual((r.fill_qty_decimal, r.avg_price_decimal, r.qty_decimal), (Decimal("0.5"), Decimal("65000"), Decimal("0.5")))
        self.assertFalse(r.reconciled)
        self.assertTrue(r.final)
        self.assertIsNone(r.reason_code)
        self.assertEqual(r.to_dict()["a_future_field"], {"x": 1})

    def test_denied_unreadable_plan(self):
        denied = {**EXECUTED, "plan_id": None, "executed": False, "decision": "DENIED", "error": "invalid_plan:json",
                  "authenticated": False, "source": None, "qty": None, "fill_qty": None, "avg_price": None, "order_id": None}
        r = parse_result("1-0", json.dumps(denied))
        self.assertEqual((r.reason_code, r.error, r.plan_id, r.qty_decimal), ("invalid_plan", "invalid_plan:json", None, None))

    def test_unknown_and_reconciled(self):
        u = parse_result("1-0", json.dumps({**EXECUTED, "decision": "UNKNOWN", "executed": False, "error": "venue_error:timeout"}))
        self.assertFalse(u.final)
        f = parse_result("2-0", json.dumps({**EXECUTED, "reconciled": True}))
        self.assertTrue(f.reconciled)

    def test_malformed(self):
        for bad in ["nope", "[]", json.dumps({**EXECUTED, "v": 2}), json.dumps({**EXECUTED, "decision": "MAYBE"}),
                    json.dumps({k: v for k, v in EXECUTED.items() if k != "stream_id"}), json.dumps({**EXECUTED, "qty": 0.5})]:
            with self.subTest(bad=bad[:40]), self.assertRaises(ResultError):
                parse_result("1-0", bad)


if __name__ == "__main__":
    unittest.main()
