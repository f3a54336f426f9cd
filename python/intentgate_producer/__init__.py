"""IntentGate producer package: sign, build, publish and follow trading plans.

Standard library only, apart from ``redis`` (to publish and read results) and
``cryptography`` (only for ed25519 keys). See docs/python.md in the
IntentGate repository.
"""

from .errors import (
    IntentGateError,
    MissingDependencyError,
    PermitError,
    PlanError,
    ResultError,
    ResultTimeout,
    SigningKeyError,
    UsageError,
)
from .keys import Ed25519Key, HmacKey, SigningKey, key_from_env, load_key, make_key
from .permit import decode_permit, issue_permit
from .plan import SignedPlan, build_plan, check_plan, now_ms, parse_plan_text, plan_text, sign_plan
from .producer import Producer, Published, stream_keys
from .results import Result, parse_result

__version__ = "0.1.0"

__all__ = [
    "Ed25519Key",
    "HmacKey",
    "IntentGateError",
    "MissingDependencyError",
    "PermitError",
    "PlanError",
    "Producer",
    "Published",
    "Result",
    "ResultError",
    "ResultTimeout",
    "SignedPlan",
    "SigningKey",
    "SigningKeyError",
    "UsageError",
    "build_plan",
    "check_plan",
    "decode_permit",
    "issue_permit",
    "key_from_env",
    "load_key",
    "make_key",
    "now_ms",
    "parse_plan_text",
    "parse_result",
    "plan_text",
    "sign_plan",
    "stream_keys",
]
