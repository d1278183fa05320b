"""How a network or protocol error reads to a user: one line saying why and what to check.

`Failure.transient` says whether retrying may help (a refused connection, a
timeout) or not (an unknown host, a refused certificate).
"""

from __future__ import annotations

import errno
import socket
import ssl
from dataclasses import dataclass

from .url import RemoteURL


@dataclass(frozen=True, slots=True)
class Failure:
    """How a protocol error reads to the user, and whether retrying may help."""

    why: str
    check: str
    transient: bool


def network_failure(exc: BaseException, url: RemoteURL, timeout: float) -> Failure | None:
    """The Failure for an OS-level/network error, None when `exc` is not one."""
    where = f"{url.host} port {url.port}"
    if isinstance(exc, socket.gaierror):
        return Failure(
            f"cannot resolve the host name {url.host!r}",
            "check the host in REVIEW_FEED_SOURCE and the machine's DNS",
            transient=False,
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Failure(
            f"the server's TLS certificate was refused ({exc.verify_message or 'not trusted'})",
            "check the host name in REVIEW_FEED_SOURCE matches the certificate, or point "
            "REVIEW_FEED_CA_BUNDLE at the CA that signed it",
            transient=False,
        )
    if isinstance(exc, ConnectionRefusedError):
        return Failure(
            "connection refused",
            f"check that the server is running and listening on {where}, "
            "and the host and port in REVIEW_FEED_SOURCE",
            transient=True,
        )
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return Failure(
            f"no answer within {timeout:g} s",
            f"check that {where} is reachable from this machine (firewall) "
            "or raise REVIEW_FEED_TIMEOUT",
            transient=True,
        )
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, EOFError)):
        return Failure(
            "the server closed the connection",
            "check the server's logs and connection limits; the run can simply be repeated",
            transient=True,
        )
    if isinstance(exc, ssl.SSLError):
        return Failure(
            f"TLS error ({exc.reason or 'handshake failed'})",
            "check that the server speaks explicit FTPS (AUTH TLS) on this port",
            transient=True,
        )
    if isinstance(exc, OSError) and exc.errno in (
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EHOSTDOWN,
        errno.ENETDOWN,
    ):
        return Failure(
            exc.strerror or "network unreachable",
            f"check that {where} is reachable from this machine",
            transient=True,
        )
    return None


def short(text: object, limit: int = 160) -> str:
    """A server's message as one short line (servers can send anything)."""
    s = " ".join(str(text).split())
    s = "".join(c if c.isprintable() else "?" for c in s)
    return s if len(s) <= limit else s[: limit - 1] + "…"
