"""A pyftpdlib FTP/FTPS server for the tests (run as a subprocess; password from FTPD_PASSWORD)."""

from __future__ import annotations

import argparse
import logging
import os
import re

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.filesystems import AbstractedFS
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer


def pairs(values: list[str]) -> dict[str, str]:
    return dict(v.split("=", 1) for v in values)


def lying_fs(mlsd_sizes: dict[str, str]) -> type[AbstractedFS]:
    """A filesystem whose MLSD listing gives the size fact `mlsd_sizes[name]` for `name`."""

    class LyingFS(AbstractedFS):
        def format_mlsx(self, *args, **kwargs):
            for line in super().format_mlsx(*args, **kwargs):
                name = line.decode("utf-8").rstrip("\r\n").split("; ", 1)[-1]
                if name in mlsd_sizes:
                    fact = b"size=" + mlsd_sizes[name].encode("utf-8") + b";"
                    line = re.sub(rb"size=[0-9]+;", fact, line)
                yield line

    return LyingFS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--no-mlsd", action="store_true")
    ap.add_argument("--mlsd-size", action="append", default=[], help="NAME=FACT: lie in MLSD")
    ap.add_argument("--size-reply", action="append", default=[], help="NAME=TEXT: SIZE answer")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    auth = DummyAuthorizer()
    auth.add_user(args.user, os.environ["FTPD_PASSWORD"], args.root, perm="elradfmwMT")
    base = TLS_FTPHandler if args.cert else FTPHandler
    attrs = {"authorizer": auth, "banner": "review-feed test ftpd", "auth_failed_timeout": 0.1}
    if args.cert:
        attrs.update(
            certfile=args.cert, keyfile=args.key, tls_control_required=True, tls_data_required=True
        )
    if args.no_mlsd:  # a server without MLSD/MLST: the client must fall back to LIST
        attrs["proto_cmds"] = {
            k: v for k, v in base.proto_cmds.items() if k not in ("MLSD", "MLST")
        }
    if args.mlsd_size:
        attrs["abstracted_fs"] = lying_fs(pairs(args.mlsd_size))
    if args.size_reply:
        replies = pairs(args.size_reply)

        def ftp_SIZE(self, path):
            name = os.path.basename(path)
            if name in replies:
                self.respond(replies[name])
            else:
                base.ftp_SIZE(self, path)

        attrs["ftp_SIZE"] = ftp_SIZE
    handler = type("Handler", (base,), attrs)
    server = FTPServer(("127.0.0.1", args.port), handler)
    server.serve_forever(timeout=0.5)


if __name__ == "__main__":
    main()
