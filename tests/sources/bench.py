"""Download speed of the remote sources on this machine (loopback), by protocol.

    python -m tests.sources.bench [--mb 64] [--runs 3]

Starts the same servers as the tests (OpenSSH sshd, pyftpdlib FTP and FTPS),
downloads one file of --mb MiB through `open_source` --runs times each and
prints the median MB/s (10^6 bytes per second, wall clock of fetch()).
For reference it also times OpenSSH's own `sftp` client on the same file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from review_feed.settings import load_settings
from review_feed.sources import open_source

from .servers import Ftpd, Sshd, make_cert, make_key, write_private

NAME = "reviews_product_bench_2026-11-05.csv"


def measure(env: dict[str, str], runs: int) -> list[float]:
    speeds = []
    for _ in range(runs):
        source = open_source(load_settings(environ=env))
        with source:
            (remote,) = source.list()
            t0 = time.perf_counter()
            fetched = source.fetch(remote)
            speeds.append(fetched.size / (time.perf_counter() - t0) / 1e6)
    return speeds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="review-feed-bench-"))
    try:
        drop = tmp / "drop"
        drop.mkdir()
        with (drop / NAME).open("wb") as fh:
            for _ in range(args.mb):
                fh.write(os.urandom(1 << 20))
        old = time.time() - 3600
        os.utime(drop / NAME, (old, old))
        base = {"REVIEW_FEED_CACHE": str(tmp / "cache"), "REVIEW_FEED_MIN_AGE": "0"}
        results: dict[str, list[float]] = {}

        host, client = make_key("ed25519"), make_key("ed25519")
        (tmp / "sshd").mkdir()
        import pwd

        user = pwd.getpwuid(os.geteuid()).pw_name
        sshd = Sshd(tmp / "sshd", user, host, client)
        sshd.start()
        try:
            env = base | {
                "REVIEW_FEED_SOURCE": f"sftp://{user}@127.0.0.1:{sshd.port}{drop}",
                "REVIEW_FEED_PRIVATE_KEY": client.private_text,
                "REVIEW_FEED_HOST_KEY_SHA256": host.fingerprint,
            }
            results["sftp (paramiko, review-feed)"] = measure(env, args.runs)
            if shutil.which("sftp"):
                key = write_private(tmp / "id", client.private_text)
                speeds = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    subprocess.run(
                        ["sftp", "-q", "-i", str(key), "-P", str(sshd.port),
                         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                         "-o", "BatchMode=yes", f"{user}@127.0.0.1:{drop / NAME}", str(tmp / "x")],
                        check=True, capture_output=True,
                    )  # fmt: skip
                    speeds.append(args.mb * (1 << 20) / (time.perf_counter() - t0) / 1e6)
                results["sftp (OpenSSH client, reference)"] = speeds
        finally:
            sshd.stop()

        cert = make_cert(tmp)
        for scheme, tls in (("ftp", None), ("ftps", cert)):
            server = Ftpd(drop, "vendor", "bench-password", tls=tls)
            server.start()
            try:
                env = base | {
                    "REVIEW_FEED_SOURCE": f"{scheme}://vendor@127.0.0.1:{server.port}/",
                    "REVIEW_FEED_PASSWORD": "bench-password",
                    "REVIEW_FEED_CA_BUNDLE": str(cert[0]),
                }
                results[f"{scheme} (ftplib, review-feed)"] = measure(env, args.runs)
            finally:
                server.stop()

        print(f"{args.mb} MiB file, {args.runs} runs, 127.0.0.1, {os.cpu_count()} CPUs")
        for what, speeds in results.items():
            print(f"  {what:36} median {statistics.median(speeds):7.1f} MB/s  "
                  f"(runs: {', '.join(f'{s:.1f}' for s in speeds)})")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
