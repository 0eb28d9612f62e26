# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An institution's PFX opened once per run of the certificate stage, for every site that uses it.

eeszt.connect.waf_certificate_open (run once) opens each distinct (PFX file, password) of the play's
hosts once and hands each host the opened contents as a no_log result (``sources`` by id, ``hosts``
mapping a host to its id); eeszt.connect.waf_certificate then validates the contents per host
(min_days, institution, chain) as if it had opened the file itself, with the same messages and codes.

The run-once task reads each host's inventory variables; a task or role parameter (``include_role``'s
``vars``, a play's ``vars``) can give one host's task another PFX or password. So each opened source
records the file it opened and a keyed digest of the password (an HMAC with a random key of this opening,
never the password), and :func:`matches` tells the per-host task whether the source is what it was given
itself; when not, that task opens its own file as before.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_store import EesztCertificateError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.certificate import PfxContents

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - certificate.require_cryptography names it
    x509 = serialization = None


class OpenedPfxError(EesztCertificateError):
    """The PFX of this host could not be opened: the message and code of the one opening, per host."""

    def __init__(self, message, code):
        super(OpenedPfxError, self).__init__(message)
        self.code = code


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii") if cert is not None else None


def to_material(contents, shown):
    """The opened PFX as plain data (PEM text; the private key unencrypted: no_log only)."""
    key = None
    if contents.key is not None:
        key = contents.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode("ascii")
    return dict(shown=shown, key=key, certificate=_cert_pem(contents.certificate),
                additional=[_cert_pem(cert) for cert in contents.additional], algorithms=list(contents.algorithms))


def from_material(material):
    """(PfxContents, shown path) from ``to_material``'s data, or OpenedPfxError for a failed opening."""
    if material.get("error"):
        raise OpenedPfxError(material.get("msg") or "the PFX file could not be opened", material["error"])
    key = material.get("key")
    cert = material.get("certificate")
    contents = PfxContents(
        material["shown"],
        serialization.load_pem_private_key(key.encode("ascii"), None) if key else None,
        x509.load_pem_x509_certificate(cert.encode("ascii")) if cert else None,
        [x509.load_pem_x509_certificate(pem.encode("ascii")) for pem in material.get("additional") or []],
        material.get("algorithms") or [])
    return contents, material["shown"]


class OnceOpener:
    """Opens each distinct (file, password) once; ``opened`` counts the openings."""

    def __init__(self, open_file):
        self._open_file = open_file
        self._key = os.urandom(16).hex()
        self._ids = {}
        self.sources = {}
        self.hosts = {}
        self.opened = 0

    def failed(self, host, code, message):
        """Record a host whose PFX was not found (its own message: it names the host's inventory)."""
        source_id = "host:%s" % host
        self.sources[source_id] = dict(error=code, msg=message)
        self.hosts[host] = source_id

    def add(self, host, found, password):
        """Give ``host`` the contents of ``found`` opened with ``password``, opening it only the first time."""
        key = (found, password or None)
        if key not in self._ids:
            source_id = "pfx%d" % len(self._ids)
            self._ids[key] = source_id
            self.opened += 1
            try:
                material = to_material(self._open_file(found, password), found)
            except EesztCertificateError as exc:
                material = dict(error=exc.code, msg=str(exc))
            material.update(found=found, password_key=self._key, password_digest=_digest(self._key, password))
            self.sources[source_id] = material
        self.hosts[host] = self._ids[key]


def _digest(key, password):
    return hmac.new(key.encode("ascii"), (password or "").encode("utf-8"), hashlib.sha256).hexdigest()


def matches(material, found, password):
    """Whether ``material`` was opened from ``found`` with ``password`` (the task's own file and password)."""
    if not isinstance(material, dict) or material.get("found") != found or not material.get("password_key"):
        return False
    return hmac.compare_digest(str(material.get("password_digest")), _digest(material["password_key"], password))
