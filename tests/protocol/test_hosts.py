"""Host normalisation and origin comparison."""

from __future__ import annotations

import pytest

from agora_node.protocol.hosts import host_of, normalise_host, same_origin


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mastodon.example", "mastodon.example"),
        ("Mastodon.EXAMPLE", "mastodon.example"),
        ("mastodon.example.", "mastodon.example"),
        ("mastodon.example..", "mastodon.example"),
        ("  gts.example ", "gts.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("bücher.example.:8443", "xn--bcher-kva.example:8443"),
        ("gts.example:443", "gts.example:443"),  # no scheme here, so the port is kept
        ("gts.example:0443", "gts.example:443"),
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("[::1]", "[::1]"),
        ("[2001:DB8::1]:8443", "[2001:db8::1]:8443"),
        ("my_host.example", "my_host.example"),
    ],
)
def test_normalise_host(raw: str, expected: str) -> None:
    assert normalise_host(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", ".", "a b.example", "evil.example/path", "user@evil.example", "a.example:", "a.example:x",
     "a.example:70000", "a.example:0", "::1", "[::1", "[::1]x", "-bad-.example", "a\x00.example"],
)  # fmt: skip
def test_normalise_host_refuses_non_hosts(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_host(raw)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://mastodon.example/users/alice", "mastodon.example"),
        ("HTTPS://Mastodon.Example./users/alice", "mastodon.example"),
        ("https://mastodon.example:443/users/alice", "mastodon.example"),
        ("http://mastodon.example:80/", "mastodon.example"),
        ("http://mastodon.example:443/", "mastodon.example:443"),
        ("https://mastodon.example:8443/", "mastodon.example:8443"),
        ("https://bücher.example/@ada", "xn--bcher-kva.example"),
        ("https://xn--bcher-kva.example/@ada", "xn--bcher-kva.example"),
        ("https://user:pw@gts.example/x", "gts.example"),
        ("https://[::1]:8443/inbox", "[::1]:8443"),
        ("https://mastodon.example?x=1", "mastodon.example"),
        ("https://mastodon.example#frag", "mastodon.example"),
    ],
)
def test_host_of(url: str, expected: str) -> None:
    assert host_of(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>",
        "ftp://mastodon.example/x",
        "acct:alice@mastodon.example",
        "mastodon.example/users/alice",
        "/users/alice",
        "https://",
        "https:///path",
        "https://evil.example\\@good.example/",
        "https://a b.example/",
        "https://mastodon.example:99999/",
    ],
)
def test_host_of_refuses_non_http_urls(url: str) -> None:
    with pytest.raises(ValueError):
        host_of(url)


def test_host_of_reads_past_userinfo_like_a_client_would() -> None:
    # The real host is after the last "@", not the friendly name before it.
    assert host_of("https://mastodon.example@evil.example/users/alice") == "evil.example"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://mastodon.example/a", "https://MASTODON.example./b", True),
        ("https://mastodon.example/a", "https://mastodon.example:443/b", True),
        ("https://bücher.example/a", "https://xn--bcher-kva.example/b", True),
        ("https://mastodon.example/a", "http://mastodon.example/a", False),
        ("https://mastodon.example/a", "https://mastodon.example:8443/a", False),
        ("https://mastodon.example/a", "https://sub.mastodon.example/a", False),
        ("https://mastodon.example/a", "https://mastodon.example.evil.example/a", False),
        ("https://mastodon.example/a", "javascript:alert(1)", False),
        ("not a url", "not a url", False),
    ],
)
def test_same_origin(a: str, b: str, same: bool) -> None:
    assert same_origin(a, b) is same
    assert same_origin(b, a) is same
