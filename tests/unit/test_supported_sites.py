# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""README's "Supported sites", the roles' meta/main.yml, the site Python check and Molecule agree (issue 25).

- every role's ``platforms`` lists exactly the rows that README says are tested or expected to work;
- the lowest site Python of the Makefile's vermin check is README's, ansible-test's (tests/config.yml)
  and no more than the Python of any tested or expected row;
- the rows tested here are the Debian suites that tests/images/build-site-image.sh builds and that the
  Molecule scenarios run on.
"""

import glob
import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUPPORTED = ("tested here", "expected to work, not tested here")


def read(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return handle.read()


def version(text):
    return tuple(int(part) for part in text.split("."))


def table():
    """[(os, support, python)] of README's table."""
    block = re.search(r"<!-- supported-sites: begin -->\n(.*?)\n<!-- supported-sites: end -->", read("README.md"), re.S)
    assert block, "README.md has no supported-sites block"
    rows = block.group(1).splitlines()
    assert rows[0] == "| site OS | support | Python it ships | what differs |"
    result = []
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        result.append((cells[0], cells[1], cells[2]))
    return result


def platform(os_cell):
    """The meta/main.yml platform of a README row: Debian 12 (bookworm) -> (Debian, bookworm)."""
    match = re.match(r"Debian \d+ \((\w+)\)$", os_cell) or re.match(r"Ubuntu \d+\.\d+ LTS \((\w+)\)$", os_cell)
    if match:
        return (os_cell.split()[0], match.group(1))
    match = re.match(r"EL (\d+) \(", os_cell)
    assert match, "a supported row the meta platforms cannot name: %r" % os_cell
    return ("EL", match.group(1))


def site_python():
    return re.search(r"^SITE_PYTHON := (\S+)$", read("Makefile"), re.M).group(1)


def test_every_role_lists_exactly_the_tested_and_expected_rows():
    expected = sorted(platform(os_cell) for os_cell, support, dummy in table() if support in SUPPORTED)
    assert ("Debian", "bookworm") in expected and ("EL", "9") in expected
    roles = sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "main.yml")))
    assert len(roles) == 5
    for path in roles:
        with open(path) as handle:
            platforms = yaml.safe_load(handle)["galaxy_info"]["platforms"]
        listed = sorted((entry["name"], str(item)) for entry in platforms for item in entry["versions"])
        assert listed == expected, path


def test_every_row_is_tested_expected_or_not_supported():
    supports = [support for dummy, support, dummy2 in table()]
    assert set(supports) == set(SUPPORTED) | {"not supported"}
    assert [os_cell for os_cell, support, dummy in table() if support == "not supported"] == ["Windows"]


def test_the_lowest_site_python_is_the_same_everywhere_and_below_every_supported_row():
    lowest = site_python()
    assert lowest == "3.8"
    assert "--target=$(SITE_PYTHON)-" in read("Makefile")
    assert "python_requires: '>=%s'" % lowest in read("tests", "config.yml")
    readme = read("README.md")
    assert "so it needs **Python %s or later**" % lowest in readme
    assert "`vermin --target=%s-`" % lowest in readme
    for os_cell, support, python in table():
        if support in SUPPORTED:
            shipped = re.match(r"(\d+\.\d+)", python).group(1)
            assert version(shipped) >= version(lowest), os_cell


def test_the_tested_rows_are_the_site_images_molecule_runs_on():
    tested = sorted(platform(os_cell)[1] for os_cell, support, dummy in table() if support == "tested here")
    script = read("tests", "images", "build-site-image.sh")
    suites = re.search(r"^SUITES=\(([^)]*)\)$", script, re.M).group(1).split()
    assert sorted(suites) == tested == ["bookworm", "trixie"]
    images = set()
    for path in glob.glob(os.path.join(ROOT, "molecule", "*", "molecule.yml")):
        with open(path) as handle:
            images |= set(entry["image"] for entry in yaml.safe_load(handle)["platforms"])
    assert images == set("eeszt-connect/site-base:%s" % suite for suite in suites)
