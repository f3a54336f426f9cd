"""Exception classes of the IntentGate producer package.

Every exception raised on purpose by this package is an :class:`IntentGateError`.
No message, ``repr`` or ``args`` of any of them ever contains key material
(an HMAC secret or an Ed25519 private key): they name the field or the key id
and say what is wrong, never the value of a secret.
"""

from __future__ import annotations


class IntentGateError(Exception):
    """Base class of every error this package raises on purpose."""


class PlanError(IntentGateError, ValueError):
    """A plan the executor would refuse (or that would mean something else than
    intended): nothing was signed or published.

    ``field`` names the plan field (``"qty"``, ``"created_at"``, ``"plan"`` for
    the plan as a whole, the unknown name for an unknown field).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"plan field {field!r}: {message}")
        self.field = field
        self.reason = message


class SigningKeyError(IntentGateError, ValueError):
    """A key that cannot sign: malformed, wrong algorithm, wrong role. The message
    names the key id at most, never the key material."""


class PermitError(IntentGateError, ValueError):
    """A permit that cannot be issued; ``field`` names the permit field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"permit field {field!r}: {message}")
        self.field = field
        self.reason = message


class UsageError(IntentGateError, ValueError):
    """A wrong argument that is not a plan or permit field (a lane, a prefix, a timeout)."""


class MissingDependencyError(IntentGateError, ImportError):
    """An optional package is not installed: ``package`` is its import name."""

    def __init__(self, package: str, needed_for: str, debian: str) -> None:
        super().__init__(
            f"{needed_for} needs the Python package {package!r}, which is not installed "
            f"(Debian: apt-get install {debian}; elsewhere: pip install {package})"
        )
        self.package = package


class ResultError(IntentGateError, ValueError):
    """A result entry on the result stream that is not a wire-v1 result."""


class ResultTimeout(IntentGateError, TimeoutError):
    """No (final) result for a published entry within the timeout.

    ``published`` is the entry waited for; ``last_result`` the ``UNKNOWN``
    result seen while waiting for its reconciled follow-up, or ``None``.
    """

    def __init__(self, message: str, published: object, last_result: object | None = None) -> None:
        super().__init__(message)
        self.published = published
        self.last_result = last_result
