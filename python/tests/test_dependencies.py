"""Without the optional packages: HMAC signing works, the rest fails naming the package."""

import subprocess
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


class MissingPackages(unittest.TestCase):
    def test_without_cryptography(self):
        r = run(
            "import sys; sys.modules['cryptography'] = None\n"
            "import intentgate_producer as ig\n"
            "k = ig.HmacKey('k', 'y' * 32)\n"
            "print(ig.sign_plan(ig.build_plan(plan_id='p', source='s', symbol='X', side='BUY', qty='1'), k).auth[:12])\n"
            "try:\n"
            "    ig.Ed25519Key('k', 'AAAA')\n"
            "except ig.MissingDependencyError as e:\n"
            "    print('missing', e.package, '|', e)\n"
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("hmac-sha256:", r.stdout)
        self.assertIn("missing cryptography |", r.stdout)
        self.assertIn("python3-cryptography", r.stdout)

    def test_without_redis(self):
        r = run(
            "import sys; sys.modules['redis'] = None\n"
            "import intentgate_producer as ig\n"
            "try:\n"
            "    ig.Producer('redis://127.0.0.1:1')\n"
            "except ig.MissingDependencyError as e:\n"
            "    print('missing', e.package, '|', e)\n"
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("missing redis |", r.stdout)
        self.assertIn("python3-redis", r.stdout)


if __name__ == "__main__":
    unittest.main()
