"""FTP and FTPS (explicit TLS, protected data channel) with ftplib.

FTPS verifies the server's certificate (system CAs, or REVIEW_FEED_CA_BUNDLE)
and reuses the control connection's TLS session on every data connection:
servers such as vsftpd (require_ssl_reuse) and FileZilla refuse data
connections without it, and the standard library does not do it by itself.
"""

from __future__ import annotations

import calendar
import contextlib
import ftplib
import logging
import re
import socket
import ssl
import time

from ..errors import ConfigError
from .failures import Failure, short
from .names import parse_name
from .remote import Entry, RemoteSource, Sink, unsafe_name
from .url import RemoteURL

logger = logging.getLogger("review_feed.sources.ftp")

_BLOCK = 1 << 20
_DIGITS = re.compile(r"[0-9]{1,20}")  # ASCII only: str.isdigit() also takes "²"

# `-rw-r--r--   1 owner group   1234 Nov 27 03:00 name` (or a year instead of the time)
_UNIX_LIST = re.compile(
    r"^(?P<type>[-dlbcps])\S{9}\S*\s+\d+\s+\S+\s+\S+\s+(?P<size>\d{1,20})\s+"
    r"\w{3}\s+\d{1,2}\s+(?:\d{1,2}:\d{2}|\d{4})\s(?P<name>.+)$",
    re.ASCII,
)
# `11-27-26  03:00AM       1234 name` (IIS / Windows)
_DOS_LIST = re.compile(
    r"^\d{2}-\d{2}-\d{2,4}\s+\d{1,2}:\d{2}(?:[AP]M)?\s+(?P<size><DIR>|\d{1,20})\s+(?P<name>.+)$",
    re.ASCII,
)


class ReuseSessionFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(
                conn, server_hostname=self.host, session=self.sock.session
            )
        return conn, size


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Certificate and host name verified; a custom CA bundle when given."""
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"REVIEW_FEED_CA_BUNDLE: cannot read {ca_bundle} as PEM certificates "
            f"({getattr(exc, 'strerror', None) or exc})"
        ) from None


def parse_list_line(line: str) -> Entry | None:
    """One LIST line as an Entry (no modification time: LIST's dates are too coarse)."""
    if m := _UNIX_LIST.match(line):
        kind, name = m["type"], m["name"]
        if kind == "l":
            name = name.split(" -> ", 1)[0]
        return Entry(name, int(m["size"]), None, kind in "-l")
    if m := _DOS_LIST.match(line):
        is_dir = m["size"] == "<DIR>"
        return Entry(m["name"], None if is_dir else int(m["size"]), None, not is_dir)
    return None


def parse_size_reply(reply: str, name: str) -> int:
    """The size in a `213 <bytes>` answer to SIZE; anything else is an unexpected answer."""
    m = re.fullmatch(r"213 ([0-9]{1,20})", reply.strip())
    if m is None:
        raise ftplib.error_reply(f"SIZE {name} answered {short(reply, 60)!r}, not a size")
    return int(m[1])


def parse_ftp_time(value: str) -> float | None:
    """`YYYYMMDDHHMMSS[.sss]` (MLSD `modify`, MDTM; UTC) as seconds since the epoch."""
    m = re.fullmatch(
        r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})(?:\.([0-9]+))?",
        value.strip(),
    )
    if not m:
        return None
    try:
        parsed = time.strptime("".join(m.groups()[:6]), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    frac = float("0." + m[7]) if m[7] else 0.0
    return calendar.timegm(parsed) + frac


class FTPSource(RemoteSource):
    """Feed files in a folder of an FTP or FTPS server."""

    def __init__(
        self,
        url: RemoteURL,
        *,
        password: str | None = None,
        ca_bundle: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(url, **kwargs)
        self._password = password
        self._tls = url.scheme == "ftps"
        self._context = tls_context(ca_bundle) if self._tls else None
        self._ftp: ftplib.FTP | None = None
        if not self._tls:  # said once per run, at the default level
            logger.warning(
                "[review-feed] %s: plain FTP sends the user name, the password and the feed "
                "files unencrypted; prefer ftps:// or sftp://",
                self.description,
            )

    def __repr__(self) -> str:  # never the credentials
        return f"FTPSource({self.description!r})"

    def _connect(self) -> None:
        url = self.url
        if self._tls:
            ftp: ftplib.FTP = ReuseSessionFTP_TLS(context=self._context, timeout=self.timeout)
        else:
            ftp = ftplib.FTP(timeout=self.timeout)
        self._ftp = ftp
        ftp.connect(url.host, url.port, timeout=self.timeout)
        with contextlib.suppress(OSError):
            ftp.sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if self._tls:
            try:
                ftp.auth()
            except ftplib.error_perm as exc:
                raise _Refused(
                    f"the server does not offer explicit TLS (AUTH TLS: {short(exc)})",
                    "use ftps:// only with a server that supports it (implicit FTPS on port "
                    "990 is not supported)",
                ) from None
        try:
            ftp.login(url.user, self._password or "")
        except ftplib.error_perm as exc:
            raise _Refused(
                f"login refused for user {url.user!r} ({short(exc)})",
                "check the user name in REVIEW_FEED_SOURCE and REVIEW_FEED_PASSWORD",
            ) from None
        if self._tls:
            ftp.prot_p()
        ftp.voidcmd("TYPE I")
        ftp.set_pasv(True)
        if url.folder:
            try:
                ftp.cwd(url.folder)
            except ftplib.error_perm as exc:
                raise _Refused(
                    f"cannot open the folder {url.folder} ({short(exc)})",
                    "check the path in REVIEW_FEED_SOURCE (absolute, or /~/ for the login's "
                    "home) and the account's rights",
                ) from None

    def _disconnect(self) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is None:
            return
        try:
            ftp.quit()
        except Exception:
            with contextlib.suppress(Exception):
                ftp.close()

    def _list_entries(self) -> list[Entry]:
        assert self._ftp is not None
        try:
            facts = list(self._ftp.mlsd())
        except ftplib.error_perm as exc:
            if str(exc)[:3] not in ("500", "501", "502", "504"):
                raise
            return self._list_fallback()
        out = []
        for name, f in facts:
            kind = f.get("type", "file").lower()
            size = int(f["size"]) if _DIGITS.fullmatch(f.get("size", "")) else None
            mtime = parse_ftp_time(f["modify"]) if "modify" in f else None
            out.append(Entry(name, size, mtime, kind == "file"))
        return out

    def _list_fallback(self) -> list[Entry]:
        """LIST for servers without MLSD; SIZE and MDTM for the feed files among them."""
        assert self._ftp is not None
        lines: list[str] = []
        self._ftp.retrlines("LIST", lines.append)
        self._ftp.voidcmd("TYPE I")  # LIST switched to ASCII, where SIZE is refused
        out = []
        for line in lines:
            e = parse_list_line(line)
            if e is None:
                continue
            if e.is_file and not unsafe_name(e.name) and parse_name(e.name):
                try:
                    size, mtime = self._stat(e.name)
                except ftplib.error_reply:  # a garbled SIZE: asked again, then refused alone
                    size, mtime = None, None
                e = Entry(e.name, size if size is not None else e.size, mtime, True)
            out.append(e)
        return out

    def _download(self, name: str, sink: Sink, size: int) -> None:
        assert self._ftp is not None
        self._ftp.retrbinary("RETR " + name, sink.write, blocksize=_BLOCK)

    def _stat(self, name: str) -> tuple[int | None, float | None]:
        assert self._ftp is not None
        size = parse_size_reply(self._ftp.sendcmd("SIZE " + name), name)
        try:
            mtime = parse_ftp_time(self._ftp.sendcmd("MDTM " + name)[4:])
        except ftplib.error_perm:
            mtime = None
        return size, mtime

    def _remove(self, name: str) -> None:
        assert self._ftp is not None
        self._ftp.delete(name)

    def _move(self, name: str, folder: str) -> None:
        assert self._ftp is not None
        with contextlib.suppress(ftplib.error_perm):
            self._ftp.mkd(folder)
        self._ftp.rename(name, folder.rstrip("/") + "/" + name)

    def _failure(self, exc: BaseException) -> Failure | None:
        if isinstance(exc, _Refused):
            return Failure(exc.why, exc.check, transient=False)
        if isinstance(exc, ftplib.error_temp):
            return Failure(
                f"the server is busy ({short(exc)})",
                "the run can simply be repeated; check the server's connection limits",
                transient=True,
            )
        if isinstance(exc, ftplib.error_perm):
            return Failure(
                f"the server refused ({short(exc)})",
                "check the path in REVIEW_FEED_SOURCE and the account's rights",
                transient=False,
            )
        if isinstance(exc, (ftplib.error_reply, ftplib.error_proto)):
            return Failure(
                f"unexpected answer ({short(exc)})",
                "check that the host and port in REVIEW_FEED_SOURCE are an FTP server's",
                transient=False,
            )
        return super()._failure(exc)


class _Refused(Exception):
    """Login, TLS or folder refused: not worth a retry."""

    def __init__(self, why: str, check: str) -> None:
        super().__init__(why)
        self.why = why
        self.check = check
