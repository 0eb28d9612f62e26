# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report, rebuilt from the archive's contents alone.

``ledger.scan_archive`` reads every proof and seal on disk and the collection
run records (the ledger); ``index.build_index`` turns that into the index (every proof,
the latest per site, pass/fail, certificate expiry); ``tables`` renders
``report.csv`` and ``junit.xml``, ``html_report`` renders ``report.html``
(self-contained: inline CSS, SVG charts and a little JavaScript for sorting;
no network), ``bundles.build_bundle`` makes one institution evidence bundle per
institution (the vendor's sealed evidence, not the eKapu certificate that the
operator's verification program issues). Because nothing comes from a play's memory, archives of partial
runs, re-runs and other controllers merge into one report.

A site's row reflects its latest run at every stage, never a stale green: a
failure recorded after its latest proof (a stage that failed, the site
unreachable at its last run, a rotation whose check failed) makes the site
failed with that reason until a newer proof is archived; the last passing
proof is kept as history, with its age. ``report.html`` is rendered in English
or Hungarian (``language``); the machine-readable files keep English keys.
``runs`` records each collection run in the ledger; ``build_report`` here
writes every report file.

Every file is safe for what it holds, whatever a site wrote (``module_utils/common/safe_text.py``): no
formula cell in ``report.csv``, no character that XML 1.0, HTML or Prometheus' text format forbids, and
``index.json`` always valid UTF-8 JSON.

Standard library only. Outputs are deterministic: the same archive on the
same day gives the same bytes, so a second run changes nothing.
"""


from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import read_bytes, write_if_changed
from ansible_collections.eeszt.connect.plugins.module_utils.common.safe_text import json_safe
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import EVIDENCE_DIR
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import canonical_json, store
from ansible_collections.eeszt.connect.plugins.plugin_utils.report import fleet_metrics
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.bundles import build_bundle, remove_legacy_bundles
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.html_report import render_html
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.html_text import LANGUAGES
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.index import DEFAULT_STALE_HOURS, build_index
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.ledger import iso, scan_archive, utcnow
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.tables import content_digest, render_csv, render_junit


def build_report(archive, now=None, warn_days=30, bundles=True, title=None, check_mode=False,
                 stale_hours=DEFAULT_STALE_HOURS, language="en", incident_rule=None):
    """Rebuild every report file of the archive; returns (changed files, index).

    generated_at changes only when the content does, so a re-run on an
    unchanged archive (on the same day) writes nothing. ``language`` (en, hu)
    is the language of report.html; ``title`` None is that language's
    default. ``incident_rule`` (incidents.IncidentRule; None: the defaults) groups failing sites into incidents.
    """
    if language not in LANGUAGES:
        raise ProofsError("the report language must be one of %s, got %r" % (", ".join(LANGUAGES), language))
    now = now or utcnow()
    # What a site wrote may hold what UTF-8 or JSON cannot (a lone surrogate, NaN): the index and every file
    # rendered from it get text that encodes (common/safe_text.py); each writer makes it safe for its format.
    index = json_safe(build_index(scan_archive(archive), now=now, warn_days=warn_days, stale_hours=stale_hours,
                                  incident_rule=incident_rule))
    digest = content_digest(index)
    index_path = os.path.join(archive, "index.json")
    generated_at = iso(now)
    if os.path.isfile(index_path):
        try:
            previous = json.loads(read_bytes(index_path).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            previous = {}
        if isinstance(previous, dict) and previous.get("content_sha256") == digest and previous.get("generated_at"):
            generated_at = previous["generated_at"]
    document = dict(index)
    document["generated_at"] = generated_at
    document["content_sha256"] = digest
    outputs = [
        ("index.json", canonical_json(document)),
        ("report.csv", render_csv(index)),
        ("report.html", render_html(index, generated_at, title, language, bundles)),
        ("junit.xml", render_junit(index, generated_at)),
        ("metrics.prom", fleet_metrics.render(index)),
    ]
    if bundles:
        by_institution = {}
        for site in index["sites"]:
            by_institution.setdefault(site["institution_id"], []).append(site)
        for row in index["operator_files"]:
            by_institution.setdefault(row["institution_id"], [])
        for institution, sites in sorted(by_institution.items()):
            data = build_bundle(archive, institution, sites, index)
            if data is not None:
                outputs.append(("%s/%s_evidence.zip" % (EVIDENCE_DIR, institution), data))
    changed = remove_legacy_bundles(archive, check_mode)
    for relative, data in outputs:
        path = os.path.join(archive, *relative.split("/"))
        if check_mode:
            if not os.path.isfile(path) or read_bytes(path) != data:
                changed.append(relative)
            continue
        if store(path, data, write_if_changed):
            changed.append(relative)
    document["files"] = [relative for relative, dummy in outputs]
    return changed, document
