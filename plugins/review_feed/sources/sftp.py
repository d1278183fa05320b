"""SFTP with paramiko's Transport API: our key or password only, the host key pinned."""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import stat

import paramiko

from ..errors import SourceError
from .failures import Failure, short
from .remote import Entry, RemoteSource, Sink
from .sshkeys import HostKeyCheck
from .url import RemoteURL

logger = logging.getLogger("review_feed.sources.sftp")

# Every read request in flight at once (prefetch), with a 4 MiB window: enough
# for ~40 MB/s at 100 ms round trip, and small on purpose, because paramiko's
# channel buffer drops consumed bytes from the front of one array (a copy of
# what is left), so bigger windows got slower (measured: 8 MiB -> 10-17 MB/s,
# 32 MiB -> 4-12 MB/s, 2-4 MiB -> 19-28 MB/s on a loaded 2-core machine).
_WINDOW = 1 << 22
_PACKET = 1 << 15
_CHUNK = 1 << 20
_KEEPALIVE = 15
# paramiko logs a failed connection at ERROR with a traceback, which would reach
# the user beside our one-line message: its records go to our debug log instead.
_PARAMIKO_CHANNEL = "paramiko.transport.review_feed"
_PARAMIKO_DEBUG = "review_feed.sources.sftp.paramiko"


class _ToDebug(logging.Filter):
    """Re-log a paramiko record at debug level under review_feed (`review-feed -v` shows it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        logging.getLogger(_PARAMIKO_DEBUG).debug("[review-feed] paramiko: %s", record.getMessage())
        return False


def _paramiko_logs_to_debug(t: paramiko.Transport) -> None:
    t.set_log_channel(_PARAMIKO_CHANNEL)
    for name in (_PARAMIKO_CHANNEL, _PARAMIKO_CHANNEL + ".sftp"):
        log = logging.getLogger(name)
        if not any(isinstance(f, _ToDebug) for f in log.filters):  # once per process
            log.addFilter(_ToDebug())


class SFTPSource(RemoteSource):
    """Feed files in a folder of an SFTP server."""

    def __init__(
        self,
        url: RemoteURL,
        *,
        hostkeys: HostKeyCheck,
        pkey: paramiko.PKey | None = None,
        password: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(url, **kwargs)
        self._hostkeys = hostkeys
        self._pkey = pkey
        self._password = password
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def __repr__(self) -> str:  # never the credentials
        return f"SFTPSource({self.description!r})"

    def _connect(self) -> None:
        url = self.url
        sock = socket.create_connection((url.host, url.port), timeout=self.timeout)
        t = paramiko.Transport(sock, default_window_size=_WINDOW, default_max_packet_size=_PACKET)
        self._transport = t
        _paramiko_logs_to_debug(t)
        t.banner_timeout = self.timeout
        t.handshake_timeout = self.timeout
        t.auth_timeout = self.timeout
        if key_types := self._hostkeys.key_types():
            t.get_security_options().key_types = key_types
        t.start_client(timeout=self.timeout)
        self._hostkeys.check(t.get_remote_server_key(), self.description)
        self._authenticate(t)
        t.set_keepalive(_KEEPALIVE)
        sftp = paramiko.SFTPClient.from_transport(t, window_size=_WINDOW, max_packet_size=_PACKET)
        if sftp is None:
            raise SourceError(
                f"cannot open SFTP on {self.description}: the server refused the sftp "
                "subsystem; check that the account may use SFTP"
            )
        sftp.get_channel().settimeout(self.timeout)
        self._sftp = sftp

    def _authenticate(self, t: paramiko.Transport) -> None:
        refused: list[str] = []
        allowed: list[str] = []
        user = self.url.user
        attempts = []
        if self._pkey is not None:
            attempts.append(("key", lambda: t.auth_publickey(user, self._pkey)))
        if self._password is not None:
            attempts.append(("password", lambda: t.auth_password(user, self._password)))
        if not attempts:
            raise SourceError(
                f"no credentials for {self.description}: set REVIEW_FEED_KEY_FILE, "
                "REVIEW_FEED_PRIVATE_KEY or REVIEW_FEED_PASSWORD in the environment"
            )
        for what, login in attempts:
            try:
                login()
                return
            except paramiko.BadAuthenticationType as exc:
                refused.append(what)
                allowed = list(exc.allowed_types)
            except paramiko.AuthenticationException:
                refused.append(what)
        also = f" (the server accepts only: {', '.join(allowed)})" if allowed else ""
        raise SourceError(
            f"login refused by {self.description}: authentication failed, the server rejected the "
            f"{' and the '.join(refused)} for user {user!r}{also}; check the user name in "
            "REVIEW_FEED_SOURCE, REVIEW_FEED_KEY_FILE / REVIEW_FEED_PRIVATE_KEY (its public key "
            "must be in the account's authorized_keys) or REVIEW_FEED_PASSWORD"
        )

    def _disconnect(self) -> None:
        sftp, t = self._sftp, self._transport
        self._sftp = self._transport = None
        if sftp is not None:
            with contextlib.suppress(Exception):
                sftp.close()
        if t is not None:
            with contextlib.suppress(Exception):
                t.close()

    def _path(self, name: str) -> str:
        return self.url.join(name)

    def _list_entries(self) -> list[Entry]:
        assert self._sftp is not None
        out = []
        for a in self._sftp.listdir_attr(self.url.folder_or_home):
            mode = a.st_mode
            if mode is not None and stat.S_ISLNK(mode):
                try:  # a link to a file is a file (the name is still checked)
                    a2 = self._sftp.stat(self._path(a.filename))
                    a2.filename = a.filename
                    a = a2
                    mode = a.st_mode
                except OSError:
                    continue
            is_file = mode is None or stat.S_ISREG(mode)
            out.append(Entry(a.filename, a.st_size, _mtime(a.st_mtime), is_file))
        return out

    def _download(self, name: str, sink: Sink, size: int) -> None:
        assert self._sftp is not None
        with self._sftp.open(self._path(name), "rb") as fh:
            fh.settimeout(self.timeout)
            _quiet_prefetch(fh)
            fh.prefetch(size)
            while data := fh.read(_CHUNK):
                sink.write(data)

    def _stat(self, name: str) -> tuple[int | None, float | None]:
        assert self._sftp is not None
        a = self._sftp.stat(self._path(name))
        return a.st_size, _mtime(a.st_mtime)

    def _remove(self, name: str) -> None:
        assert self._sftp is not None
        self._sftp.remove(self._path(name))

    def _move(self, name: str, folder: str) -> None:
        assert self._sftp is not None
        target_dir = folder if folder.startswith("/") else self.url.join(folder)
        with contextlib.suppress(OSError):
            self._sftp.mkdir(target_dir)
        target = target_dir.rstrip("/") + "/" + name
        try:
            self._sftp.posix_rename(self._path(name), target)
        except OSError:
            self._sftp.rename(self._path(name), target)

    def _failure(self, exc: BaseException) -> Failure | None:
        if isinstance(exc, FileNotFoundError) or (
            isinstance(exc, OSError) and exc.errno == errno.ENOENT
        ):
            return Failure(
                "no such file or folder on the server",
                "check the path in REVIEW_FEED_SOURCE (absolute, or /~/ for the login's home)",
                transient=False,
            )
        if isinstance(exc, PermissionError) or (
            isinstance(exc, OSError) and exc.errno == errno.EACCES
        ):
            return Failure(
                "permission denied on the server",
                "check the account's rights on the folder in REVIEW_FEED_SOURCE",
                transient=False,
            )
        if isinstance(exc, paramiko.AuthenticationException):
            return Failure("authentication failed", "check the credentials", transient=False)
        if isinstance(exc, paramiko.SSHException):
            return Failure(
                f"SSH error ({short(exc)})",
                "check that the host and port in REVIEW_FEED_SOURCE are an SSH server's",
                transient=True,
            )
        found = super()._failure(exc)
        if found is None and isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
            # SFTP status errors arrive as plain IOError with the server's message
            return Failure(
                f"the server said: {short(exc)}",
                "check the path and rights in REVIEW_FEED_SOURCE",
                transient=False,
            )
        return found


def _quiet_prefetch(fh: paramiko.SFTPFile) -> None:
    """Keep paramiko's prefetch thread from printing a traceback when the server goes away.

    The thread only sends read requests; when the connection drops, the reading
    side gets the error (and reports it as one line), so the thread can end quietly.
    No request limit is set: with one, the thread would spin forever after a drop.
    """
    send_requests = getattr(fh, "_prefetch_thread", None)
    if send_requests is None:
        return

    def run(*args: object) -> None:
        with contextlib.suppress(Exception):
            send_requests(*args)

    fh._prefetch_thread = run


def _mtime(value: int | None) -> float | None:
    return None if value is None else float(value)
