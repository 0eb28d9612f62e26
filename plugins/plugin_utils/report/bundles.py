# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Institution evidence bundles (one zip per institution) and the removal of legacy bundles."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import io
import os
import re
import zipfile

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import read_bytes, sha256_hex
from ansible_collections.eeszt.connect.plugins.module_utils.common.safe_text import clean_text
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import (
    SEAL_SUFFIX,
    UPLOAD_DIR,
    operator_seal_path,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.ledger import parse_time


VERIFY_COMMAND = ("openssl cms -verify -binary -purpose any -inform DER -CAfile CA.pem "
                  "-content PROOF.json -in PROOF.json.p7s -out /dev/null")


# A zip member's time: what the format can hold (MS-DOS time: 1980 to 2107, even seconds).
ZIP_EARLIEST = datetime.datetime(1980, 1, 1, tzinfo=datetime.timezone.utc)
ZIP_LATEST = datetime.datetime(2107, 12, 31, 23, 59, 58, tzinfo=datetime.timezone.utc)


def _zip_time(text):
    moment = parse_time(text) or ZIP_EARLIEST
    moment = min(max(moment, ZIP_EARLIEST), ZIP_LATEST)
    return moment.timetuple()[:6]


EVIDENCE_README = """Institution evidence bundle: institution %(institution)s
==========================================================

What this is
------------
The IT vendor's own sealed evidence that the institution's sites are
connected to EESZT, collected with the Ansible collection eeszt.connect:

- per site, the latest passing connection check proof of the collection
  (SITE_ID/*.json), with its detached CMS seal (*.json.p7s);
- per site, the operator files archived from it (SITE_ID/operator/files/),
  each with its seal (SITE_ID/operator/seals/NAME.p7s): files that the
  operator's verification program or the institution produced and that
  were copied to the site;
- SHA256SUMS: the SHA-256 of every file in this bundle.

What this is not
----------------
This bundle is NOT the proof that the institution uploads to eKapu. The
official step: the EESZT operator's verification program, eesztConnect.exe
(the "ellenőrző keretprogram"), is run at the site; after a successful run
it issues an electronic certificate. The institution's administrator
uploads that file to the eKapu portal, and the operator checks it. Nothing
in this bundle replaces that file, and eeszt.connect uploads nothing to
eKapu. Operator files in this bundle are archived copies, sealed by the
vendor; the originals are whatever the operator's program issued.

Checking a seal
---------------
openssl cms -verify -binary -purpose any -inform DER -CAfile CA.pem \\
  -content FILE -in FILE_SEAL.p7s -out /dev/null

(CA.pem: the CA chain of the sealing certificate; for the institution's
WAF-SSL key, the EESZT client CA chain.)
"""


def _zip_member(bundle, member, data, when, sums):
    info = zipfile.ZipInfo(member, date_time=_zip_time(when))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    bundle.writestr(info, data)
    if sums is not None:
        sums.append("%s  %s" % (sha256_hex(data), member))


def _operator_members(archive, index, institution):
    """{site_id: [(member, archive path, collected_at)]}: the operator files of the institution, with seals."""
    members = {}
    for row in index.get("operator_files") or []:
        if row["institution_id"] != institution or row["status"] == "missing":
            continue
        seal = operator_seal_path(row["path"])
        for relative in (row["path"], seal):
            source = os.path.join(archive, *relative.split("/"))
            if os.path.isfile(source) and not os.path.islink(source):
                member = "/".join(relative.split("/")[1:])
                members.setdefault(row["site_id"], []).append((member, source, row["collected_at"]))
    return members


def build_bundle(archive, institution, sites, index=None):
    """The institution evidence bundle (zip bytes) of one institution, or None when it has nothing to hold.

    The latest passing proof of each site with its seal, the operator files of
    each site with theirs, SHA256SUMS and README.txt (what the bundle is, and
    that it is not the eKapu certificate of the operator's verification program).
    """
    chosen = [s for s in sites if s["latest_passing"]]
    operator = _operator_members(archive, index or {}, institution)
    if not chosen and not operator:
        return None
    stream = io.BytesIO()
    sums = []
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as bundle:
        for site in sorted(chosen, key=lambda s: s["site_id"]):
            relative = site["latest_passing"]
            for suffix in ("", SEAL_SUFFIX):
                source = os.path.join(archive, *(relative + suffix).split("/"))
                if not os.path.isfile(source):
                    continue
                member = "%s/%s" % (site["site_id"], os.path.basename(source))
                _zip_member(bundle, member, read_bytes(source), site["finished_at"], sums)
        for site_id in sorted(operator):
            for member, source, collected_at in sorted(operator[site_id]):
                _zip_member(bundle, member, read_bytes(source), collected_at, sums)
        latest = max([s["finished_at"] or "" for s in chosen]
                     + [c or "" for items in operator.values() for dummy, dummy2, c in items])
        _zip_member(bundle, "SHA256SUMS", "\n".join(sums) + "\n", latest, None)
        _zip_member(bundle, "README.txt", EVIDENCE_README % {"institution": institution}, latest, None)
        notice = bundle_notice(chosen)
        if notice:
            _zip_member(bundle, BUNDLE_NOTICE, notice, max((s["failure"] or {}).get("at") or "" for s in chosen), None)
    return stream.getvalue()


BUNDLE_NOTICE = "NOTICE-LATER-FAILURES.txt"


def bundle_notice(sites):
    """Text that names each bundled site whose passing proof is older than a later failure, or None."""
    outdated = [s for s in sorted(sites, key=lambda s: s["site_id"]) if s.get("bundle_outdated")]
    if not outdated:
        return None
    lines = ["This bundle holds the latest passing proof of each site. The sites below failed AFTER the proof",
             "bundled for them: that proof is history, not their current state (see report.html).", ""]
    for site in outdated:
        failure = site["failure"] or {}
        lines.append("%s (%s): passing proof of %s; failed at %s in the %s stage: %s: %s" % (
            site["site_id"], site["host"] or "-", site["latest_passing_at"] or "?", failure.get("at") or "?",
            failure.get("stage") or "collection", failure.get("category") or "failed",
            failure.get("message") or "no message recorded"))
    # A site's words (host, message) are shown as text: no control character reaches a terminal that prints it.
    return "\n".join(clean_text(line) for line in lines) + "\n"


def legacy_bundles(archive):
    """Bundles that earlier versions wrote as upload/<institution>_ekapu.zip (relative paths)."""
    folder = os.path.join(archive, UPLOAD_DIR)
    if not os.path.isdir(folder) or os.path.islink(folder):
        return []
    return ["%s/%s" % (UPLOAD_DIR, name) for name in sorted(os.listdir(folder))
            if re.match(r"^[0-9A-Za-z][0-9A-Za-z._-]*_ekapu\.zip$", name)
            and os.path.isfile(os.path.join(folder, name)) and not os.path.islink(os.path.join(folder, name))]


def remove_legacy_bundles(archive, check_mode=False):
    """Remove upload/*_ekapu.zip (and upload/ when then empty); their content is in evidence/ now."""
    removed = legacy_bundles(archive)
    if check_mode:
        return removed
    for relative in removed:
        os.unlink(os.path.join(archive, *relative.split("/")))
    folder = os.path.join(archive, UPLOAD_DIR)
    if removed and not os.listdir(folder):
        os.rmdir(folder)
    return removed
