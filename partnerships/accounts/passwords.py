"""Password policy (NCSC / NIST SP 800-63B): long, no composition rules, not common.

Hashing uses Werkzeug's scrypt. Strength is judged by zxcvbn, whose bundled list of
30,000 common passwords and its pattern matching (repeats, keyboard runs, dates,
the person's own name or email) catch what people actually choose.
"""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256
HASH_METHOD = "scrypt"

# A real hash to compare against when the account does not exist, so a failed
# sign-in takes the same time whether or not the email is registered.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0", method=HASH_METHOD)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)


def password_problem(password: str, user_inputs: list[str] | None = None) -> str | None:
    """Why this password is not acceptable, in plain English, or None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    inputs = [part for value in (user_inputs or []) for part in _parts(value)]
    result = zxcvbn(password[:100], user_inputs=inputs)
    if result["score"] < 2:
        warning = result["feedback"].get("warning") or "It would be easy to guess."
        return (
            f"Choose a password that is harder to guess. {warning} "
            "Try 3 or 4 random words together."
        ).replace("..", ".")
    return None


def _parts(value: str) -> list[str]:
    """A name or email split into the words someone might reuse in a password."""
    cleaned = value.lower().replace("@", " ").replace(".", " ").replace("-", " ")
    return [value.lower(), *[p for p in cleaned.split() if len(p) > 2]]
