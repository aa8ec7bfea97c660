"""check_policy rules and parse-time refusals, with a frozen clock."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import formatdate

import pytest

from agora_node.errors import SignatureError
from agora_node.protocol.httpsig import (
    SignaturePolicy,
    SigningKey,
    check_policy,
    compute_content_digest,
    compute_digest_header,
    parse_http_date,
    parse_signature,
    sign_request,
    verify_signature,
)
from agora_node.protocol.httpsig.cavage import sign_cavage
from agora_node.protocol.httpsig.message import Target, normalise_headers
from agora_node.protocol.httpsig.rfc9421 import sign_rfc9421
from agora_node.protocol.httpsig.sfv import BareItem

NOW = 1_700_000_000.0
NOW_DATE = formatdate(NOW, usegmt=True)
URL = "https://remote.example/users/bob/inbox"
BODY = b'{"type": "Follow"}'
FULL_POST = ("(request-target)", "host", "date", "digest")


def cavage_request(
    key: SigningKey,
    covered: Sequence[str],
    *,
    method: str = "POST",
    date: str = NOW_DATE,
    digest: bool = True,
    created: int | None = None,
    expires: int | None = None,
) -> dict[str, str]:
    headers = {"Host": "remote.example", "Date": date}
    if digest:
        headers["Digest"] = compute_digest_header(BODY)
    signature = sign_cavage(
        method,
        Target(URL),
        normalise_headers(headers),
        key,
        covered,
        created=created,
        expires=expires,
    )
    return {**headers, "Signature": signature}


def rfc9421_request(
    key: SigningKey, components: Sequence[str], params: dict[str, BareItem], *, digest: bool = True
) -> dict[str, str]:
    headers = {"Host": "remote.example", "Date": NOW_DATE}
    if digest:
        headers["Content-Digest"] = compute_content_digest(BODY)
    signature_input, signature = sign_rfc9421(
        "POST",
        Target(URL),
        normalise_headers(headers),
        key,
        components,
        {**params, "keyid": key.key_id},
    )
    return {**headers, "Signature-Input": signature_input, "Signature": signature}


def check(
    key: SigningKey,
    headers: dict[str, str],
    *,
    method: str = "POST",
    now: float = NOW,
    policy: SignaturePolicy | None = None,
    body: bytes | None = BODY,
) -> None:
    parsed = parse_signature(method, URL, headers)
    verify_signature(parsed, key.private_key.public_key())  # the signature itself is fine
    check_policy(parsed, method, headers, body, now=now, policy=policy or SignaturePolicy())


def reason_of(
    key: SigningKey,
    headers: dict[str, str],
    *,
    method: str = "POST",
    now: float = NOW,
    policy: SignaturePolicy | None = None,
    body: bytes | None = BODY,
) -> str:
    with pytest.raises(SignatureError) as info:
        check(key, headers, method=method, now=now, policy=policy, body=body)
    return info.value.reason


def test_full_cavage_post_passes(rsa_key: SigningKey) -> None:
    check(rsa_key, cavage_request(rsa_key, FULL_POST))


# --- digest -----------------------------------------------------------------------


def test_post_without_digest_is_missing_digest(rsa_key: SigningKey) -> None:
    headers = cavage_request(rsa_key, ("(request-target)", "host", "date"), digest=False)
    assert reason_of(rsa_key, headers) == "missing_digest"


def test_post_with_uncovered_digest_is_header_not_covered(rsa_key: SigningKey) -> None:
    headers = cavage_request(rsa_key, ("(request-target)", "host", "date"))
    assert reason_of(rsa_key, headers) == "header_not_covered"


def test_uncovered_but_wrong_digest_is_still_a_mismatch(rsa_key: SigningKey) -> None:
    headers = cavage_request(rsa_key, ("(request-target)", "host", "date"))
    headers["Digest"] = compute_digest_header(b"other")
    assert reason_of(rsa_key, headers) == "digest_mismatch"


def test_digest_can_be_waived_by_policy(rsa_key: SigningKey) -> None:
    headers = cavage_request(rsa_key, ("(request-target)", "host", "date"), digest=False)
    check(rsa_key, headers, policy=SignaturePolicy(require_digest_for_post=False))


def test_missing_body_counts_as_empty_not_as_skipped(rsa_key: SigningKey) -> None:
    assert reason_of(rsa_key, cavage_request(rsa_key, FULL_POST), body=None) == "digest_mismatch"


def test_only_unknown_digest_algorithms_is_missing_digest(rsa_key: SigningKey) -> None:
    headers = {"Host": "remote.example", "Date": NOW_DATE, "Digest": "MD5=Sd/dVLAcvNLSq16eXua5uQ=="}
    headers["Signature"] = sign_cavage(
        "POST", Target(URL), normalise_headers(headers), rsa_key, FULL_POST
    )
    assert reason_of(rsa_key, headers) == "missing_digest"


# --- dates ------------------------------------------------------------------------


def test_date_window_edges(rsa_key: SigningKey) -> None:
    headers = cavage_request(rsa_key, FULL_POST)
    check(rsa_key, headers, now=NOW + 3900)  # 1 h + 5 min old: still fine
    assert reason_of(rsa_key, headers, now=NOW + 3901) == "stale_date"
    check(rsa_key, headers, now=NOW - 3600)  # 1 h in the future: still fine
    assert reason_of(rsa_key, headers, now=NOW - 3601) == "future_date"


def test_custom_window(rsa_key: SigningKey) -> None:
    headers = cavage_request(rsa_key, FULL_POST)
    policy = SignaturePolicy(max_age_seconds=30, max_future_seconds=5)
    assert reason_of(rsa_key, headers, now=NOW + 31, policy=policy) == "stale_date"
    assert reason_of(rsa_key, headers, now=NOW - 6, policy=policy) == "future_date"


@pytest.mark.parametrize(
    "date",
    [
        "yesterday",
        "",
        "Tue, 31 Feb 2023 22:13:20 GMT",
        "Tue, 14 Nov 2023 25:13:20 GMT",
        "1700000000",
    ],
)
def test_unparsable_date_is_bad_date(date: str, rsa_key: SigningKey) -> None:
    assert reason_of(rsa_key, cavage_request(rsa_key, FULL_POST, date=date)) == "bad_date"


def test_http_date_forms() -> None:
    assert parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT") == NOW
    assert parse_http_date("Tuesday, 14-Nov-23 22:13:20 GMT") == NOW
    assert parse_http_date("Tue Nov 14 22:13:20 2023") == NOW
    assert parse_http_date("Tue, 14 Nov 2023 23:13:20 +0100") == NOW


def test_created_instead_of_date(ed_key: SigningKey) -> None:
    covered = ("(request-target)", "host", "(created)", "digest")
    check(ed_key, cavage_request(ed_key, covered, created=int(NOW)))
    assert (
        reason_of(ed_key, cavage_request(ed_key, covered, created=int(NOW) + 3601)) == "future_date"
    )
    assert (
        reason_of(ed_key, cavage_request(ed_key, covered, created=int(NOW) - 3901)) == "stale_date"
    )


def test_cavage_expires(ed_key: SigningKey) -> None:
    covered = (*FULL_POST, "(expires)")
    headers = cavage_request(ed_key, covered, expires=int(NOW) + 10)
    check(ed_key, headers, now=NOW + 10)
    assert reason_of(ed_key, headers, now=NOW + 11) == "expired"


# --- coverage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "covered",
    [
        ("host", "date", "digest"),
        ("(request-target)", "date", "digest"),
        ("(request-target)", "host", "digest"),
        ("date", "digest"),
    ],
)
def test_post_must_cover_target_host_and_time(
    covered: tuple[str, ...], rsa_key: SigningKey
) -> None:
    assert reason_of(rsa_key, cavage_request(rsa_key, covered)) == "header_not_covered"


def test_get_rules(rsa_key: SigningKey) -> None:
    def get(covered: tuple[str, ...]) -> dict[str, str]:
        return cavage_request(rsa_key, covered, method="GET", digest=False)

    check(rsa_key, get(("(request-target)", "host", "date")), method="GET", body=None)
    no_date = get(("(request-target)", "host"))
    assert reason_of(rsa_key, no_date, method="GET", body=None) == "header_not_covered"
    lenient = SignaturePolicy(require_date_for_get=False)
    check(rsa_key, no_date, method="GET", body=None, policy=lenient)
    no_host = get(("(request-target)", "date"))
    assert reason_of(rsa_key, no_host, method="GET", body=None) == "header_not_covered"
    no_target = get(("host", "date"))
    assert reason_of(rsa_key, no_target, method="GET", body=None) == "header_not_covered"


# --- RFC 9421 -----------------------------------------------------------------------

RFC_POST = ("@method", "@target-uri", "@authority", "content-digest")


def test_rfc9421_full_post_passes(rsa_key: SigningKey) -> None:
    check(rsa_key, rfc9421_request(rsa_key, RFC_POST, {"created": int(NOW)}))
    check(
        rsa_key,
        rfc9421_request(
            rsa_key, ("@method", "@path", "@authority", "content-digest"), {"created": int(NOW)}
        ),
    )


@pytest.mark.parametrize(
    ("components", "reason"),
    [
        (("@target-uri", "@authority", "content-digest"), "header_not_covered"),
        (("@method", "@authority", "content-digest"), "header_not_covered"),
        (("@method", "@path", "content-digest"), "header_not_covered"),
        (("@method", "@target-uri", "@authority"), "header_not_covered"),
    ],
)
def test_rfc9421_coverage(components: tuple[str, ...], reason: str, rsa_key: SigningKey) -> None:
    assert reason_of(rsa_key, rfc9421_request(rsa_key, components, {"created": int(NOW)})) == reason


def test_rfc9421_without_any_time_is_header_not_covered(rsa_key: SigningKey) -> None:
    assert reason_of(rsa_key, rfc9421_request(rsa_key, RFC_POST, {})) == "header_not_covered"


def test_rfc9421_time_params(rsa_key: SigningKey) -> None:
    assert (
        reason_of(rsa_key, rfc9421_request(rsa_key, RFC_POST, {"created": int(NOW) - 3901}))
        == "stale_date"
    )
    assert (
        reason_of(rsa_key, rfc9421_request(rsa_key, RFC_POST, {"created": int(NOW) + 3601}))
        == "future_date"
    )
    expiring = rfc9421_request(rsa_key, RFC_POST, {"created": int(NOW), "expires": int(NOW) + 60})
    check(rsa_key, expiring, now=NOW + 60)
    assert reason_of(rsa_key, expiring, now=NOW + 61) == "expired"


def test_rfc9421_missing_content_digest(rsa_key: SigningKey) -> None:
    components = ("@method", "@target-uri", "@authority")
    headers = rfc9421_request(rsa_key, components, {"created": int(NOW)}, digest=False)
    assert reason_of(rsa_key, headers) == "missing_digest"


# --- parse-time refusals ----------------------------------------------------------


def test_no_signature_is_missing_signature() -> None:
    for headers in ({}, {"Host": "x"}, {"Authorization": "Bearer abc"}):
        with pytest.raises(SignatureError) as info:
            parse_signature("POST", URL, headers)
        assert info.value.reason == "missing_signature"


def test_rfc9421_without_signature_field_is_missing_signature() -> None:
    with pytest.raises(SignatureError) as info:
        parse_signature("POST", URL, {"Signature-Input": 'sig1=();keyid="k"'})
    assert info.value.reason == "missing_signature"


@pytest.mark.parametrize(
    "headers",
    [
        {
            "Signature": 'keyId="k",algorithm="rsa-sha1",headers="date",signature="AAAA"',
            "Date": NOW_DATE,
        },
        {"Signature": 'keyId="k",algorithm="dsa-sha256",signature="AAAA"', "Date": NOW_DATE},
        {
            "Signature-Input": 'sig1=("@method");keyid="k";alg="rsa-v1_5-sha1"',
            "Signature": "sig1=:AAAA:",
        },
    ],
)
def test_unknown_algorithm_is_unsupported(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError) as info:
        parse_signature("POST", URL, headers)
    assert info.value.reason == "unsupported_algorithm"


def test_signature_field_over_8k_is_unparsable(rsa_key: SigningKey) -> None:
    headers = sign_request("GET", URL, {}, None, rsa_key, now=NOW)
    headers["Signature"] = headers["Signature"].replace('keyId="', 'keyId="' + "a" * 8192)
    with pytest.raises(SignatureError) as info:
        parse_signature("GET", URL, headers)
    assert info.value.reason == "unparsable_header"
