# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The proof document of a connection check (schema ``eeszt.connect/proof/v1``)
and its atomic, never-overwriting write on the site.

Standard library only. A proof holds public facts only: certificate
subject, issuer, serial, fingerprint and dates, the steps and their
timings; never key material, passwords or proxy credentials.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import errno
import hashlib
import json
import os
import re

from ansible_collections.eeszt.connect.plugins.module_utils.check.errors import ProofError

PROOF_SCHEMA = "eeszt.connect/proof/v1"
PROOF_MODE = 0o640
PROOF_DIR_MODE = 0o750
CERTIFICATE_FIELDS = ("subject", "issuer", "serial", "sha256", "not_before", "not_after")
REQUIRED_FIELDS = ("schema", "institution_id", "site_id", "host", "environment", "started_at", "finished_at",
                   "client_certificate", "endpoints", "passed", "failure", "tool")
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")


def build_proof(result, institution_id, site_id, host, environment, tool_name, tool_version):
    """The proof document of a run_check() result."""
    facts = result.get("client_certificate") or {}
    endpoints = []
    for endpoint in result["endpoints"]:
        endpoints.append(dict((key, endpoint.get(key)) for key in
                              ("name", "url", "method", "expect_status", "passed", "ms", "steps", "failure")))
    return {
        "schema": PROOF_SCHEMA,
        "institution_id": institution_id,
        "site_id": site_id,
        "host": host,
        "environment": environment,
        "started_at": result["started_at"],
        "finished_at": result["finished_at"],
        "client_certificate": dict((key, facts.get(key)) for key in CERTIFICATE_FIELDS),
        "endpoints": endpoints,
        "passed": result["passed"],
        "failure": result["failure"],
        "tool": {"name": tool_name, "version": tool_version},
    }


def serialize(document):
    """The exact bytes written: sorted keys, two-space indent, final newline."""
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def proof_filename(finished_at, institution_id, site_id, sequence=0):
    """'20261125T221500Z_<institution>_<site>.json': sorts by time, names the site."""
    stamp = finished_at.replace("-", "").replace(":", "")
    name = "%s_%s_%s" % (stamp, _UNSAFE.sub("_", institution_id), _UNSAFE.sub("_", site_id))
    if sequence:
        name += "_%d" % sequence
    return name + ".json"


def _ensure_dir(directory):
    if os.path.isdir(directory):
        return
    try:
        os.makedirs(directory, PROOF_DIR_MODE)
        os.chmod(directory, PROOF_DIR_MODE)  # whatever the umask
    except OSError as exc:
        if exc.errno != errno.EEXIST or not os.path.isdir(directory):
            raise ProofError("cannot create the proof directory %s: %s" % (directory, exc.strerror or exc))


def write_proof(directory, document):
    """Write the proof atomically (0640) without replacing an existing file.
    Returns (path, sha256 of the bytes written)."""
    _ensure_dir(directory)
    data = serialize(document)
    digest = hashlib.sha256(data).hexdigest()
    temp = os.path.join(directory, ".proof-%s.tmp" % binascii.hexlify(os.urandom(8)).decode("ascii"))
    try:
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PROOF_MODE)
    except OSError as exc:
        raise ProofError("cannot write in the proof directory %s: %s" % (directory, exc.strerror or exc))
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), PROOF_MODE)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        for sequence in range(1000):
            path = os.path.join(directory, proof_filename(document["finished_at"], document["institution_id"],
                                                          document["site_id"], sequence))
            try:
                # A hard link never replaces an existing proof of the same second.
                os.link(temp, path)
            except OSError as exc:
                if exc.errno == errno.EEXIST:
                    continue
                if os.path.exists(path):
                    continue
                os.rename(temp, path)  # file systems without hard links
            return path, digest
        raise ProofError("too many proofs named like %s in %s" % (path, directory))
    except (IOError, OSError) as exc:
        raise ProofError("cannot write the proof in %s: %s" % (directory, exc.strerror or exc))
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
