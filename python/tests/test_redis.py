"""Publishing and result matching against a real Redis (``IG_TEST_REDIS_URL``).

No executor here: results are written to the result stream by the test, in
the executor's format, to drive the cases a paper executor cannot produce on
demand (an ``UNKNOWN`` and its reconciled follow-up, results for other
entries interleaved). The same code against a real executor is tested in
test/python/pythonInterop.test.ts. Without ``IG_TEST_REDIS_URL`` these tests
are skipped (reported as skipped; the vitest runner refuses any skip).
"""

import json
import os
import threading
import time
import unittest
import uuid

from intentgate_producer import HmacKey, PlanError, Producer, Published, ResultTimeout, UsageError, build_plan, sign_plan

from .helpers import SECRET, order

URL = os.environ.get("IG_TEST_REDIS_URL")


def result_json(stream_id: str, lane: str = "main", **over) -> str:
    body = {
        "v": 1, "plan_id": "p-1", "stream_id": stream_id, "lane": lane, "authenticated": True, "action": "place",
        "source": "bot", "venue": "paper", "symbol": "BTCUSDT", "side": "BUY", "qty": "0.5", "reduce_only": False,
        "executed": True, "decision": "EXECUTED", "error": None, "mode": "paper", "client_order_id": "ig-p-1",
        "order_id": f"paper:{lane}:{stream_id}", "fill_qty": "0.5", "avg_price": "65000", "timestamp": 1,
    }
    body.update(over)
    return json.dumps(body)


@unittest.skipUnless(URL, "IG_TEST_REDIS_URL is not set")
class AgainstRedis(unittest.TestCase):
    def setUp(self):
        import redis

        self.prefix = f"igpytest:{uuid.uuid4().hex[:12]}:"
        self.redis = redis.Redis.from_url(URL)
        self.producer = Producer(self.redis, key=HmacKey("bot-k1", SECRET, source="bot"), prefix=self.prefix)
        self.result_key = f"{self.prefix}stream:apply.result"

    def tearDown(self):
        keys = self.redis.keys(f"{self.prefix}*")
        if keys:
            self.redis.delete(*keys)
        self.redis.close()

    def write_result(self, stream_id: str, lane: str = "main", **over) -> str:
        return self.redis.xadd(self.result_key, {"result": result_json(stream_id, lane, **over)}).decode()

    def test_publish_writes_exactly_plan_and_auth(self):
        plan = build_plan(**order(symbol="BTC€"))
        pub = self.producer.publish(plan)
        self.assertEqual(pub.lane, "main")
        entries = self.redis.xrange(f"{self.prefix}stream:apply.plan")
        self.assertEqual(len(entries), 1)
        entry_id, fields = entries[0]
        self.assertEqual(entry_id.decode(), pub.stream_id)
        self.assertEqual(list(fields), [b"plan", b"auth"])
        self.assertEqual(fields[b"plan"], pub.plan.encode("utf-8"))
        self.assertEqual(fields[b"auth"].decode(), sign_plan(pub.plan, self.producer.key).auth)
        manual = self.producer.publish(build_plan(**order(plan_id="p-2")), lane="manual")
        self.assertEqual(self.redis.xlen(f"{self.prefix}stream:apply.plan.manual"), 1)
        self.assertEqual(manual.lane, "manual")

    def test_refused_plans_publish_nothing(self):
        for bad in [dict(qty=0.1 + 0.2), dict(created_at=1_717_000_000), dict(qtty="1")]:
            with self.subTest(bad=bad), self.assertRaises(PlanError):
                self.producer.publish({**build_plan(**order()), **bad})
        with self.assertRaises(UsageError):
            self.producer.publish(build_plan(**order()), lane="side")
        self.assertEqual(self.redis.exists(f"{self.prefix}stream:apply.plan"), 0)

    def test_a_result_written_before_wait_is_found(self):
        # Reading from `$` after XADD would miss it; the cursor is taken before publishing.
        self.write_result("0-1")
        pub = self.producer.publish(build_plan(**order()))
        self.write_result(pub.stream_id)
        self.write_result("9-9")
        r = self.producer.wait(pub, timeout=5)
        self.assertEqual((r.stream_id, r.lane, r.decision), (pub.stream_id, "main", "EXECUTED"))

    def test_matches_lane_and_stream_id_not_plan_id(self):
        pub = self.producer.publish(build_plan(**order()))
        self.write_result(pub.stream_id, lane="manual", decision="DENIED", error="trading_halted", executed=False)
        self.write_result("1-1", plan_id="p-1", decision="DENIED", error="duplicate_plan_id", executed=False)
        self.write_result(pub.stream_id, fill_qty="0.25")
        r = self.producer.wait(pub, timeout=5)
        self.assertEqual((r.lane, r.fill_qty), ("main", "0.25"))

    def test_unknown_is_followed_to_its_reconciled_result(self):
        pub = self.producer.publish(build_plan(**order()))
        self.write_result(pub.stream_id, decision="UNKNOWN", executed=False, error="venue_error:timeout")

        def later():
            time.sleep(0.3)
            self.write_result("5-5")
            self.write_result(pub.stream_id, reconciled=True, fill_qty="0.5")

        t = threading.Thread(target=later)
        t.start()
        r = self.producer.wait(pub, timeout=10)
        t.join()
        self.assertTrue(r.reconciled)
        self.assertEqual(r.decision, "EXECUTED")
        first = self.producer.wait(pub, timeout=5, follow_unknown=False)
        self.assertEqual(first.decision, "UNKNOWN")

    def test_timeout_carries_the_unknown(self):
        pub = self.producer.publish(build_plan(**order()))
        with self.assertRaises(ResultTimeout) as cm:
            self.producer.wait(pub, timeout=0.3)
        self.assertIsNone(cm.exception.last_result)
        self.write_result(pub.stream_id, decision="UNKNOWN", executed=False, error="venue_error:timeout")
        with self.assertRaises(ResultTimeout) as cm:
            self.producer.wait(pub, timeout=0.5)
        self.assertEqual(cm.exception.last_result.decision, "UNKNOWN")
        self.assertIn("reconciled", str(cm.exception))
        self.assertIsInstance(cm.exception.published, Published)

    def test_read_results_pages(self):
        for i in range(7):
            self.write_result(f"{i + 1}-0")
        self.assertEqual([r.stream_id for r in self.producer.read_results(count=3)], ["1-0", "2-0", "3-0"])
        self.assertEqual(len(list(self.producer.iter_results(count=3))), 7)
        last = self.producer.last_result_id()
        self.assertEqual(self.producer.read_results(last), [])
        self.assertEqual(self.producer.read_results(last, block_ms=50), [])

    def test_url_and_context_manager(self):
        with Producer(URL, key=self.producer.key, prefix=self.prefix) as p:
            pub = p.publish(build_plan(**order()))
        self.assertEqual(self.redis.xlen(f"{self.prefix}stream:apply.plan"), 1)
        self.assertTrue(pub.stream_id)


if __name__ == "__main__":
    unittest.main()
