# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a certificate set on a site is: its file names and modes, its ``state.json`` and the facts read back
from it (standard library only). Written by :mod:`cert_store`, restored by :mod:`cert_rollback`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib
import hmac
import json
import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import read_bytes, sha256_hex

STATE_FILE = "state.json"
STATE_SCHEMA = "eeszt.connect/certificate-state/v1"
PEM_FILES = ("cert.pem", "key.pem", "chain.pem", "fullchain.pem")
PKCS12_FILES = {"pkcs12": "client.p12", "java": "keystore.p12"}
MANAGED_FILES = PEM_FILES + tuple(PKCS12_FILES.values())
SECRET_FILES = ("key.pem", "client.p12", "keystore.p12")
PBKDF2_ITERATIONS = 200000
DIR_MODE = 0o750
PUBLIC_MODE = 0o644
STATE_MODE = 0o600


def pem_der_sha256(pem_text):
    """SHA-256 (hex) of the DER of the first PEM block, or None."""
    lines = []
    inside = False
    for line in pem_text.splitlines():
        line = line.strip()
        if line.startswith("-----BEGIN "):
            inside = True
            continue
        if line.startswith("-----END "):
            break
        if inside:
            lines.append(line)
    if not lines:
        return None
    try:
        return sha256_hex(base64.b64decode("".join(lines)))
    except (ValueError, TypeError):
        return None


def password_digest(password, salt=None, iterations=PBKDF2_ITERATIONS):
    """Salted PBKDF2-SHA256 of an export password, as stored in state.json."""
    if salt is None:
        salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return {
        "algorithm": "pbkdf2-sha256",
        "iterations": iterations,
        "salt": base64.b64encode(salt).decode("ascii"),
        "digest": base64.b64encode(digest).decode("ascii"),
    }


def password_matches(password, recorded):
    """True when ``password`` produces the digest recorded in state.json."""
    if not isinstance(recorded, dict) or recorded.get("algorithm") != "pbkdf2-sha256":
        return False
    try:
        salt = base64.b64decode(recorded["salt"])
        iterations = int(recorded["iterations"])
        expected = base64.b64decode(recorded["digest"])
    except (KeyError, ValueError, TypeError):
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(actual, expected)


def utc_stamp(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + "%06dZ" % now.microsecond


def set_facts(path):
    """Certificate facts of a set directory: its state.json facts, else cert.pem's fingerprint."""
    try:
        state = json.loads(read_bytes(os.path.join(path, STATE_FILE)).decode("utf-8"))
    except (OSError, ValueError):
        state = None
    if isinstance(state, dict) and state.get("schema") == STATE_SCHEMA and isinstance(state.get("facts"), dict) \
            and state["facts"].get("sha256"):
        return dict(state["facts"])
    try:
        fingerprint = pem_der_sha256(read_bytes(os.path.join(path, "cert.pem")).decode("ascii", "replace"))
    except OSError:
        return {}
    return {"sha256": fingerprint} if fingerprint else {}


def set_complete(path):
    """Whether a set (or backup) directory holds at least a certificate and its key as regular files."""
    return all(os.path.isfile(os.path.join(path, name)) and not os.path.islink(os.path.join(path, name))
               for name in ("cert.pem", "key.pem"))


def facts_text(facts, files):
    """A diff-friendly rendering of certificate facts (never key material)."""
    if not facts:
        return ""
    lines = []
    for key in ("subject", "issuer", "serial", "not_before", "not_after", "sha256"):
        if facts.get(key) is not None:
            lines.append("%s: %s" % (key, facts[key]))
    if files:
        lines.append("files: %s" % ", ".join(files))
    return "\n".join(lines) + "\n"
