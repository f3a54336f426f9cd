import hashlib
import hmac
import json
import unittest
from decimal import Decimal

from intentgate_producer import HmacKey, PlanError, SigningKeyError, build_plan, now_ms, parse_plan_text, plan_text, sign_plan
from intentgate_producer.plan import PLAN_FIELDS

from .helpers import SECRET, b64u, order


class BuildPlan(unittest.TestCase):
    def test_fields_in_order_decimals_as_text(self):
        p = build_plan(**order(qty=Decimal("1.50"), price=Decimal("1E+2"), type="LIMIT", reduce_only=False))
        self.assertEqual(
            list(p), ["v", "plan_id", "source", "venue", "symbol", "side", "type", "qty", "price", "reduce_only", "created_at"]
        )
        self.assertEqual((p["qty"], p["price"], p["venue"], p["v"]), ("1.5", "100", "paper", 1))

    def test_int_and_str_quantities(self):
        self.assertEqual(build_plan(**order(qty=2))["qty"], "2")
        self.assertEqual(build_plan(**order(qty="0.000000000000000001"))["qty"], "0.000000000000000001")
        self.assertEqual(build_plan(**order(qty=Decimal("0.3000")))["qty"], "0.3")

    def test_created_at_defaults_to_now_ms(self):
        before = now_ms()
        p = build_plan(**{k: v for k, v in order().items() if k != "created_at"})
        self.assertGreaterEqual(p["created_at"], before)
        self.assertLess(p["created_at"], before + 60_000)

    def test_float_qty_is_refused_with_a_clear_error(self):
        with self.assertRaises(PlanError) as cm:
            build_plan(**order(qty=0.1 + 0.2))
        self.assertEqual(cm.exception.field, "qty")
        self.assertIn("0.30000000000000004", str(cm.exception))
        self.assertIn("float", str(cm.exception))
        self.assertIn("Decimal", str(cm.exception))
        with self.assertRaises(PlanError) as cm:
            build_plan(**order(type="LIMIT", price=65000.0))
        self.assertEqual(cm.exception.field, "price")

    def test_bad_decimals(self):
        for bad in ["0", "-1", "01", " 1", "1e3", "1.", ".5", "1.0000000000000000001", "", "١"]:
            with self.subTest(bad=bad), self.assertRaises(PlanError) as cm:
                build_plan(**order(qty=bad))
            self.assertEqual(cm.exception.field, "qty")
        for bad in [Decimal("NaN"), Decimal("-0.5"), Decimal("0"), Decimal("1E-19"), True, 0, -3, [1]]:
            with self.subTest(bad=bad), self.assertRaises(PlanError):
                build_plan(**order(qty=bad))

    def test_created_at_in_seconds_is_refused(self):
        with self.assertRaises(PlanError) as cm:
            build_plan(**order(created_at=1_717_000_000))
        self.assertEqual(cm.exception.field, "created_at")
        self.assertIn("seconds", str(cm.exception))
        self.assertIn("milliseconds", str(cm.exception))
        for bad, word in [(1_717_000_000_000_000, "microseconds"), (1_717_000_000_000_000_000, "nanoseconds")]:
            with self.assertRaises(PlanError) as cm:
                build_plan(**order(created_at=bad))
            self.assertIn(word, str(cm.exception))
        for bad in [1_717_000_000.5, 1.7e12, True, "1717000000000"]:
            with self.subTest(bad=bad), self.assertRaises(PlanError) as cm:
                build_plan(**order(created_at=bad))
            self.assertEqual(cm.exception.field, "created_at")
        with self.assertRaises(PlanError) as cm:
            build_plan(**order(expires_at=1_717_000_060))
        self.assertEqual(cm.exception.field, "expires_at")

    def test_unknown_field_is_refused_by_name(self):
        with self.assertRaises(PlanError) as cm:
            build_plan(**order(), qtty="1")
        self.assertEqual(cm.exception.field, "qtty")
        self.assertIn("not a plan field", str(cm.exception))
        with self.assertRaises(PlanError) as cm:
            sign_plan({**build_plan(**order()), "reduceOnly": True}, HmacKey("k1", SECRET))
        self.assertEqual(cm.exception.field, "reduceOnly")

    def test_required_fields_and_enums(self):
        cases = [
            (dict(plan_id="bad id"), "plan_id"),
            (dict(plan_id="x" * 65), "plan_id"),
            (dict(source=""), "source"),
            (dict(source="a\nb"), "source"),
            (dict(venue="nyse"), "venue"),
            (dict(venue="binance-usdm"), "account"),
            (dict(side="buy"), "side"),
            (dict(side=None), "side"),
            (dict(type="STOP"), "type"),
            (dict(type="LIMIT"), "price"),
            (dict(reduce_only="true"), "reduce_only"),
            (dict(symbol=None), "symbol"),
            (dict(qty=None), "qty"),
            (dict(permit=""), "permit"),
            (dict(permit="x" * 4097), "permit"),
            (dict(target_plan_id="p-0"), "target_plan_id"),
            (dict(meta=[1]), "meta"),
            (dict(meta={"kelly_fraction": 1.5}), "meta"),
            (dict(meta={"kelly_fraction": True}), "meta"),
            (dict(meta={"x": "y" * 4100}), "meta"),
            (dict(meta={"d": Decimal("1")}), "meta"),
            (dict(meta={"n": float("nan")}), "meta"),
        ]
        for over, field in cases:
            with self.subTest(over=over), self.assertRaises(PlanError) as cm:
                build_plan(**order(**over))
            self.assertEqual(cm.exception.field, field)

    def test_identifier_length_counts_utf16_units_like_the_executor(self):
        self.assertEqual(build_plan(**order(symbol="😀" * 64))["symbol"], "😀" * 64)  # 128 units
        with self.assertRaises(PlanError):
            build_plan(**order(symbol="😀" * 65))
        with self.assertRaises(PlanError):
            build_plan(**order(symbol="\ud800"))

    def test_cancels(self):
        c = build_plan(plan_id="c-1", source="bot", action="cancel", symbol="BTCUSDT", target_plan_id="p-1", created_at=1_700_000_000_000)
        self.assertEqual(c["action"], "cancel")
        with self.assertRaises(PlanError) as cm:
            build_plan(plan_id="c-1", source="bot", action="cancel", symbol="BTCUSDT", created_at=1_700_000_000_000)
        self.assertEqual(cm.exception.field, "target_plan_id")
        with self.assertRaises(PlanError) as cm:
            build_plan(**order(action="cancel", target_plan_id="p-0"))
        self.assertEqual(cm.exception.field, "side")
        a = build_plan(plan_id="c-2", source="bot", action="cancel_all", created_at=1_700_000_000_000)
        self.assertNotIn("symbol", a)

    def test_meta_with_a_kelly_fraction(self):
        p = build_plan(**order(meta={"kelly_fraction": 0.25, "why": "ok"}))
        self.assertIn('"meta":{"kelly_fraction":0.25,"why":"ok"}', plan_text(p))


class PlanText(unittest.TestCase):
    def test_strict_parsing(self):
        good = json.dumps(build_plan(**order()))
        self.assertEqual(parse_plan_text(good)["qty"], "0.5")
        cases = [
            (good.replace('"qty": "0.5"', '"qty": 0.5'), "qty"),
            (good.replace('"qty": "0.5"', '"qty": 3'), "qty"),
            (good[:-1] + ', "side": "SELL"}', "side"),
            (good[:-1] + ', "qtty": "1"}', "qtty"),
            (good.replace("1700000000000", "1700000000"), "created_at"),
            (good.replace("1700000000000", "1700000000000.0"), "created_at"),
            (good[:-1] + ', "meta": {"k": NaN}}', "plan"),
            (good[:-1] + ', "account": null}', "account"),
            ("[1]", "plan"),
            ("{", "plan"),
            (good[:-1] + ', "meta": ' + "[" * 40 + "]" * 40 + "}", "plan"),
            (good[:-1] + ', "meta": {"x": "' + "y" * 17000 + '"}}', "plan"),
        ]
        for text, field in cases:
            with self.subTest(text=text[:80]), self.assertRaises(PlanError) as cm:
                parse_plan_text(text)
            self.assertEqual(cm.exception.field, field)

    def test_plan_text_is_compact_json(self):
        text = plan_text(build_plan(**order(symbol="BTC€")))
        self.assertEqual(
            text,
            '{"v":1,"plan_id":"p-1","source":"bot","venue":"paper","symbol":"BTC€","side":"BUY","qty":"0.5","created_at":1700000000000}',
        )


class SignPlan(unittest.TestCase):
    def test_text_is_signed_as_its_exact_utf8_bytes(self):
        text = ' {"v":1,"plan_id":"p-1","source":"bot","venue":"paper","symbol":"BTC€","side":"BUY","qty":"0.5","created_at":1700000000000}\n'
        s = sign_plan(text, HmacKey("bot-k1", SECRET))
        self.assertEqual(s.plan, text)
        expected = b64u(hmac.new(SECRET.encode(), text.encode("utf-8"), hashlib.sha256).digest())
        self.assertEqual(s.auth, f"hmac-sha256:bot-k1:{expected}")
        self.assertEqual(s.plan_id, "p-1")

    def test_a_dict_is_serialised_once_and_that_text_signed(self):
        s = sign_plan(build_plan(**order()), HmacKey("bot-k1", SECRET))
        self.assertEqual(s.plan, plan_text(build_plan(**order())))
        sig = s.auth.split(":")[2]
        self.assertEqual(sig, b64u(hmac.new(SECRET.encode(), s.plan.encode(), hashlib.sha256).digest()))

    def test_key_binding_is_checked_when_known(self):
        with self.assertRaises(PlanError) as cm:
            sign_plan(build_plan(**order()), HmacKey("k1", SECRET, source="other"))
        self.assertEqual(cm.exception.field, "source")
        with self.assertRaises(SigningKeyError):
            sign_plan(build_plan(**order()), HmacKey("gov", SECRET, role="permit_issuer"))
        with self.assertRaises(PlanError):
            sign_plan(b"{}", HmacKey("k1", SECRET))


if __name__ == "__main__":
    unittest.main()
