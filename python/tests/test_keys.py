import json
import unittest

from intentgate_producer import Ed25519Key, HmacKey, SigningKeyError, build_plan, key_from_env, load_key, make_key, sign_plan

from .helpers import (
    PKCS8_PREFIX,
    RFC8032_PKCS8,
    RFC8032_PUBLIC,
    RFC8032_SEED,
    RFC8032_SIG_EMPTY,
    SECRET,
    b64u,
    b64u_decode,
    order,
)


class Hmac(unittest.TestCase):
    def test_secret_rules(self):
        self.assertEqual(HmacKey("k1", SECRET).alg, "hmac-sha256")
        with self.assertRaises(SigningKeyError) as cm:
            HmacKey("k1", "short")
        self.assertIn("32", str(cm.exception))
        with self.assertRaises(SigningKeyError):
            HmacKey("k1", SECRET.encode())  # bytes: the secret is text
        for bad in ["", "a:b", "x" * 65, None]:
            with self.subTest(key_id=bad), self.assertRaises(SigningKeyError):
                HmacKey(bad, SECRET)

    def test_base64_looking_secret_is_not_decoded(self):
        a = HmacKey("k", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")
        b = HmacKey("k", "secretsecretsecretsecretsecretsecret")
        self.assertNotEqual(a.sign(b"x"), b.sign(b"x"))


class Ed25519(unittest.TestCase):
    def test_rfc8032_vector_from_pkcs8_and_seed(self):
        for text in [RFC8032_PKCS8, b64u(RFC8032_SEED), RFC8032_PKCS8 + "=", f"  {RFC8032_PKCS8}\n"]:
            with self.subTest(text=text[:10]):
                k = Ed25519Key("ed-k1", text)
                self.assertEqual(k.public_key, b64u(RFC8032_PUBLIC))
                self.assertEqual(k.sign(b""), b64u(RFC8032_SIG_EMPTY))

    def test_deterministic_and_verifiable(self):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        k = Ed25519Key("ed-k1", RFC8032_PKCS8)
        s = sign_plan(json.dumps(build_plan(**order())), k)
        alg, key_id, sig = s.auth.split(":")
        self.assertEqual((alg, key_id), ("ed25519", "ed-k1"))
        self.assertNotIn("=", sig)
        Ed25519PublicKey.from_public_bytes(RFC8032_PUBLIC).verify(b64u_decode(sig), s.plan.encode())
        self.assertEqual(sign_plan(json.dumps(build_plan(**order())), k).auth, s.auth)

    def test_pkcs8_with_public_key_attached(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        self.assertTrue(der.startswith(PKCS8_PREFIX))
        self.assertEqual(Ed25519Key("k", b64u(der)).sign(b"m"), b64u(key.sign(b"m")))

    def test_malformed_keys(self):
        for bad in ["not base64!", "", b64u(b"x" * 31), b64u(b"\x30" * 48), "YWJj"]:
            with self.subTest(bad=bad), self.assertRaises(SigningKeyError):
                Ed25519Key("k", bad)
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        p256 = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with self.assertRaises(SigningKeyError) as cm:
            Ed25519Key("k", b64u(p256))
        self.assertIn("not Ed25519", str(cm.exception))


class Loading(unittest.TestCase):
    def test_keys_gen_output(self):
        out = {
            "key_id": "bot-k1",
            "alg": "ed25519",
            "private_key": RFC8032_PKCS8,
            "public_key": b64u(RFC8032_PUBLIC),
            "config": {"keys": {"bot-k1": {"alg": "ed25519", "public_key": b64u(RFC8032_PUBLIC), "source": "bot"}}},
        }
        k = load_key(json.dumps(out, indent=2))
        self.assertIsInstance(k, Ed25519Key)
        self.assertEqual((k.key_id, k.source, k.role), ("bot-k1", "bot", None))
        gov = load_key(
            {
                "key_id": "gov",
                "alg": "hmac-sha256",
                "secret": SECRET,
                "secret_env": "IG_SECRET_GOV",
                "config": {"keys": {"gov": {"alg": "hmac-sha256", "secret_env": "IG_SECRET_GOV", "role": "permit_issuer"}}},
            }
        )
        self.assertEqual((gov.alg, gov.role, gov.source), ("hmac-sha256", "permit_issuer", None))
        for bad in ["{", "[]", json.dumps({"key_id": "k", "alg": "rsa"}), json.dumps({"key_id": "k", "alg": "ed25519"})]:
            with self.subTest(bad=bad), self.assertRaises(SigningKeyError):
                load_key(bad)

    def test_from_env(self):
        k = key_from_env("k", "hmac-sha256", "IG_X", environ={"IG_X": SECRET + "\n"})
        self.assertEqual(k.sign(b"a"), HmacKey("k", SECRET).sign(b"a"))
        with self.assertRaises(SigningKeyError) as cm:
            key_from_env("k", "hmac-sha256", "IG_MISSING", environ={})
        self.assertIn("IG_MISSING", str(cm.exception))
        with self.assertRaises(SigningKeyError):
            make_key("rsa", "k", "x")


if __name__ == "__main__":
    unittest.main()
