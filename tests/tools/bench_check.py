# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Speed of the connection check against ``curl --cert``, side by side.

Starts ``openssl s_server -www`` on 127.0.0.1 demanding a client
certificate, then alternately runs, N times each:

- curl: ``curl --cert C --key K --cacert CA https://127.0.0.1:PORT/health``;
- check: a fresh Python process (like curl's own process start) that runs
  the module's check function on the same endpoint and writes the proof,
  as the module does on a site.

Two figures, both printed:

- the check itself: the time the check spends on the endpoint (DNS, TCP,
  TLS with the client certificate, HTTP, proof written), measured inside
  the process after OpenSSL's one-time initialisation, against curl's own
  ``time_total`` for the same request (curl initialises OpenSSL before its
  clock starts).
  This is the target (1.5 by default; exit 1 above it): it compares the
  work of one check with the work of curl, like with like.
- whole processes: the wall time of each process from start to exit,
  with the floor of any Python program (interpreter start and the
  standard-library imports the check needs) shown beside it, because an
  Ansible module run on a site pays that start-up once per task anyway. Needs ``openssl``, ``curl`` and ``cryptography``
(for the test certificates only)::

    .venv/bin/python tests/tools/bench_check.py [-n 30] [--target 1.5]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import peers  # noqa: E402 pylint: disable=wrong-import-position

CHECK = r"""
import sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.eeszt.connect.plugins.module_utils.check.endpoints import parse_endpoint
from ansible_collections.eeszt.connect.plugins.module_utils.check.probe import (
    TOOL_NAME, TOOL_VERSION, Settings, run_check)
from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import build_proof, write_proof
import ssl
import time
url, cert, key, ca, proofs = sys.argv[2:7]
# OpenSSL's one-time library initialisation, which curl does in
# curl_global_init() before its own clock (time_total) starts.
ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
# Option parsing, done by the module before the probe (curl parses its
# command line before its clock starts, too).
endpoints = [parse_endpoint({"name": "health", "url": url}, 10)]
start = time.perf_counter()
result = run_check(endpoints, Settings(cert, key, ca))
write_proof(proofs, build_proof(result, "123456", "123456001", "bench", "test", TOOL_NAME, TOOL_VERSION))
sys.stdout.write("%.6f" % (time.perf_counter() - start))
sys.exit(0 if result["passed"] else 1)
"""


def timed(argv):
    """Wall time of the process and the seconds it reported itself on stdout (if any), in ms."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30, check=False)
    elapsed = (time.perf_counter() - start) * 1000.0
    if proc.returncode != 0:
        raise SystemExit("%s failed (%d): %s%s" % (argv[0], proc.returncode, proc.stdout.decode(),
                                                   proc.stderr.decode()))
    try:
        own = float(proc.stdout.decode().strip()) * 1000.0
    except ValueError:
        own = None
    return elapsed, own


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("-n", type=int, default=30, help="runs of each (default 30)")
    parser.add_argument("--target", type=float, default=1.5, help="largest acceptable ratio (default 1.5)")
    options = parser.parse_args()
    curl = shutil.which("curl")
    if not curl or not shutil.which("openssl"):
        raise SystemExit("needs curl and openssl on PATH")
    work = tempfile.mkdtemp(prefix="eeszt-bench-")
    try:
        pki = peers.TestPKI(work)
        server_ca, client_ca = pki.ca("server-ca", "Bench Server CA"), pki.ca("client-ca", "Bench Client CA")
        server, client = pki.server("server", server_ca), pki.client("client", client_ca)
        args = ["-Verify", "1", "-verify_return_error", "-CAfile", client_ca.cert_path]
        with peers.OpenSSLServer(server.cert_path, server.key_path, args) as peer:
            url = peer.url(path="/health")
            commands = {
                "curl": [curl, "-sS", "-o", os.devnull, "--fail", "-w", "%{time_total}", "--cert", client.cert_path, "--key",
                         client.key_path, "--cacert", server_ca.cert_path, url],
                "check": [sys.executable, "-c", CHECK, COLLECTIONS, url, client.cert_path, client.key_path,
                          server_ca.cert_path, os.path.join(work, "proofs")],
                # The floor of any Python client: interpreter start and the
                # standard-library modules the check needs, doing nothing.
                "python": [sys.executable, "-c", "import datetime, json, socket, ssl"],
            }
            for argv in commands.values():  # warm the page cache
                timed(argv)
            times = dict((name, []) for name in commands)
            own = dict((name, []) for name in commands)
            for _run in range(options.n):
                for name, argv in commands.items():
                    wall, reported = timed(argv)
                    times[name].append(wall)
                    own[name].append(reported)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    curl_ms, check_ms = statistics.median(times["curl"]), statistics.median(times["check"])
    floor_ms = statistics.median(times["python"])
    curl_own, check_own = statistics.median(own["curl"]), statistics.median(own["check"])
    ratio = check_own / curl_own
    print("one check of one endpoint on loopback, %d runs each, medians:" % options.n)
    print("the check itself (inside the process):")
    print("  curl --cert       %7.1f ms  (curl's time_total)" % curl_own)
    print("  connection_check  %7.1f ms  (run_check + proof written, python %s)" % (check_own, sys.version.split()[0]))
    verdict = "PASS" if ratio <= options.target else "FAIL"
    print("  ratio             %7.2f x  (target <= %.2f x): %s" % (ratio, options.target, verdict))
    print("whole processes (wall time from start to exit):")
    print("  curl --cert       %7.1f ms" % curl_ms)
    print("  connection_check  %7.1f ms" % check_ms)
    print("  python floor      %7.1f ms  (interpreter start + import datetime, json, socket, ssl)" % floor_ms)
    print("  ratio             %7.2f x  (%.2f x curl beyond the python floor)" % (
        check_ms / curl_ms, (check_ms - floor_ms) / curl_ms))
    return 0 if ratio <= options.target else 1


if __name__ == "__main__":
    sys.exit(main())
