"""The rules of signing up: which mode lets whom in, and what a new account needs.

Modes (``instance.registration``): ``open`` makes the account at once;
``approval`` keeps the sign-up pending until an admin approves it;
``invite`` lets in only those with a usable invite; ``closed`` lets nobody
in. An invite works in every mode but ``closed`` and skips approval. The
checks are values in, a list of reasons out, so a page can show them all at
once and the CLI and a test can use the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from agora_node.errors import BadRequest
from agora_node.processing.accounts import MIN_PASSWORD_LENGTH, check_username

MAX_REASON = 1000
MAX_PASSWORD_LENGTH = 200


@dataclass(frozen=True)
class SignupForm:
    username: str
    password: str
    confirm: str
    reason: str = ""
    agreed: bool = False
    invite: str = ""


def outcome(mode: str, *, invited: bool) -> str:
    """``account`` (made now), ``pending`` (waits for approval), or ``refused``."""
    if mode == "closed":
        return "refused"
    if invited or mode == "open":
        return "account"
    if mode == "approval":
        return "pending"
    return "refused"  # "invite" without a usable invite


def problems(entry: SignupForm, *, mode: str, has_rules: bool, invited: bool) -> list[str]:
    """What is wrong with a sign-up, worded for the person typing it (empty: nothing)."""
    found: list[str] = []
    try:
        check_username(entry.username)
    except BadRequest as exc:
        found.append(f"Username: {exc.public_message}.")
    if len(entry.password) < MIN_PASSWORD_LENGTH:
        found.append(f"Password: at least {MIN_PASSWORD_LENGTH} characters, please.")
    elif len(entry.password) > MAX_PASSWORD_LENGTH:
        found.append(f"Password: at most {MAX_PASSWORD_LENGTH} characters.")
    elif entry.password.lower() == entry.username.lower() or len(set(entry.password)) < 4:
        found.append("Password: too easy to guess; use more different characters.")
    if entry.password != entry.confirm:
        found.append("The two passwords differ.")
    if has_rules and not entry.agreed:
        found.append("Please read and agree to the rules.")
    if mode == "approval" and not invited:
        if not entry.reason.strip():
            found.append("Please say why you want to join.")
        elif len(entry.reason) > MAX_REASON:
            found.append(f"The reason is at most {MAX_REASON} characters.")
    return found
