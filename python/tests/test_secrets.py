"""Canary: no key material in any message, repr, str, args or traceback this package produces."""

import json
import pickle
import traceback
import unittest

from intentgate_producer import (
    Ed25519Key,
    HmacKey,
    IntentGateError,
    Producer,
    build_plan,
    issue_permit,
    key_from_env,
    load_key,
    sign_plan,
)

from .helpers import PKCS8_PREFIX, b64u, order

CANARY = "CANARYzq8vXsecretvalue"
HMAC_SECRET = CANARY + "-" + "x" * 20  # long enough to be valid
SEED = (CANARY.encode() + b"0" * 32)[:32]
ED_PRIVATE = b64u(PKCS8_PREFIX + SEED)


def everything_about(exc: BaseException) -> str:
    """The exception as printed, and every exception chained to it (shown or not) with its attributes."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: BaseException | None = exc
    while seen is not None:
        parts += [str(seen), repr(seen), repr(seen.args), repr(getattr(seen, "__dict__", {}))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


class Canary(unittest.TestCase):
    def assertClean(self, text: str) -> None:
        self.assertNotIn(CANARY, text)
        self.assertNotIn(ED_PRIVATE, text)
        self.assertNotIn(ED_PRIVATE[:30], text)

    def test_key_objects_never_show_their_secret(self):
        keys = [HmacKey("k1", HMAC_SECRET, source="bot"), Ed25519Key("k2", ED_PRIVATE, role="permit_issuer")]
        for key in keys:
            self.assertClean(repr(key) + str(key) + f"{key}" + repr([key]) + repr(dir(key)))
            self.assertIn("<redacted>", repr(key))
            self.assertFalse(hasattr(key, "__dict__"))
            with self.assertRaises(TypeError) as cm:
                pickle.dumps(key)
            self.assertClean(everything_about(cm.exception))
        self.assertClean(repr(Producer(object(), key=keys[0], prefix="p:")))

    def test_errors_about_keys_never_contain_the_material(self):
        attempts = [
            lambda: HmacKey("k1", CANARY),  # too short
            lambda: HmacKey("bad id", HMAC_SECRET),
            lambda: HmacKey("k1", HMAC_SECRET + "\ud800"),
            lambda: Ed25519Key("k1", CANARY + "!"),
            lambda: Ed25519Key("k1", b64u(CANARY.encode() * 3)),
            lambda: Ed25519Key("k1", b64u(PKCS8_PREFIX[:-1] + b"\x21" + SEED + b"z")),
            lambda: load_key(json.dumps({"key_id": "k1", "alg": "hmac-sha256", "secret": CANARY})),
            lambda: load_key(json.dumps({"key_id": "k1", "alg": "ed25519", "private_key": CANARY + "?"})),
            lambda: load_key("{" + CANARY),
            lambda: key_from_env("k1", "hmac-sha256", "IG_X", environ={"IG_X": CANARY}),
            lambda: key_from_env("k1", "ed25519", "IG_X", environ={"IG_X": CANARY + "*"}),
            lambda: sign_plan({**build_plan(**order()), "x": 1}, HmacKey("k1", HMAC_SECRET)),
            lambda: sign_plan(build_plan(**order()), HmacKey("k1", HMAC_SECRET, source="other")),
            lambda: sign_plan(build_plan(**order()), Ed25519Key("gov", ED_PRIVATE, role="permit_issuer")),
            lambda: issue_permit(HmacKey("k1", HMAC_SECRET), plan_id="p", symbol="S", side="BUY", max_qty=0.1),
            lambda: issue_permit(HmacKey("k1", HMAC_SECRET, source="bot"), plan_id="p", symbol="S", side="BUY", max_qty="1"),
        ]
        for i, attempt in enumerate(attempts):
            with self.subTest(i=i):
                with self.assertRaises(IntentGateError) as cm:
                    attempt()
                self.assertClean(everything_about(cm.exception))


if __name__ == "__main__":
    unittest.main()
