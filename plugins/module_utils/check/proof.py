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

import errno
import json
import os
import re

from ansible_collections.eeszt.connect.plugins.module_utils.check.errors import ProofError
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import make_dirs, sha256_hex, write_new

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
        kept = dict((key, endpoint.get(key)) for key in
                    ("name", "url", "method", "expect_status", "passed", "ms", "steps", "failure"))
        if endpoint.get("proxy"):
            # Only when the endpoint went through a proxy: its URL, never its credentials.
            kept["proxy"] = endpoint["proxy"]
        endpoints.append(kept)
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
    try:
        make_dirs(directory, PROOF_DIR_MODE)  # whatever the umask; a concurrent creator is no error
    except OSError as exc:
        raise ProofError("cannot create the proof directory %s: %s" % (directory, exc.strerror or exc))


# The directory itself refuses writing: the remedy is the directory's owner or mode, not the file.
_DIRECTORY_REFUSED = (errno.EACCES, errno.EPERM, errno.EROFS)


def write_proof(directory, document):
    """Write the proof atomically (0640) without replacing an existing file.

    The first free name of :func:`proof_filename`'s sequence is taken (``common.files.write_new``: a complete
    file is linked in, so a concurrent writer can never overwrite it; a name already taken, even by the same
    bytes, moves on to the next number). Returns (path, sha256 of the bytes written)."""
    _ensure_dir(directory)
    data = serialize(document)
    for sequence in range(1000):
        path = os.path.join(directory, proof_filename(document["finished_at"], document["institution_id"],
                                                      document["site_id"], sequence))
        try:
            if write_new(path, data, PROOF_MODE):
                return path, sha256_hex(data)
        except FileExistsError:
            continue
        except (IOError, OSError) as exc:
            if exc.errno in _DIRECTORY_REFUSED:
                raise ProofError("cannot write in the proof directory %s: %s" % (directory, exc.strerror or exc))
            raise ProofError("cannot write the proof in %s: %s" % (directory, exc.strerror or exc))
    raise ProofError("too many proofs named like %s in %s" % (path, directory))
