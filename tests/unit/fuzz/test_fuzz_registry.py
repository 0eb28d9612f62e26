# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the site registry parser behind the eeszt.connect.sites inventory plugin.

Whatever the file holds (garbage, other encodings, wrong types, missing or
extra columns, duplicate keys, huge fields, alias bombs), ``load_registry``
returns valid sites or raises ``RegistryError`` whose every problem names the
file (and the row and field where there is one); never another exception,
never a hang. Settings: ``conftest.py`` next to this file.
"""

import csv
import io
import os

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.registry import load_registry
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.registry_read import (
    COLUMNS,
    Problem,
    RegistryError,
)

LONG = int(os.environ.get("EESZT_FUZZ_EXAMPLES") or 0)


def examples(default):
    return LONG or default


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-registry")


def load(folder, name, data, **options):
    """Write ``data`` to ``folder/name`` and load it; the sites or the RegistryError."""
    path = folder / name
    path.write_bytes(data)
    try:
        sites = load_registry(str(path), **options)
    except RegistryError as exc:
        assert exc.problems, exc
        for problem in exc.problems:
            assert isinstance(problem, Problem)
            assert problem.path == str(path)
            assert str(problem).startswith(str(path))
            assert problem.message
            assert len(str(problem)) < len(str(path)) + 600, "a message must stay readable: %.200s" % problem
        return exc
    assert isinstance(sites, list)
    for site in sites:
        assert set(("host", "institution_id", "site_id", "environment", "tags", "vars", "location")) <= set(site)
        assert all(isinstance(site[key], str) for key in ("host", "institution_id", "site_id", "environment"))
    return sites


OPTIONS = st.fixed_dictionaries({
    "extra_columns": st.sampled_from(["error", "ignore", "hostvars"]),
    "check_pfx": st.booleans(),
})

SMALL_CELL = st.one_of(
    st.sampled_from(["100001", "100001001", "site-1", "test", "yes", "22", "a;b|c", "{{ x }}", "١٢٣٤٥٦", "²",
                     "0" * 5000, "", " ", "class"]),
    st.text(max_size=30),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(1000, 5000)),
)
CELL = st.one_of(
    st.sampled_from(["100001", "100001001", "site-1", "site-2", "test", "production", "yes", "no", "22",
                     "ssh", "a;b|c", "{{ lookup('pipe', 'id') }}", "١٢٣٤٥٦", "²", "0" * 5000, "", " ",
                     "site.pfx", "../../etc/passwd", "ansible_password", "class"]),
    st.text(max_size=30),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(1000, 200000)),
)
HEADER_NAME = st.one_of(st.sampled_from(COLUMNS + ("", "HOST", " host ", "ansible_host", "site id")),
                        st.text(max_size=12))


def test_random_bytes_and_text(folder, fuzz):
    @settings(max_examples=examples(150))
    @given(data=st.one_of(st.binary(max_size=2000), st.text(max_size=2000).map(lambda t: t.encode("utf-8"))),
           suffix=st.sampled_from([".csv", ".yml", ".json", ".txt"]), options=OPTIONS)
    @example(data=b"\xef\xbb\xbf", suffix=".csv", options={"extra_columns": "error", "check_pfx": True})
    @example(data=b"\x00\x00", suffix=".yml", options={"extra_columns": "error", "check_pfx": True})
    def check(data, suffix, options):
        with fuzz.bounded():
            load(folder, "registry" + suffix, data, **options)

    with fuzz.timed(fuzz.budget(150, 1)):
        check()


def test_csv_tables(folder, fuzz):
    @settings(max_examples=examples(100))
    @given(header=st.lists(HEADER_NAME, max_size=14), rows=st.lists(st.lists(CELL, max_size=16), max_size=6),
           delimiter=st.sampled_from([",", ";"]), quoted=st.booleans(),
           encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1250", "latin-1", "utf-16"]), options=OPTIONS)
    @example(header=["host", "institution_id", "site_id", "port"], rows=[["a", "100001", "100001001", "²"]],
             delimiter=",", quoted=True, encoding="utf-8",
             options={"extra_columns": "error", "check_pfx": False})
    @example(header=["host", "institution_id", "site_id", "port"], rows=[["a", "100001", "100001001", "9" * 5000]],
             delimiter=",", quoted=True, encoding="utf-8",
             options={"extra_columns": "error", "check_pfx": False})
    def check(header, rows, delimiter, quoted, encoding, options):
        if quoted:
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=delimiter)
            writer.writerow(header)
            writer.writerows(rows)
            text = buffer.getvalue()
        else:
            text = "\n".join(delimiter.join(line) for line in [header] + rows)
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogatepass")
        with fuzz.bounded():
            load(folder, "registry.csv", data, **options)

    with fuzz.timed(fuzz.budget(150, 1)):
        check()


SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), SMALL_CELL, st.dates(), st.binary(max_size=8))
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                     max_leaves=12)
SITE = st.dictionaries(st.one_of(HEADER_NAME, st.integers(), st.booleans()), VALUE, max_size=8)


def test_yaml_documents(folder, fuzz):
    @settings(max_examples=examples(60))
    @given(document=st.one_of(st.lists(st.one_of(SITE, VALUE), max_size=3),
                              st.fixed_dictionaries({"sites": st.lists(SITE, max_size=3)}), VALUE, SITE),
           options=OPTIONS)
    @example(document=[{"host": "a", "institution_id": "100001", "site_id": "100001001", "tags": [["x"]]}],
             options={"extra_columns": "error", "check_pfx": False})
    def check(document, options):
        try:
            text = yaml.safe_dump(document, allow_unicode=True)
        except yaml.YAMLError:
            text = repr(document)  # e.g. a float key: still something for the parser to chew on
        with fuzz.bounded():
            load(folder, "registry.yml", text.encode("utf-8"), **options)

    with fuzz.timed(fuzz.budget(60, 1)):
        check()


GOOD = "- host: a\n  institution_id: '100001'\n  site_id: '100001001'\n"
SNIPPETS = [
    # alias bomb: nine levels of nine references, 9**9 leaves when expanded
    "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        "%s: &%s [%s]\n" % (chr(98 + i), chr(98 + i), ", ".join(["*" + chr(97 + i)] * 9)) for i in range(8)),
    "- host: a\n  institution_id: '100001'\n  site_id: '100001001'\n  tags: &t [x, x, x, x, x, x, x, x, x]\n",
    # the bomb where the parser does look inside: the tags of a site
    "- host: a\n  institution_id: '100001'\n  site_id: '100001001'\n  tags: &t0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join("  t%d: &t%d [%s]\n" % (i, i, ", ".join(["*t%d" % (i - 1)] * 9)) for i in range(1, 9))
    + "- host: b\n  institution_id: '100001'\n  site_id: '100001002'\n  tags: *t8\n",
    "- &s {host: a, institution_id: '100001', site_id: '100001001', tags: *s}\n",
    "- host: a\n  institution_id: '100001'\n  site_id: '100001001'\n  tags: &r [x, *r]\n",
    "- &r [*r]\n",
    "[" * 5000 + "]" * 5000,
    "{a: " * 3000 + "1" + "}" * 3000,
    "- host: a\n  host: b\n  institution_id: '100001'\n  site_id: '100001001'\n",
    "- host: a\n  institution_id: 0x" + "f" * 4000 + "\n  site_id: '100001001'\n",
    "- host: a\n  institution_id: " + "1" * 5000 + "\n  site_id: '100001001'\n",
    "- {0x" + "f" * 4000 + ": 1, host: a}\n",
    "- host: !!python/object/apply:os.system ['id']\n",
    "- host: !!binary aGVsbG8=\n  institution_id: 2026-01-01\n  site_id: .nan\n  port: 1e999\n",
    "- <<: {host: a, institution_id: '100001'}\n  site_id: '100001001'\n",
    "sites:\n" + GOOD.replace("- ", "  - ").replace("\n  ", "\n    "),
    "sites: 3\n", "sites:\n", "other: []\n", "--- a\n--- b\n", "%YAML 9.9\n---\n[]\n", "\t- host: a\n",
    GOOD + "  port: '²'\n", GOOD + "  port: 99999999999999999999\n", GOOD + "  become: maybe\n",
]


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_yaml_snippets(folder, fuzz, index):
    with fuzz.timed(10), fuzz.bounded():
        result = load(folder, "registry.yml", SNIPPETS[index].encode("utf-8"),
                      check_pfx=False, extra_columns="hostvars")
    if index == 8:  # a key given twice must not pass unnoticed
        assert isinstance(result, RegistryError) and "twice" in str(result), result


def test_valid_registry_still_parses(folder):
    sites = load(folder, "registry.yml", (GOOD + "  tags: [x, y]\n  port: 22\n").encode("utf-8"), check_pfx=False)
    assert [(s["host"], s["tags"], s["port"]) for s in sites] == [("a", ["x", "y"], 22)]
    sites = load(folder, "registry.csv", "\ufeffhost;institution_id;site_id;tags\na;100001;100001001;x|y\n"
                 .encode("utf-8"), check_pfx=False)
    assert [(s["host"], s["tags"]) for s in sites] == [("a", ["x", "y"])]
