"""Real servers on 127.0.0.1 for the source tests: OpenSSH sshd, paramiko's server API, pyftpdlib.

Each one is started and stopped by a fixture in conftest.py. They bind to
loopback only and use temporary keys, certificates and folders.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import ipaddress
import os
import posixpath
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

SSHD = Path("/usr/sbin/sshd")
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {_read_err(proc)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def _read_err(proc: subprocess.Popen) -> str:
    try:
        return (proc.stderr.read() or b"").decode(errors="replace")[-2000:] if proc.stderr else ""
    except Exception:
        return ""


# --- keys ----------------------------------------------------------------------------------


@dataclass
class KeyPair:
    private_text: str  # OpenSSH/PEM private key, encrypted when passphrase is set
    public_line: str  # authorized_keys / known_hosts form: "<type> <base64>"
    pkey: paramiko.PKey
    passphrase: str | None = None

    @property
    def fingerprint(self) -> str:
        import hashlib

        digest = hashlib.sha256(self.pkey.asbytes()).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def make_key(kind: str = "ed25519", passphrase: str | None = None) -> KeyPair:
    if kind == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
        fmt = ser.PrivateFormat.OpenSSH
    elif kind == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
        fmt = ser.PrivateFormat.OpenSSH
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        fmt = ser.PrivateFormat.TraditionalOpenSSL
    enc = ser.BestAvailableEncryption(passphrase.encode()) if passphrase else ser.NoEncryption()
    text = key.private_bytes(ser.Encoding.PEM, fmt, enc).decode()
    public = key.public_key().public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH).decode()
    import io

    cls = {"ed25519": paramiko.Ed25519Key, "ecdsa": paramiko.ECDSAKey, "rsa": paramiko.RSAKey}[kind]
    pkey = cls.from_private_key(io.StringIO(text), password=passphrase)
    return KeyPair(text, public, pkey, passphrase)


def write_private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "review-feed test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "cert.pem"
    key_path = folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(ser.Encoding.PEM))
    write_private(
        key_path,
        key.private_bytes(
            ser.Encoding.PEM, ser.PrivateFormat.TraditionalOpenSSL, ser.NoEncryption()
        ).decode(),
    )
    return cert_path, key_path


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (sshd's per-connection children call setsid)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields_ = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields_[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


# --- OpenSSH ---------------------------------------------------------------------------------


@dataclass
class Sshd:
    """A real OpenSSH sshd on 127.0.0.1 with a temporary host key and authorized key."""

    folder: Path
    user: str
    host_key: KeyPair
    client_key: KeyPair
    port: int = 0
    proc: subprocess.Popen | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.folder / "sshd.log"

    def start(self) -> None:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation
        self.port = self.port or free_port()
        host_key = write_private(self.folder / "ssh_host_ed25519_key", self.host_key.private_text)
        auth = self.folder / "authorized_keys"
        auth.write_text(self.client_key.public_line + "\n")
        auth.chmod(0o600)
        config = self.folder / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {self.folder / 'sshd.pid'}",
                    f"AuthorizedKeysFile {auth}",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "Subsystem sftp internal-sftp",
                    "MaxStartups 100",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        check = subprocess.run(
            [str(SSHD), "-t", "-f", str(config)], capture_output=True, text=True, check=False
        )
        if check.returncode:
            raise RuntimeError(f"sshd -t refused the test config: {check.stderr.strip()}")
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        try:
            wait_port(self.port, self.proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; sshd log: {self.log.read_text()[-2000:]}") from None

    def kill(self) -> None:
        """Kill the server and every live session at once (as a crash would)."""
        if self.proc is None:
            return
        for pid in [*descendants(self.proc.pid), self.proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        self.kill()


# --- paramiko's server API (password logins, hostile listings) --------------------------------


class _Server(paramiko.ServerInterface):
    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self.password = password

    def check_auth_password(self, username, password):
        if username == self.user and password == self.password:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def get_allowed_auths(self, username):
        return "password"

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    def stat(self):
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))


class _SFTP(paramiko.SFTPServerInterface):
    """Serves `root` as `/` and as the login's home; `fake_names` are listed but do not exist;
    `listed_sizes` are the sizes the listing gives for those names (a lying listing)."""

    def __init__(
        self, server, root: Path, fake_names: list[str], listed_sizes: dict, *args, **kwargs
    ) -> None:
        super().__init__(server, *args, **kwargs)
        self.root = root
        self.fake_names = fake_names
        self.listed_sizes = listed_sizes

    def canonicalize(self, path):
        return posixpath.normpath("/" + path)  # relative = from the home, which is the root

    def _real(self, path: str) -> str:
        return str(self.root) + self.canonicalize(path)

    def list_folder(self, path):
        try:
            real = self._real(path)
            out = []
            for name in os.listdir(real):
                attr = paramiko.SFTPAttributes.from_stat(os.lstat(os.path.join(real, name)))
                attr.filename = name
                attr.st_size = self.listed_sizes.get(name, attr.st_size)
                out.append(attr)
            for name in self.fake_names:
                attr = paramiko.SFTPAttributes()
                attr.filename = name
                attr.st_size = 12
                attr.st_mode = stat.S_IFREG | 0o644
                attr.st_mtime = int(time.time()) - 86400
                out.append(attr)
            return out
        except OSError as e:
            return paramiko.SFTPServer.convert_errno(e.errno)

    def stat(self, path):
        try:
            return paramiko.SFTPAttributes.from_stat(os.stat(self._real(path)))
        except OSError as e:
            return paramiko.SFTPServer.convert_errno(e.errno)

    lstat = stat

    def open(self, path, flags, attr):
        if flags & (os.O_WRONLY | os.O_RDWR):
            return paramiko.SFTP_PERMISSION_DENIED
        try:
            fh = open(self._real(path), "rb")  # noqa: SIM115 - the handle owns it
        except OSError as e:
            return paramiko.SFTPServer.convert_errno(e.errno)
        handle = _Handle(flags)
        handle.filename = self._real(path)
        handle.readfile = fh
        return handle

    def remove(self, path):
        try:
            os.remove(self._real(path))
        except OSError as e:
            return paramiko.SFTPServer.convert_errno(e.errno)
        return paramiko.SFTP_OK

    def rename(self, oldpath, newpath):
        try:
            os.rename(self._real(oldpath), self._real(newpath))
        except OSError as e:
            return paramiko.SFTPServer.convert_errno(e.errno)
        return paramiko.SFTP_OK

    def mkdir(self, path, attr):
        try:
            os.mkdir(self._real(path))
        except OSError as e:
            return paramiko.SFTPServer.convert_errno(e.errno)
        return paramiko.SFTP_OK


class ParamikoSftpd:
    """An in-process SSH server (paramiko) accepting one user with a password."""

    def __init__(self, root: Path, user: str, password: str, host_key: KeyPair) -> None:
        self.root = root
        self.user = user
        self.password = password
        self.host_key = host_key
        self.fake_names: list[str] = []
        self.listed_sizes: dict[str, int] = {}  # name -> the size its listing gives
        self.port = 0
        self._sock: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._transports: list[paramiko.Transport] = []
        self._stop = threading.Event()

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = paramiko.Transport(conn)
            t.add_server_key(self.host_key.pkey)
            t.set_subsystem_handler(
                "sftp", paramiko.SFTPServer, _SFTP, self.root, self.fake_names, self.listed_sizes
            )
            self._transports.append(t)
            try:
                t.start_server(server=_Server(self.user, self.password))
            except Exception:
                t.close()

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
        for t in self._transports:
            t.close()
        for t in self._threads:
            t.join(timeout=5)


# --- pyftpdlib (a subprocess, so a test can kill it) ------------------------------------------


@dataclass
class Ftpd:
    root: Path
    user: str
    password: str
    tls: tuple[Path, Path] | None = None  # (cert, key)
    mlsd: bool = True
    mlsd_sizes: dict[str, str] = field(default_factory=dict)  # name -> the size fact MLSD gives
    size_replies: dict[str, str] = field(default_factory=dict)  # name -> the answer to SIZE
    port: int = 0
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.port = self.port or free_port()
        cmd = [
            sys.executable,
            str(HERE / "ftpd.py"),
            "--root",
            str(self.root),
            "--port",
            str(self.port),
            "--user",
            self.user,
        ]
        if self.tls:
            cmd += ["--cert", str(self.tls[0]), "--key", str(self.tls[1])]
        if not self.mlsd:
            cmd.append("--no-mlsd")
        cmd += [f"--mlsd-size={k}={v}" for k, v in self.mlsd_sizes.items()]
        cmd += [f"--size-reply={k}={v}" for k, v in self.size_replies.items()]
        env = dict(os.environ, FTPD_PASSWORD=self.password)
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        wait_port(self.port, self.proc)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None

    stop = kill


class NotSsh:
    """A TCP server on 127.0.0.1 that is not an SSH server: it greets like FTP and hangs up."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"220 this is not ssh\r\n")
                time.sleep(0.1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()
