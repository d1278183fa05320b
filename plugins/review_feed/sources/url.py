"""REVIEW_FEED_SOURCE as a remote location: `sftp://`, `ftp://`, `ftps://` URLs.

The path is the folder the vendor writes to: absolute, or relative to the
login's home when it starts with `/~/` (as curl reads such URLs). User and
path are percent-decoded. A password in the URL is refused: secrets come from
the environment only, and the message never repeats the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from ..errors import ConfigError

DEFAULT_PORTS = {"sftp": 22, "ftp": 21, "ftps": 21}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class RemoteURL:
    """Where a remote source lives. `str()` is safe to print (it never holds a secret)."""

    scheme: str  # "sftp" | "ftp" | "ftps"
    user: str
    host: str
    port: int
    folder: str  # absolute ("/feeds/x"), or relative to the login's home ("feeds/x", "" = home)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        shown = self.folder if self.folder.startswith("/") else "/~/" + self.folder
        return f"{self.scheme}://{quote(self.user, safe='')}@{host}:{self.port}{quote(shown)}"

    def join(self, name: str) -> str:
        """The remote path of `name` (a validated feed name) inside the folder."""
        if not self.folder:
            return name
        return self.folder.rstrip("/") + "/" + name if self.folder != "/" else "/" + name

    @property
    def folder_or_home(self) -> str:
        return self.folder or "."


def parse_remote_url(url: str) -> RemoteURL:
    """Parse an sftp/ftp/ftps URL; ConfigError (never echoing the URL) when it is not usable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(
            "REVIEW_FEED_SOURCE is not a valid URL (bad host or port): "
            "expected sftp://user@host[:port]/path"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ConfigError(f"REVIEW_FEED_SOURCE: unsupported scheme {scheme!r}")
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if ":" in unquote(userinfo):  # `u%3Apw` is a password too
        # Never repeat the URL: it holds the password.
        raise ConfigError(
            "REVIEW_FEED_SOURCE must not contain a password: remove it from the URL "
            f"({scheme}://user@host/path) and set REVIEW_FEED_PASSWORD in the environment"
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            "REVIEW_FEED_SOURCE: a ?query or #fragment is not supported "
            f"(expected {scheme}://user@host[:port]/path)"
        )
    host = parts.hostname or ""
    if not host:
        raise ConfigError(f"REVIEW_FEED_SOURCE: no host in the {scheme}:// URL")
    user = unquote(userinfo)
    if not user:
        if scheme == "sftp":
            raise ConfigError(
                "REVIEW_FEED_SOURCE: an sftp:// URL needs a user name (sftp://user@host/path)"
            )
        user = "anonymous"
    path = unquote(parts.path)
    if _CONTROL.search(path) or _CONTROL.search(user):
        raise ConfigError("REVIEW_FEED_SOURCE: control characters in the user or path")
    if path in ("/~", "/~/") or path.startswith("/~/"):
        folder = path[3:].strip("/")
    elif not path:
        folder = ""  # no path at all: the login's own folder
    else:
        folder = "/" + path.strip("/") if path.strip("/") else "/"
    return RemoteURL(scheme, user, host, port or DEFAULT_PORTS[scheme], folder)
