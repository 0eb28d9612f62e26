# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Template many variables of one host, each once (controller tier).

ansible-core templates a variable lazily each time a template refers to it, and compiles its Jinja text
again every time: role defaults that refer to one another (``eeszt_tls_client_cert: "{{ eeszt_certificate_dir
}}/fullchain.pem"``) are compiled over and over when many values or a template refer to them. ``resolve``
templates the names in order over a layer (a copy of the variables) and puts each resolved value back into the
layer, so every later value or template that refers to it reads the value instead of templating it again. A
name that does not template is left as it was in the layer (a later template that needs it fails as it would
have), and is reported to ``on_error``.
"""

from __future__ import annotations

from ansible.errors import AnsibleError


def resolve(templar, variables, names, on_error=None):
    """(values, layer): {name: templated value} for the ``names`` set in ``variables``, and the layer of
    variables with those values resolved, for templating more with ``templar.copy_with_new_env(
    available_variables=layer)``. ``variables`` is not changed."""
    layer = dict(variables)
    resolver = templar.copy_with_new_env(available_variables=layer)
    values = {}
    for name in names:
        if name not in layer or name in values:
            continue
        try:
            value = resolver.template(layer[name])
        except AnsibleError as exc:
            if on_error is not None:
                on_error(name, exc)
            continue
        values[name] = layer[name] = value
    return values, layer


_PARSER = []


def _parser():
    """A plain Jinja environment, only to parse a text into its syntax tree: the names a text refers to do not
    depend on Ansible's filters or tests, and ansible-core deprecates reading its templar's ``environment``
    (removed in 2.23). Same delimiters and the statement extensions Ansible enables (``do``, loop controls)."""
    if not _PARSER:
        from jinja2 import Environment
        _PARSER.append(Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"]))
    return _PARSER[0]


def referenced_names(source):
    """The variable names a Jinja text refers to at its top level (loop and ``set`` names left out); an
    empty set when the text does not parse (its rendering then reports the error)."""
    from jinja2 import meta
    try:
        return meta.find_undeclared_variables(_parser().parse(str(source)))
    except Exception:  # pylint: disable=broad-except  # the rendering reports a template error in full
        return set()


_LOOKUP_CALLS = ("lookup(", "query(", "q(")


def calls_a_lookup(value):
    """Whether a raw variable value calls a lookup: such a value is left for the template to resolve when (and
    if) its branch needs it, as a lookup may be costly or have side effects."""
    text = value if isinstance(value, str) else repr(value)
    return any(call in text for call in _LOOKUP_CALLS)
