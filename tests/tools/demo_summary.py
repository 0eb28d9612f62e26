# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The closing block of `make demo`, printed after the lab has stopped: the verdict of the run.

    python tests/tools/demo_summary.py LAB_DIR SUMMARY_JSON RC

SUMMARY_JSON is the fleet summary that site.yml wrote (EESZT_FLEET_SUMMARY_JSON), RC the exit status of
site.yml. Prints the sites passed / failed / refused by the preflight, one line per problem site with its
category, message and hint, and where the report is; exits with RC, so that `make demo` fails only when
the run did. Run by make (MAKELEVEL set) after a failed run, its last line says that make reports that status
in a line of its own after the block: make prints "make: *** [...] Error 2" for every recipe that fails,
and nothing in the recipe can stop that without exiting 0.
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.results import semicolons  # noqa: E402

# The preflight's error code: a site refused before any stage touched it.
REFUSED_ERRORS = ("bad_variables",)
PASSED = ("PASS", "OK")


def classify(site):
    """passed, refused or failed."""
    if site.get("result") in PASSED:
        return "passed"
    if site.get("result") == "REFUSED" or site.get("error") in REFUSED_ERRORS:
        return "refused"
    return "failed"


def problem_line(site):
    """One problem site: host and identity, category, message, hint."""
    category = site.get("failure_category") or site.get("error") or site.get("result", "").lower() or "unknown"
    message = site.get("message") or site.get("reason") or "no message"
    identity = "%s/%s" % (site.get("institution_id") or "-", site.get("site_id") or "-")
    return "  %s (%s): %s" % (site.get("host"), identity, semicolons(
        "%s: %s" % (category, message), "hint: %s" % site["hint"] if site.get("hint") else "",
        "proof: %s" % site["archive_path"] if site.get("archive_path") else ""))


def verdict(lab_dir, summary_path, rc, make=False):
    """The closing block as lines (``make``: run by make, which adds its own line after a failure)."""
    lines = ["", "== eeszt.connect demo: verdict"]
    try:
        with open(summary_path) as handle:
            document = json.load(handle)
        sites = [site for site in document.get("sites") or [] if isinstance(site, dict)]
    except (OSError, ValueError) as exc:
        sites = None
        lines.append("no fleet summary from site.yml (%s): see its output above" % (
            getattr(exc, "strerror", None) or exc))
    if sites is not None:
        kinds = [classify(site) for site in sites]
        lines.append("sites: %d  passed: %d  failed: %d  refused by the preflight: %d" % (
            len(sites), kinds.count("passed"), kinds.count("failed"), kinds.count("refused")))
        problems = [site for site, kind in zip(sites, kinds) if kind != "passed"]
        if problems:
            lines.append("problem sites:")
            lines.extend(problem_line(site) for site in problems)
    report = os.path.join(lab_dir, "proofs", "report.html")
    lines.append("report: %s" % (report if os.path.exists(report) else "none (the proofs stage did not run)"))
    lines.append("result: %s" % ("every site passed" if rc == 0 else
                                 "site.yml failed (exit status %d); the demo exits with it" % rc))
    if rc != 0 and make:
        lines[-1] += ", which make reports in its own last line (make: *** [...] Error %d)" % rc
    return lines


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: demo_summary.py LAB_DIR SUMMARY_JSON RC\n")
        return 2
    try:
        rc = int(argv[3])
    except ValueError:
        rc = 1
    print("\n".join(verdict(os.path.abspath(argv[1]), argv[2], rc, make=bool(os.environ.get("MAKELEVEL")))))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
