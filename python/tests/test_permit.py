import hashlib
import hmac
import json
import unittest
from decimal import Decimal

from intentgate_producer import Ed25519Key, HmacKey, PermitError, SigningKeyError, decode_permit, issue_permit, now_ms

from .helpers import RFC8032_PKCS8, RFC8032_PUBLIC, SECRET, b64u, b64u_decode

ARGS = dict(plan_id="p-1", symbol="BTCUSDT", side="BUY", max_qty=Decimal("1.5"), exp=1_764_864_060_000, permit_id="pm-1")


class IssuePermit(unittest.TestCase):
    def test_hmac_token_layout(self):
        token = issue_permit(HmacKey("gov-k1", SECRET), **ARGS)
        payload, sig = token.split(".")
        raw = b64u_decode(payload)
        self.assertEqual(
            raw.decode(),
            '{"v":1,"permit_id":"pm-1","plan_id":"p-1","symbol":"BTCUSDT","side":"BUY","max_qty":"1.5",'
            '"reduce_only":false,"exp":1764864060000,"iss":"gov-k1"}',
        )
        self.assertEqual(sig, b64u(hmac.new(SECRET.encode(), payload.encode("ascii"), hashlib.sha256).digest()))
        self.assertEqual(decode_permit(token)["iss"], "gov-k1")

    def test_ed25519_verifies(self):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        token = issue_permit(Ed25519Key("gov-ed", RFC8032_PKCS8), **{**ARGS, "reduce_only": True})
        payload, sig = token.split(".")
        Ed25519PublicKey.from_public_bytes(RFC8032_PUBLIC).verify(b64u_decode(sig), payload.encode("ascii"))
        self.assertTrue(json.loads(b64u_decode(payload))["reduce_only"])

    def test_defaults(self):
        before = now_ms()
        body = decode_permit(issue_permit(HmacKey("gov", SECRET), plan_id="p", symbol="S", side="SELL", max_qty="2"))
        self.assertRegex(body["permit_id"], r"^[0-9a-f-]{36}$")
        self.assertGreaterEqual(body["exp"], before + 60_000)
        self.assertLess(body["exp"], before + 120_000)

    def test_refusals(self):
        key = HmacKey("gov", SECRET)
        cases = [
            (dict(max_qty=0.5), "max_qty"),
            (dict(max_qty="1e3"), "max_qty"),
            (dict(exp=1_764_864_060), "exp"),
            (dict(side="buy"), "side"),
            (dict(permit_id="has space"), "permit_id"),
            (dict(plan_id=""), "plan_id"),
            (dict(iss="other"), "iss"),
            (dict(reduce_only="no"), "reduce_only"),
        ]
        for over, field in cases:
            with self.subTest(over=over), self.assertRaises(PermitError) as cm:
                issue_permit(key, **{**ARGS, **over})
            self.assertEqual(cm.exception.field, field)
        with self.assertRaises(SigningKeyError):
            issue_permit(HmacKey("bot-k1", SECRET, source="bot"), **ARGS)


if __name__ == "__main__":
    unittest.main()
