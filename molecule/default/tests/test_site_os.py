# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sites of this scenario really are the Debian releases README's "Supported sites" lists as tested.

Each site runs the release its inventory names (eeszt_molecule_debian_suite) with the Python that
release ships (README's table: 3.11 on Debian 12, 3.13 on Debian 13); between them, the scenario covers
both, so every other test of this directory passes on both.
"""

import os

import testinfra.utils.ansible_runner

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = RUNNER.get_hosts("eeszt_sites")

RELEASES = {"bookworm": ("12", "3.11"), "trixie": ("13", "3.13")}


def suite_of(name):
    return RUNNER.get_variables(name)["eeszt_molecule_debian_suite"]


def test_the_scenario_covers_both_tested_releases():
    assert sorted(set(suite_of(name) for name in RUNNER.get_hosts("eeszt_sites"))) == sorted(RELEASES)


def test_the_site_runs_its_release_and_its_python(host):
    suite = suite_of(host.backend.get_hostname())
    release, python = RELEASES[suite]
    os_release = dict(line.split("=", 1) for line in host.file("/etc/os-release").content_string.splitlines() if "=" in line)
    assert (os_release["ID"], os_release["VERSION_CODENAME"], os_release["VERSION_ID"].strip('"')) == ("debian", suite, release)
    version = host.check_output("python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'")
    assert version == python
