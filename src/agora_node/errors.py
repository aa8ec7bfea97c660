"""One error hierarchy for the whole node.

Every error that can reach a client carries an HTTP status and a *public*
message that is safe to show to anyone (no keys, paths or stack traces).
The middleware in ``app.py`` renders them as JSON or HTML; anything that is
not an ``AgoraError`` becomes a bare 500 with no detail.
"""

from __future__ import annotations

from typing import Any


class AgoraError(Exception):
    """Base error: ``status`` and ``public_message`` are shown to the client."""

    status: int = 500
    default_message: str = "internal error"
    # Headers the answer carries besides the body (Retry-After, rate limits).
    response_headers: dict[str, str] = {}  # noqa: RUF012 - replaced, never changed in place

    def __init__(self, public_message: str | None = None, **details: Any) -> None:
        self.public_message = public_message or self.default_message
        self.details = details
        super().__init__(self.public_message)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.public_message}
        body.update(self.details)
        return body


class BadRequest(AgoraError):
    status = 400
    default_message = "bad request"


class Unauthorized(AgoraError):
    status = 401
    default_message = "unauthorized"


class Forbidden(AgoraError):
    status = 403
    default_message = "forbidden"


class NotFound(AgoraError):
    status = 404
    default_message = "not found"


class MethodNotAllowed(AgoraError):
    status = 405
    default_message = "method not allowed"


class NotAcceptable(AgoraError):
    status = 406
    default_message = "not acceptable"


class Conflict(AgoraError):
    status = 409
    default_message = "conflict"


class Gone(AgoraError):
    """410; ``document`` (a Tombstone) is sent as the body to federation peers."""

    status = 410
    default_message = "gone"

    def __init__(
        self, public_message: str | None = None, *, document: dict[str, Any] | None = None
    ) -> None:
        self.document = document
        super().__init__(public_message)


class PayloadTooLarge(AgoraError):
    status = 413
    default_message = "payload too large"


class UnsupportedMediaType(AgoraError):
    status = 415
    default_message = "unsupported media type"


class UnprocessableEntity(AgoraError):
    status = 422
    default_message = "unprocessable entity"


class TooManyRequests(AgoraError):
    status = 429
    default_message = "too many requests"


class ServiceUnavailable(AgoraError):
    status = 503
    default_message = "service unavailable"


class ConfigError(AgoraError):
    """A configuration file is wrong; the message names the key."""

    status = 500
    default_message = "invalid configuration"


class CommandError(AgoraError):
    """A command-line request that cannot be carried out; the CLI prints the
    message and exits with status 2 (as it does for every ``AgoraError``)."""

    status = 400
    default_message = "the command cannot be carried out"


class SignatureError(Unauthorized):
    """An HTTP signature could not be accepted; ``reason`` is a stable code.

    Reasons: missing_signature, unparsable_header, header_not_covered,
    bad_date, stale_date, future_date, expired, digest_mismatch,
    missing_digest, unknown_key, key_owner_mismatch, bad_signature,
    unsupported_algorithm, key_gone.
    """

    def __init__(self, reason: str, public_message: str | None = None) -> None:
        self.reason = reason
        super().__init__(public_message or reason.replace("_", " "), reason=reason)


class FetchError(AgoraError):
    """A remote fetch failed or was refused (SSRF guard, size, content type...)."""

    status = 502
    default_message = "remote fetch failed"

    def __init__(
        self, public_message: str | None = None, *, remote_status: int | None = None
    ) -> None:
        self.remote_status = remote_status
        super().__init__(public_message)
