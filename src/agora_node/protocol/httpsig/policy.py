"""What a *valid* signature must also prove before we act on a request.

A cryptographically valid signature over only ``date`` says nothing about
the method, target, host or body, and an old one can be replayed.  These
rules make a signature bind the request it came with and be fresh:

- every request covers the target (cavage ``(request-target)``; RFC 9421
  ``@method`` plus ``@target-uri``/``@path``/``@request-target``) and the
  host (``host``; ``@authority``/``@target-uri``);
- requests with a body (POST/PUT/PATCH), and GET unless
  ``require_date_for_get`` is off, cover a time: ``date`` or
  ``(created)`` (cavage) / ``date`` or the always-signed ``created``
  parameter (RFC 9421);
- a covered ``Date`` and any ``created`` lie in the allowed window, and
  ``expires`` has not passed;
- requests with a body carry a covered ``Digest``/``Content-Digest`` and
  every known digest present matches the raw body.
"""

from __future__ import annotations

import re
import time
from datetime import date
from email.utils import parsedate_tz
from functools import lru_cache

from agora_node.errors import SignatureError
from agora_node.protocol.httpsig.digest import verify_body_digests
from agora_node.protocol.httpsig.message import HeaderSource, field_value, normalise_headers
from agora_node.protocol.httpsig.model import SCHEME_CAVAGE, ParsedSignature, SignaturePolicy

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
DEFAULT_POLICY = SignaturePolicy()

_IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_RFC9421_TARGET = frozenset({"@target-uri", "@path", "@request-target"})
_RFC9421_HOST = frozenset({"@authority", "@target-uri", "host"})
_DIGESTS = frozenset({"digest", "content-digest"})
_POLICY_HEADERS = _DIGESTS | {"date"}


def _fail(reason: str, detail: str) -> SignatureError:
    error = SignatureError(reason)
    error.add_note(detail)
    return error


@lru_cache(maxsize=256)
def parse_http_date(value: str) -> int:
    """Unix time of an HTTP date (IMF-fixdate; obsolete forms via email.utils).

    Cached: the requests signed within one second all carry the same Date."""
    try:
        match = _IMF_FIXDATE.fullmatch(value)
        if match:
            day_s, month_name, year_s, hour_s, minute_s, second_s = match.groups()
            year, month, day = int(year_s), _MONTHS[month_name], int(day_s)
            hour, minute, second = int(hour_s), int(minute_s), int(second_s)
            offset = 0
        else:
            parsed = parsedate_tz(value)
            if parsed is None:
                raise ValueError("not an HTTP date")
            year, month, day, hour, minute, second = parsed[:6]
            offset = parsed[9] or 0  # asctime has no zone and means GMT
        # date() validates the calendar day; the clock fields are checked here.
        days = date(year, month, day).toordinal() - _EPOCH_ORDINAL
        if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60):
            raise ValueError("time of day out of range")
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        raise _fail("bad_date", f"Date {value[:64]!r} does not parse") from exc
    return days * 86400 + hour * 3600 + minute * 60 + second - offset


def _check_window(stamp: int, now: float, policy: SignaturePolicy, what: str) -> None:
    if now - stamp > policy.max_age_seconds:
        raise _fail("stale_date", f"{what} is {int(now - stamp)}s old")
    if stamp - now > policy.max_future_seconds:
        raise _fail("future_date", f"{what} is {int(stamp - now)}s in the future")


def _check_coverage(parsed: ParsedSignature, covered: tuple[str, ...], needs_time: bool) -> None:
    # ``covered`` is a short tuple (at most MAX_COVERED names): membership
    # tests on it cost less than building a set per request.
    if parsed.scheme == SCHEME_CAVAGE:
        has_target = "(request-target)" in covered
        has_host = "host" in covered
        has_time = "date" in covered or "(created)" in covered
    else:
        has_target = "@method" in covered and any(n in covered for n in _RFC9421_TARGET)
        has_host = any(n in covered for n in _RFC9421_HOST)
        has_time = "date" in covered or parsed.created is not None
    if not has_target:
        raise _fail("header_not_covered", "signature does not cover the request target")
    if not has_host:
        raise _fail("header_not_covered", "signature does not cover the host")
    if needs_time and not has_time:
        raise _fail("header_not_covered", "signature does not cover a date")


def check_policy(
    parsed: ParsedSignature,
    method: str,
    headers: HeaderSource,
    body: bytes | None,
    *,
    policy: SignaturePolicy = DEFAULT_POLICY,
    now: float | None = None,
) -> None:
    """Raise ``SignatureError`` unless the signature binds and dates the request.

    ``headers`` are the request's (any Mapping or CIMultiDict); ``body`` is
    the raw body as received (``None`` counts as empty).  Run this and
    ``verify_signature`` both: neither alone is enough.
    """
    clock = time.time() if now is None else now
    hdrs = normalise_headers(headers, only=_POLICY_HEADERS)
    has_body = method.upper() in BODY_METHODS
    covered = parsed.covered
    _check_coverage(parsed, covered, needs_time=has_body or policy.require_date_for_get)
    if "date" in covered:
        date_value = field_value(hdrs, "date")
        if date_value is None:
            raise _fail("bad_date", "covered Date header is missing")
        _check_window(parse_http_date(date_value), clock, policy, "Date")
    if parsed.created is not None:
        _check_window(parsed.created, clock, policy, "created")
    if parsed.expires is not None and clock > parsed.expires:
        raise _fail("expired", f"signature expired {int(clock - parsed.expires)}s ago")
    digest_checked = verify_body_digests(hdrs, body)
    if has_body and policy.require_digest_for_post:
        if not digest_checked:
            raise _fail("missing_digest", "request body has no Digest/Content-Digest")
        if "digest" not in covered and "content-digest" not in covered:
            raise _fail("header_not_covered", "signature does not cover the digest")
