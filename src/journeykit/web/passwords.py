"""Password hashing with Argon2id (argon2-cffi's defaults: RFC 9106's low-memory profile)."""

from __future__ import annotations

from journeykit._optional import require

MIN_LENGTH = 10
# PasswordHasher arguments; tests make hashing cheap here. Verifying reads the cost from the hash.
HASHER_OPTIONS: dict[str, int] = {}


def _hasher() -> object:
    argon2 = require("argon2", extra="web")
    return argon2.PasswordHasher(**HASHER_OPTIONS)


def check_strength(password: str) -> None:
    from journeykit.web.errors import UserError

    if len(password) < MIN_LENGTH:
        raise UserError(f"password: expected at least {MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return str(_hasher().hash(password))  # type: ignore[attr-defined]


_DUMMY: list[str] = []


def verify_password(digest: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing user costs a dummy hash check (same time)."""
    argon2 = require("argon2", extra="web")
    hasher = _hasher()
    if digest is None:
        if not _DUMMY:
            _DUMMY.append(str(hasher.hash("not a password of anyone")))  # type: ignore[attr-defined]
        digest = _DUMMY[0]
        password = password + "\0"  # never matches the dummy
    try:
        return bool(hasher.verify(digest, password))  # type: ignore[attr-defined]
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False
