"""SSH keys for SFTP: our private key from the environment, and the server's host key check.

No trust-on-first-use and no auto-add: the host key must be in
REVIEW_FEED_KNOWN_HOSTS or match REVIEW_FEED_HOST_KEY_SHA256, or we refuse,
showing the fingerprint the server presented and how to pin it. The runner's
own keys, agent and ~/.ssh/known_hosts are never read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import tempfile
from pathlib import Path

import paramiko

from ..errors import ConfigError, SourceError

# paramiko's algorithm names for each known_hosts key type
_ALGORITHMS = {
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256"),
    "ssh-ed25519": ("ssh-ed25519",),
    "ecdsa-sha2-nistp256": ("ecdsa-sha2-nistp256",),
    "ecdsa-sha2-nistp384": ("ecdsa-sha2-nistp384",),
    "ecdsa-sha2-nistp521": ("ecdsa-sha2-nistp521",),
}


def fingerprint(key: paramiko.PKey) -> str:
    """`SHA256:...` exactly as `ssh-keygen -l` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def parse_pins(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    pins = []
    for raw in value.replace(",", " ").split():
        b64 = raw[7:] if raw.upper().startswith("SHA256:") else raw
        try:
            ok = len(base64.b64decode(b64 + "=" * (-len(b64) % 4), validate=True)) == 32
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            raise ConfigError(
                f"REVIEW_FEED_HOST_KEY_SHA256 ({raw!r}) is not a SHA256 fingerprint: give it as "
                "`ssh-keygen -lf` prints it, e.g. SHA256:AbC...xyz"
            )
        pins.append("SHA256:" + b64.rstrip("="))
    return tuple(pins)


class HostKeyCheck:
    """The trust anchors for one host and port: a known_hosts file and/or pinned fingerprints.

    When both are set, the presented key must satisfy both.
    """

    def __init__(self, host: str, port: int, known_hosts: str | None, pins: str | None) -> None:
        self.host = host
        self.port = port
        self.lookup_name = host if port == 22 else f"[{host}]:{port}"
        self.pins = parse_pins(pins)
        self.known: dict[str, paramiko.PKey] = {}
        # A CI secret often holds the file's text rather than a path to it: accept both.
        self.known_hosts_is_text = bool(known_hosts) and looks_like_known_hosts(known_hosts)
        self.known_hosts = "given as text" if self.known_hosts_is_text else known_hosts
        if known_hosts:
            found = _load_known_hosts(known_hosts, self.known_hosts_is_text).lookup(
                self.lookup_name
            )
            self.known = dict(found) if found else {}

    def key_types(self) -> list[str] | None:
        """Host key algorithms to ask for, so the server shows a key type we know (None: any)."""
        if not self.known:
            return None
        wanted = [a for t in self.known for a in _ALGORITHMS.get(t, (t,))]
        preferred = getattr(paramiko.Transport, "_preferred_keys", None) or wanted
        supported = [a for a in preferred if a in wanted]
        return supported or None

    def check(self, key: paramiko.PKey, where: str) -> None:
        """Return when `key` is trusted; SourceError saying what to do otherwise."""
        fp = fingerprint(key)
        shown = f"{fp} ({key.get_name()})"
        keyscan = f"ssh-keyscan -p {self.port} {self.host}"
        if not self.pins and not self.known_hosts:
            raise SourceError(
                f"host key not verified for {where}: no REVIEW_FEED_KNOWN_HOSTS or "
                f"REVIEW_FEED_HOST_KEY_SHA256 is set (keys are never trusted on first use); the "
                f"server presented {shown}: confirm it with the server's administrator, then set "
                f"REVIEW_FEED_HOST_KEY_SHA256={fp}"
            )
        if self.known_hosts:
            add = (
                f"add the line `{keyscan}` prints to it"
                if self.known_hosts_is_text
                else f"add it with `{keyscan} >> {self.known_hosts}`"
            )
            known = self.known.get(key.get_name())
            if known is None and not self.known:
                raise SourceError(
                    f"unknown host key for {where}: {self.lookup_name} is not in "
                    f"REVIEW_FEED_KNOWN_HOSTS ({self.known_hosts}); the server presented {shown}: "
                    f"confirm it with the server's administrator, then {add} "
                    f"or set REVIEW_FEED_HOST_KEY_SHA256={fp}"
                )
            if known is None or known.asbytes() != key.asbytes():
                had = ", ".join(f"{fingerprint(k)} ({t})" for t, k in self.known.items())
                raise SourceError(
                    f"host key CHANGED for {where}: the server presented {shown} but "
                    f"REVIEW_FEED_KNOWN_HOSTS ({self.known_hosts}) holds {had} for "
                    f"{self.lookup_name}; this may be an attack: refused. If the key was really "
                    f"replaced (ask the server's administrator), replace that line with the "
                    f"output of `{keyscan}`"
                )
        if self.pins and fp not in self.pins:
            raise SourceError(
                f"host key refused for {where}: the server presented {shown}, not the pinned "
                f"REVIEW_FEED_HOST_KEY_SHA256 {', '.join(self.pins)}; this may be an attack. If "
                f"the key was really replaced (ask the server's administrator), pin the new one: "
                f"REVIEW_FEED_HOST_KEY_SHA256={fp}"
            )


_KNOWN_HOSTS_LINE = re.compile(r"^\S+\s+(ssh-|ecdsa-|sk-)\S+\s+AAAA", re.MULTILINE)


def looks_like_known_hosts(value: str) -> bool:
    return "\n" in value.strip() or bool(_KNOWN_HOSTS_LINE.search(value))


def _load_known_hosts(value: str, is_text: bool) -> paramiko.HostKeys:
    keys = paramiko.HostKeys()
    shown = "the known_hosts text" if is_text else value
    try:
        if is_text:
            # paramiko reads known_hosts from a file only; the temporary copy is gone at once
            with tempfile.NamedTemporaryFile("w", suffix=".known_hosts", encoding="utf-8") as fh:
                fh.write(value.strip() + "\n")
                fh.flush()
                keys.load(fh.name)
        else:
            keys.load(value)
    except OSError as exc:
        raise ConfigError(
            f"REVIEW_FEED_KNOWN_HOSTS: cannot read {value}: {exc.strerror or exc}"
        ) from None
    except Exception:
        raise ConfigError(
            f"REVIEW_FEED_KNOWN_HOSTS: {shown} is not in known_hosts format "
            "(make it with ssh-keyscan)"
        ) from None
    return keys


def load_private_key(
    private_key: str | None, key_file: str | None, passphrase: str | None
) -> paramiko.PKey | None:
    """Our key from REVIEW_FEED_PRIVATE_KEY (text) or REVIEW_FEED_KEY_FILE; None when neither.

    Messages name the variable, never its value.
    """
    if private_key and key_file:
        raise ConfigError("set REVIEW_FEED_PRIVATE_KEY or REVIEW_FEED_KEY_FILE, not both")
    if key_file:
        var = "REVIEW_FEED_KEY_FILE"
        try:
            text = Path(key_file).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or "not a text key file"
            raise ConfigError(f"{var}: cannot read the key file: {why}") from None
    elif private_key:
        var = "REVIEW_FEED_PRIVATE_KEY"
        text = private_key
    else:
        return None
    text = text.strip()
    if "\n" not in text and "\\n" in text:  # a CI secret pasted with escaped newlines
        text = text.replace("\\n", "\n")
    text = text.replace("\r\n", "\n") + "\n"
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.PasswordRequiredException:
            raise ConfigError(
                f"{var} is an encrypted key: set REVIEW_FEED_KEY_PASSPHRASE"
            ) from None
        except Exception:  # wrong type, wrong passphrase, not a key: try the next type
            continue
    hint = " or REVIEW_FEED_KEY_PASSPHRASE is wrong" if passphrase else ""
    raise ConfigError(
        f"{var} is not a readable RSA, ECDSA or Ed25519 private key{hint} "
        "(expected the whole file, -----BEGIN ... PRIVATE KEY----- included)"
    )
