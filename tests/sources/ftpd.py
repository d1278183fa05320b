"""A pyftpdlib FTP/FTPS server for the tests (run as a subprocess; password from FTPD_PASSWORD)."""

from __future__ import annotations

import argparse
import logging
import os

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--no-mlsd", action="store_true")
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
    handler = type("Handler", (base,), attrs)
    server = FTPServer(("127.0.0.1", args.port), handler)
    server.serve_forever(timeout=0.5)


if __name__ == "__main__":
    main()
