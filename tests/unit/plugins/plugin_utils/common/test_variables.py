# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/common/variables.py: many variables of one host templated once each (issue 14)."""

import jinja2
import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.eeszt.connect.plugins.plugin_utils.common import variables

T = trust_as_template


def chain():
    """Role-default-like values: twenty that refer to two that refer to a third."""
    raw = {"c": T("{{ 'z' | upper }}"), "b": T("{{ c }}y{{ c }}"), "a": T("{{ b }}x{{ b }}{{ c }}"),
           "plain": "no template", "bad": T("{{ nope.attribute }}")}
    for index in range(20):
        raw["n%d" % index] = T("{{ a }}-{{ b }}-%d" % index)
    return raw


@pytest.fixture
def compiles(monkeypatch):
    counted = []
    real = jinja2.Environment.compile

    def counting(self, *args, **kwargs):
        counted.append(1)
        return real(self, *args, **kwargs)
    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return counted


def test_values_are_the_same_as_templating_each_alone_and_a_shared_one_is_compiled_once(compiles):
    raw = chain()
    names = ["c", "b", "a"] + ["n%d" % index for index in range(20)] + ["plain"]
    templar = Templar(loader=DataLoader(), variables=raw)
    alone = dict((name, templar.template(raw[name])) for name in names)
    separately = len(compiles)
    del compiles[:]
    values, layer = variables.resolve(templar, raw, names)
    assert values == alone and values["n3"] == "ZyZxZyZZ-ZyZ-3" and values["plain"] == "no template"
    # 23 templates, each compiled once, against every reference compiled again when templated alone.
    assert len(compiles) == 23 and separately > 3 * len(compiles), (separately, len(compiles))
    assert layer["a"] == "ZyZxZyZZ" and raw["a"] == T("{{ b }}x{{ b }}{{ c }}")  # the input is unchanged


def test_a_name_that_does_not_template_is_reported_and_left_as_it_was():
    raw = chain()
    errors = []
    values, layer = variables.resolve(Templar(loader=DataLoader(), variables=raw), raw, ["bad", "c", "missing"],
                                      on_error=lambda name, exc: errors.append(name))
    assert values == {"c": "Z"} and errors == ["bad"]
    assert layer["bad"] == raw["bad"] and "missing" not in layer


def test_referenced_names_and_lookups():
    source = T("{% for item in items %}{{ item }}{{ prefix }}{% endfor %}{% set local = 1 %}{{ local }}{{ other.x }}")
    assert variables.referenced_names(source) == {"items", "prefix", "other"}
    assert variables.referenced_names(T("{% if %}")) == set()
    # The statements Ansible's Jinja knows (loop controls, do) parse too.
    assert variables.referenced_names(T("{% for i in xs %}{% if i %}{% break %}{% endif %}{% do ys.append(i) %}"
                                        "{% endfor %}")) == {"xs", "ys"}
    assert variables.calls_a_lookup(T("{{ lookup('ansible.builtin.template', 'x.j2') | from_json }}"))
    assert variables.calls_a_lookup({"a": [T("{{ query('file', 'y') }}")]})
    assert not variables.calls_a_lookup(T("{{ eeszt_certificate_dir }}/cert.pem"))
