"""REVIEW_FEED_SOURCE URLs: forms, percent-decoding, refusals that never echo a secret."""

from __future__ import annotations

import pytest
from review_feed.errors import ConfigError
from review_feed.sources import parse_remote_url
from review_feed.sources.names import parse_name
from review_feed.sources.remote import local_name, unsafe_name
from review_feed.sources.sshkeys import looks_like_known_hosts, parse_pins


@pytest.mark.parametrize(
    ("url", "parts", "shown"),
    [
        (
            "sftp://feed@host.example/srv/drop/",
            ("sftp", "feed", "host.example", 22, "/srv/drop"),
            "sftp://feed@host.example:22/srv/drop",
        ),
        (
            "sftp://feed@host:2222/~/drop",
            ("sftp", "feed", "host", 2222, "drop"),
            "sftp://feed@host:2222/~/drop",
        ),
        ("sftp://feed@host/~", ("sftp", "feed", "host", 22, ""), "sftp://feed@host:22/~/"),
        ("sftp://feed@host", ("sftp", "feed", "host", 22, ""), "sftp://feed@host:22/~/"),
        ("sftp://feed@host/", ("sftp", "feed", "host", 22, "/"), "sftp://feed@host:22/"),
        (
            "SFTP://feed%40shop@[::1]:22/my%20drop",
            ("sftp", "feed@shop", "::1", 22, "/my drop"),
            "sftp://feed%40shop@[::1]:22/my%20drop",
        ),
        ("ftp://host/in", ("ftp", "anonymous", "host", 21, "/in"), "ftp://anonymous@host:21/in"),
        ("ftps://u@h:990/~/x/y", ("ftps", "u", "h", 990, "x/y"), "ftps://u@h:990/~/x/y"),
    ],
)
def test_url_forms(url, parts, shown):
    u = parse_remote_url(url)
    assert (u.scheme, u.user, u.host, u.port, u.folder) == parts
    assert str(u) == shown


def test_join():
    assert parse_remote_url("sftp://u@h/a/b/").join("f.csv") == "/a/b/f.csv"
    assert parse_remote_url("sftp://u@h/").join("f.csv") == "/f.csv"
    assert parse_remote_url("sftp://u@h/~/x").join("f.csv") == "x/f.csv"
    assert parse_remote_url("sftp://u@h").join("f.csv") == "f.csv"


@pytest.mark.parametrize(
    ("url", "expect"),
    [
        ("sftp://u:hunter2-secret@h/x", "must not contain a password"),
        ("sftp://u:@h/x", "must not contain a password"),
        ("ftp://u:hunter2-secret@h:21/x", "must not contain a password"),
        ("ftp://u%3Ahunter2-secret@h:21/x", "must not contain a password"),
        ("sftp://u%3ahunter2-secret@h/x", "must not contain a password"),
        ("sftp://u@[::1/hunter2", "not a valid URL"),
        ("sftp://h/x", "needs a user name"),
        ("sftp://u@h:99999/x", "not a valid URL"),
        ("sftp://u@h:port/x", "not a valid URL"),
        ("sftp://u@h/x?y=1", "query"),
        ("sftp://u@/x", "no host"),
        ("sftp://u@h/x%0Ay", "control characters"),
    ],
)
def test_url_refusals(url, expect):
    with pytest.raises(ConfigError) as err:
        parse_remote_url(url)
    msg = str(err.value)
    assert expect in msg and "hunter2" not in msg and "\n" not in msg


def test_local_names_are_built_from_the_parsed_parts():
    for name in ("reviews_site_acme-7f3a_2026-11-20.csv", "reviews_product_a.b_20261121.xml"):
        feed = parse_name(name)
        assert local_name(feed) == name
    assert unsafe_name("../x") and unsafe_name("a\\b") and unsafe_name("a\x00")
    assert not unsafe_name("reviews_site_a_2026-11-20.csv")


def test_pins_and_known_hosts_text():
    fp = "SHA256:" + "A" * 43
    assert parse_pins(f"{fp}, {'B' * 43}=") == (fp, "SHA256:" + "B" * 43)
    for bad in ("MD5:12:34", "SHA256:short", "SHA256:" + "*" * 43):
        with pytest.raises(ConfigError):
            parse_pins(bad)
    assert looks_like_known_hosts("[h]:2222 ssh-ed25519 AAAAC3Nza")
    assert looks_like_known_hosts("|1|abc=|def= ecdsa-sha2-nistp256 AAAAE2V")
    assert not looks_like_known_hosts("/home/me/.ssh/known_hosts")
    assert not looks_like_known_hosts("C:\\Users\\me\\known hosts")
