# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check a built collection tarball: what users need is in, what is not theirs is out.

    python tests/tools/check_build.py build/eeszt-connect-X.Y.Z.tar.gz
"""

import json
import sys
import tarfile

# Top-level entries that must never ship: tests, virtual environments, lab
# output, caches, build output, CI plumbing.
FORBIDDEN_TOP = {
    "tests", "molecule", ".venv", ".lab", ".cache", "build", ".ci", ".git",
    ".github", ".pytest_cache", ".ansible", "Makefile", "constraints.txt",
    "requirements-test.txt",
}
FORBIDDEN_ANYWHERE = ("__pycache__", ".pyc", "/.lab/", ".p12", ".password", ".key")
REQUIRED = {
    "MANIFEST.json", "FILES.json", "README.md", "COPYING", "meta/runtime.yml",
    "roles/lab/tasks/main.yml", "playbooks/site.yml", "playbooks/lab.yml",
    "inventories/demo/sites.eeszt_demo.yml", "plugins/inventory/demo_sites.py", "plugins/modules/lab_pki.py", "plugins/modules/lab_waf.py",
}


def main(path):
    problems = []
    with tarfile.open(path) as tar:
        names = [member.name.lstrip("./") for member in tar.getmembers()]
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    for name in names:
        top = name.split("/", 1)[0]
        if top in FORBIDDEN_TOP or top.startswith(".venv"):
            problems.append("must not ship: %s" % name)
        elif any(marker in "/" + name for marker in FORBIDDEN_ANYWHERE):
            problems.append("must not ship: %s" % name)
    for name in sorted(REQUIRED - set(names)):
        problems.append("missing: %s" % name)
    info = manifest["collection_info"]
    if (info["namespace"], info["name"]) != ("eeszt", "connect"):
        problems.append("wrong collection name %s.%s" % (info["namespace"], info["name"]))
    for problem in problems:
        print(problem)
    print("%s: %d files, %d problems" % (path, len(names), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_build.py COLLECTION_TARBALL")
    sys.exit(main(sys.argv[1]))
