# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The archive's signer register: which certificates seal which institution's proofs.

The public profile of the WAF-SSL certificate is not known, so the binding of a seal to its institution
is kept by the archive. ``<archive>/signers/<institution_id>.json`` lists the SHA-256 fingerprints of the
certificates that sealed that institution's files, each with its subject, issuer, serial, not-after, the
controller's time it was registered (``registered_at``) and how (``source``: ``sealed`` when the
institution's configured signing material sealed, ``adopted`` by ``eeszt_proofs_register_existing``,
``merged`` from another archive)::

    {"schema": "eeszt.connect/signer-register/v1", "institution_id": "100001",
     "signers": [{"sha256": "...", "subject": "...", "issuer": "...", "serial": "...",
                  "not_after": "...", "vendor": false, "registered_at": "...", "source": "sealed"}]}

Rules (``admit``): a certificate registered for one institution never seals another's files; a
certificate whose subject carries institution IDs (the lab's does; ``pki.validation`` reads them as
``eeszt_certificate_match_institution`` does) must carry the institution of the files it seals. The
vendor's own sealing key (``eeszt_proofs_signing_key`` and ``eeszt_proofs_signing_cert``) is the one
certificate that may be registered for several institutions (``vendor: true`` in each); a PFX
(``eeszt_proofs_signing_pfx``, by default the institution's WAF-SSL PFX) is an institution's.

Registers are written atomically, by the run that holds the archive lock (``proofs_report``), before
the seals they allow, and only ever grow: an entry is never rewritten. Merging two archives is the
union of their registers; an entry of the other archive that contradicts this one's (the same
certificate registered here for another institution) is refused and named.

Standard library and ``cryptography`` (through ``pki``), controller only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import read_bytes
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError, SealError, SealInvalidError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.crypto import certificate_facts
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import verify_detached
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.validation import other_institution_in_subject
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import (
    SAFE_NAME,
    SEAL_SUFFIX,
    SIGNERS_DIR,
    check_name,
    iter_archive_files,
    iter_operator_entries,
    operator_seal_path,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import canonical_json, store

REGISTER_SCHEMA = "eeszt.connect/signer-register/v1"
SIGNING_VARIABLES = "eeszt_proofs_signing_pfx (by default eeszt_certificate_pfx_src)"
REGISTER_MAX_BYTES = 1048576


class SignerRefusedError(SealError):
    """A certificate that must not seal the files of this institution (the register or its subject says so)."""


def now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def register_path(archive, institution_id):
    """``<archive>/signers/<institution_id>.json``."""
    return os.path.join(archive, SIGNERS_DIR, check_name(institution_id, "institution_id") + ".json")


def register_relative(institution_id):
    return "%s/%s.json" % (SIGNERS_DIR, institution_id)


def entry_for(certificate, vendor, source, registered_at=None):
    """A register entry for ``certificate`` (an x509 certificate)."""
    facts = certificate_facts(certificate, datetime.datetime.now(datetime.timezone.utc))
    return {"sha256": facts["sha256"], "subject": facts["subject"], "issuer": facts["issuer"],
            "serial": facts["serial"], "not_after": facts["not_after"], "vendor": bool(vendor),
            "registered_at": registered_at or now_text(), "source": source}


def _check_entry(entry):
    if not isinstance(entry, dict):
        return "an entry is not a mapping"
    digest = entry.get("sha256")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return "an entry's sha256 is not 64 lower-case hex digits"
    for field in ("subject", "registered_at", "source"):
        if not isinstance(entry.get(field), str):
            return "the entry of %s has no text %s" % (digest, field)
    if not isinstance(entry.get("vendor", False), bool):
        return "the entry of %s: vendor is not true or false" % digest
    return None


def _read_register(path, institution_id):
    """{sha256: entry} of one register file; ProofsError naming what is wrong with it."""
    if os.path.islink(path) or not os.path.isfile(path):
        raise ProofsError("not a regular file")
    if os.path.getsize(path) > REGISTER_MAX_BYTES:
        raise ProofsError("larger than %d bytes" % REGISTER_MAX_BYTES)
    try:
        document = json.loads(read_bytes(path).decode("utf-8"))
    except (IOError, OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProofsError("cannot be read (%s)" % exc)
    if not isinstance(document, dict) or document.get("schema") != REGISTER_SCHEMA:
        raise ProofsError("not a signer register (schema %s)" % REGISTER_SCHEMA)
    if document.get("institution_id") != institution_id:
        raise ProofsError("it names institution %r, not %s" % (document.get("institution_id"), institution_id))
    entries = document.get("signers")
    if not isinstance(entries, list):
        raise ProofsError("signers is not a list")
    found = {}
    for entry in entries:
        problem = _check_entry(entry)
        if problem:
            raise ProofsError(problem)
        found.setdefault(entry["sha256"], dict(entry))
    return found


class Register:
    """Every institution's register of one archive, read once; ``damaged``: {institution: why} of files that
    cannot be read (never overwritten: that institution seals nothing until the file is restored)."""

    def __init__(self, archive):
        self.archive = archive
        self.entries = {}
        self.damaged = {}
        self._changed = set()

    @classmethod
    def load(cls, archive):
        register = cls(archive)
        folder = os.path.join(archive, SIGNERS_DIR)
        if os.path.islink(folder):
            register.damaged["*"] = "%s is a symbolic link, not a folder of the archive; it is not followed" % folder
            return register
        if not os.path.isdir(folder):
            return register
        for name in sorted(os.listdir(folder)):
            if name.startswith(".") or not name.endswith(".json"):
                continue
            institution = name[:-len(".json")]
            path = os.path.join(folder, name)
            if not SAFE_NAME.match(institution):
                register.damaged[institution] = "%s: not a register file name (<institution_id>.json)" % path
                continue
            try:
                register.entries[institution] = _read_register(path, institution)
            except ProofsError as exc:
                register.damaged[institution] = "the signer register %s is damaged: %s; restore it from a backup" \
                    % (path, exc)
        return register

    def has(self, institution_id):
        return "%s" % institution_id in self.entries

    def registered(self, institution_id, digest):
        return digest in self.entries.get("%s" % institution_id, {})

    def institutions_of(self, digest):
        """{institution: entry} of every register that lists ``digest``."""
        return dict((institution, entries[digest]) for institution, entries in sorted(self.entries.items())
                    if digest in entries)

    def conflicts(self):
        """[(sha256, [institutions], subject)]: certificates registered for two institutions or more, except the
        vendor's own key (registered as ``vendor`` in every one of them)."""
        found = {}
        for institution, entries in sorted(self.entries.items()):
            for digest, entry in entries.items():
                found.setdefault(digest, []).append((institution, entry))
        return [(digest, [i for i, dummy in listed], listed[0][1].get("subject"))
                for digest, listed in sorted(found.items())
                if len(listed) > 1 and not all(e.get("vendor") for dummy, e in listed)]

    def registered_elsewhere(self, institution_id, digest, subject, vendor):
        """Why the register forbids the certificate ``digest`` to seal ``institution_id``'s files, or None."""
        institution_id = "%s" % institution_id
        for other, entry in self.institutions_of(digest).items():
            if other != institution_id and not (vendor and entry.get("vendor")):
                return ("the certificate %s (SHA-256 %s) is registered for institution %s in the archive's signer "
                        "register (%s, since %s): it cannot seal the files of institution %s"
                        % (subject, digest, other, register_relative(other), entry.get("registered_at"),
                           institution_id))
        return None

    @staticmethod
    def subject_problem(institution_id, digest, subject, certificate):
        """Why the certificate's subject forbids it to seal ``institution_id``'s files (it carries other IDs)."""
        carried = other_institution_in_subject(certificate, "%s" % institution_id)
        if carried:
            return ("the certificate %s (SHA-256 %s) carries institution ID %s in its subject, not %s: it is "
                    "another institution's certificate" % (subject, digest, ", ".join(carried), institution_id))
        return None

    def problem(self, institution_id, digest, subject, vendor, certificate=None):
        """Why the certificate ``digest`` must not seal (or have sealed) ``institution_id``'s files, or None."""
        why = self.registered_elsewhere(institution_id, digest, subject, vendor)
        if why is None and certificate is not None:
            why = self.subject_problem(institution_id, digest, subject, certificate)
        return why

    def admit(self, institution_id, signer):
        """Refuse (SignerRefusedError naming the variable) a signer that must not seal ``institution_id``'s files."""
        institution_id = "%s" % institution_id
        if institution_id in self.damaged or "*" in self.damaged:
            raise SignerRefusedError(self.damaged.get(institution_id) or self.damaged["*"])
        entry = entry_for(signer.certificate, signer.vendor, "sealed")
        why = self.problem(institution_id, entry["sha256"], entry["subject"], signer.vendor, signer.certificate)
        if why:
            raise SignerRefusedError("%s; set %s of the sites of institution %s to that institution's own PFX (or "
                                     "eeszt_proofs_signing_key and eeszt_proofs_signing_cert to the vendor's own "
                                     "sealing key)" % (why, SIGNING_VARIABLES, institution_id))
        return entry

    def add(self, institution_id, entry):
        """Register ``entry`` for ``institution_id`` unless it is there; True when added. An entry is never rewritten."""
        institution_id = "%s" % check_name(institution_id, "institution_id")
        entries = self.entries.setdefault(institution_id, {})
        if entry["sha256"] in entries:
            return False
        entries[entry["sha256"]] = dict(entry)
        self._changed.add(institution_id)
        return True

    def register_signer(self, institution_id, signer):
        """``admit`` then ``add`` then ``save``: the register holds the signer before its first seal is written."""
        self.add(institution_id, self.admit(institution_id, signer))
        self.save()

    def document(self, institution_id):
        entries = sorted(self.entries.get(institution_id, {}).values(),
                         key=lambda e: (e.get("registered_at"), e["sha256"]))
        return {"schema": REGISTER_SCHEMA, "institution_id": institution_id, "signers": entries}

    def save(self):
        """Write the registers that changed, each atomically; returns their archive paths."""
        written = []
        for institution_id in sorted(self._changed):
            store(register_path(self.archive, institution_id), canonical_json(self.document(institution_id)))
            written.append(register_relative(institution_id))
        self._changed = set()
        return written

    def merge_plan(self, other):
        """What merging the registers of ``other`` (a Register of another archive) adds here.

        Returns (added, refused): added [(institution, entry)] of entries not here yet that contradict
        nothing here (source ``merged``, the other archive's time kept); refused [message] of entries of a
        certificate registered here for another institution (or there for several, outside the vendor's key).
        """
        added, refused = [], []
        theirs = set(digest for digest, dummy, dummy in other.conflicts())
        for institution, entries in sorted(other.entries.items()):
            for digest, entry in sorted(entries.items()):
                if self.registered(institution, digest):
                    continue
                why = self.problem(institution, digest, entry.get("subject"), entry.get("vendor", False))
                if why is None and digest in theirs:
                    why = ("the certificate %s (SHA-256 %s) is registered there for several institutions (%s)"
                           % (entry.get("subject"), digest, ", ".join(other.institutions_of(digest))))
                if why:
                    refused.append("%s of %s: %s" % (register_relative(institution), other.archive, why))
                else:
                    added.append((institution, dict(entry, source="merged")))
        return added, refused


def _sealed_files(archive):
    """(institution, archive path, seal path) of every proof and operator file of the archive."""
    for institution, site, name in iter_archive_files(archive):
        if name.endswith(".json"):
            relative = "/".join((institution, site, name))
            yield institution, relative, relative + SEAL_SUFFIX
    for relative, what in iter_operator_entries(archive):
        if what == "file":
            yield relative.split("/")[0], relative, operator_seal_path(relative)


def adopt_existing(archive, anchors):
    """Register, once, the signers of the archive's seals that no register holds (``eeszt_proofs_register_existing``).

    For an archive made before registers existed: every seal that verifies and whose signer chains to
    ``anchors`` (required) counts; its signer is added (source ``adopted``) to the register of the
    institution whose files it sealed, unless it sealed the files of several institutions (and is not
    registered as the vendor's own key), is registered for another institution, or its subject carries
    another institution's ID: those are named and not adopted. Seals that do not verify are left to
    verify_proofs to name. Returns (adopted [{institution_id, sha256, subject}], refused [message]).
    """
    if not anchors:
        raise ProofsError("adopting the signers of an archive's existing seals (eeszt_proofs_register_existing) "
                          "needs the CA file they must chain to: set eeszt_proofs_ca_file")
    register = Register.load(archive)
    if register.damaged:
        raise ProofsError("; ".join(why for dummy, why in sorted(register.damaged.items())))
    seen = {}
    for institution, relative, seal_relative in _sealed_files(archive):
        try:
            data = read_bytes(os.path.join(archive, *relative.split("/")))
            seal = read_bytes(os.path.join(archive, *seal_relative.split("/")))
            facts = verify_detached(data, seal, anchors)
        except (IOError, OSError, SealInvalidError):
            continue
        item = seen.setdefault(facts["sha256"], {"certificate": facts["certificate"], "subject": facts["subject"],
                                                 "institutions": set()})
        item["institutions"].add(institution)
    adopted, refused = [], []
    for digest, item in sorted(seen.items()):
        vendor = any(e.get("vendor") for e in register.institutions_of(digest).values())
        institutions = sorted(item["institutions"])
        if len(institutions) > 1 and not vendor:
            refused.append("the certificate %s (SHA-256 %s) sealed files of several institutions (%s): not adopted; "
                           "if it is the vendor's own sealing key, seal with it through eeszt_proofs_signing_key "
                           "and eeszt_proofs_signing_cert first (that registers it as the vendor's)"
                           % (item["subject"], digest, ", ".join(institutions)))
            continue
        for institution in institutions:
            if register.registered(institution, digest):
                continue
            why = register.problem(institution, digest, item["subject"], vendor, item["certificate"])
            if why:
                refused.append("%s: not adopted" % why)
                continue
            register.add(institution, entry_for(item["certificate"], vendor, "adopted"))
            adopted.append({"institution_id": institution, "sha256": digest, "subject": item["subject"]})
    register.save()
    return adopted, refused
