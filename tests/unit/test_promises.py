# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Promises pinned where bugs planted in the core went unnoticed (issue 13 §9).

* Boundaries: a certificate with exactly ``min_days`` left is accepted and one day less is refused; exactly
  ``warn_days`` left gives no warning and one day less does.
* Fault injection at every step of a certificate switch: whichever filesystem step of
  ``CertificateStore.write`` fails, what the site's software reads (``cert.pem`` and ``key.pem`` in the
  certificate directory) is the old pair or the new pair, never a mix and never missing, and the next run
  completes the switch. Before every step the same must hold (the window a SIGKILL could hit).
* Every secret option of every module, action plugin and role argument spec is ``no_log``.
"""

import datetime
import glob
import importlib
import os
import re

import pytest
import yaml

from ansible_collections.eeszt.connect.plugins.module_utils.pki import cert_store as store
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import certificate as cert
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    build_lab_pki(str(root), [{"institution_id": "100001", "site_id": "100001001"},
                              {"institution_id": "100002", "site_id": "100002001"}])
    return root / "pki"


def contents_of(lab, name):
    path = str(lab / "sites" / (name + ".p12"))
    return cert.load_pfx(path, (lab / "sites" / (name + ".password")).read_text().strip())


# --- boundaries -----------------------------------------------------------------------------------------------


def test_exactly_min_days_left_is_accepted_and_one_less_is_refused(lab):
    contents = contents_of(lab, "100001-100001001")
    now = datetime.datetime.now(datetime.timezone.utc)
    days_left = cert.validate(contents, min_days=0, warn_days=0, now=now).facts["days_left"]
    assert days_left > 300
    assert cert.validate(contents, min_days=days_left, warn_days=0, now=now).facts["days_left"] == days_left
    with pytest.raises(cert.CertificateExpiresSoonError) as caught:
        cert.validate(contents, min_days=days_left + 1, warn_days=0, now=now)
    assert "eeszt_certificate_min_days" in str(caught.value)


def test_exactly_warn_days_left_gives_no_warning_and_one_less_does(lab):
    contents = contents_of(lab, "100001-100001001")
    now = datetime.datetime.now(datetime.timezone.utc)
    days_left = cert.validate(contents, min_days=0, warn_days=0, now=now).facts["days_left"]
    assert cert.validate(contents, min_days=0, warn_days=days_left, now=now).warnings == []
    [warning] = cert.validate(contents, min_days=0, warn_days=days_left + 1, now=now).warnings
    assert "plan its renewal" in warning


# --- fault injection at every step of the switch ---------------------------------------------------------------

MUTATING = ("replace", "rename", "symlink", "unlink", "mkdir", "rmdir", "chmod")


def desired_set(contents):
    valid = cert.validate(contents, min_days=0, warn_days=0)
    pem = valid.pem()
    facts = dict(valid.facts)
    facts.pop("days_left")
    return store.DesiredSet(pem["certificate"], pem["private_key"], pem["chain"], facts)


def visible_pair(directory):
    """What the site's software reads: (cert.pem, key.pem) through the links, or None for a missing file."""
    pair = []
    for name in ("cert.pem", "key.pem"):
        try:
            with open(os.path.join(directory, name)) as handle:
                pair.append(handle.read())
        except OSError:
            pair.append(None)
    return tuple(pair)


class Fault(Exception):
    pass


class Recorder:
    """Wraps the filesystem steps of the store: checks the visible pair before each, fails step ``fail_at``."""

    def __init__(self, monkeypatch, directory, allowed, fail_at=None):
        self.steps = []
        self.directory, self.allowed, self.fail_at = directory, allowed, fail_at
        for name in MUTATING:
            monkeypatch.setattr(store.os, name, self._wrap(name, getattr(os, name)))
        monkeypatch.setattr(store.shutil, "rmtree", self._wrap("rmtree", store.shutil.rmtree))

    def _wrap(self, name, real):
        def step(*args, **kwargs):
            # The path a step changes: a symlink's is its second argument (the first is the link's target).
            changed = args[1] if name == "symlink" else args[0]
            if os.path.abspath(str(changed)).startswith(self.directory):
                seen = visible_pair(self.directory)
                assert seen in self.allowed, "before step %d (%s %s): %r" % (len(self.steps), name, args, seen)
                self.steps.append((name, changed))
                if self.fail_at is not None and len(self.steps) - 1 == self.fail_at:
                    raise Fault("injected at step %d: %s %s" % (self.fail_at, name, changed))
            return real(*args, **kwargs)
        return step


def install(directory, desired):
    s = store.CertificateStore(directory)
    plan = s.plan(desired)
    if plan["content_changed"]:
        s.write(desired, plan)
    return s.plan(desired)


def expected_pair(desired):
    return (desired.files["cert.pem"].decode() if isinstance(desired.files["cert.pem"], bytes)
            else desired.files["cert.pem"],
            desired.files["key.pem"].decode() if isinstance(desired.files["key.pem"], bytes)
            else desired.files["key.pem"])


@pytest.fixture(scope="module")
def sets(lab):
    return desired_set(contents_of(lab, "100001-100001001")), desired_set(contents_of(lab, "100002-100002001"))


def count_steps(tmp_path, monkeypatch, old, new):
    directory = str(tmp_path / "count" / "tls")
    install(directory, old)
    with monkeypatch.context() as patch:
        recorder = Recorder(patch, directory, {expected_pair(old), expected_pair(new)})
        store.CertificateStore(directory).write(new, store.CertificateStore(directory).plan(new))
    return recorder.steps


def test_every_step_of_a_switch_keeps_old_or_new_and_a_rerun_completes_it(tmp_path, monkeypatch, sets):
    old, new = sets
    steps = count_steps(tmp_path, monkeypatch, old, new)
    # The switch is a symlink made aside (a hidden temporary name) and renamed over `current` in one step.
    assert [name for name, path in steps if os.path.basename(str(path)).lstrip(".").startswith("current")] == [
        "symlink", "replace"], steps
    allowed = {expected_pair(old), expected_pair(new)}
    for index in range(len(steps)):
        directory = str(tmp_path / ("fault-%02d" % index) / "tls")
        install(directory, old)
        with monkeypatch.context() as patch:
            Recorder(patch, directory, allowed, fail_at=index)
            s = store.CertificateStore(directory)
            with pytest.raises(Fault):
                s.write(new, s.plan(new))
        assert visible_pair(directory) in allowed, (index, steps[index])
        # The next run completes the switch and then has nothing left to do.
        after = install(directory, new)
        assert visible_pair(directory) == expected_pair(new), (index, steps[index])
        assert not after["content_changed"], (index, steps[index], after)


# --- every secret is no_log ---------------------------------------------------------------------------------------

# A secret by its name: a password or passphrase anywhere in it, a private key, a token, a secret (but not
# "secret_mode" or "secret_files", which name a file mode and file names), the key material the action sends.
SECRET = re.compile(r"password|passphrase|private_key|token$|(^|_)secret$|^material$")


def secret_options(spec, path=""):
    """(dotted name, option) of every option whose name says it holds a secret, suboptions included."""
    found = []
    for name, option in (spec or {}).items():
        option = option or {}
        dotted = path + name
        if SECRET.search(name) and option.get("type", "str") in ("str", "raw", "dict", "list", "path"):
            found.append((dotted, option))
        found.extend(secret_options(option.get("options"), dotted + "."))
    return found


class SpecCaught(Exception):
    def __init__(self, spec):
        super(SpecCaught, self).__init__("spec")
        self.spec = spec


def module_specs():
    """{module name: argument_spec} of every module of the collection that builds an AnsibleModule."""
    from ansible.module_utils import basic
    specs = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))):
        name = os.path.basename(path)[:-3]
        module = importlib.import_module("ansible_collections.eeszt.connect.plugins.modules." + name)
        if not hasattr(module, "main"):
            continue  # documentation only: the action plugin is the whole plugin

        def catch(self, argument_spec=None, **kwargs):
            raise SpecCaught(argument_spec)

        original = basic.AnsibleModule.__init__
        basic.AnsibleModule.__init__ = catch
        try:
            module.main()
        except SpecCaught as caught:
            specs[name] = caught.spec
        except SystemExit:
            pass
        finally:
            basic.AnsibleModule.__init__ = original
    return specs


def action_specs():
    """{action name: spec} of every action plugin that validates its own arguments with a module-level spec."""
    specs = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "action", "*.py"))):
        name = os.path.basename(path)[:-3]
        action = importlib.import_module("ansible_collections.eeszt.connect.plugins.action." + name)
        for attribute in ("ARGUMENT_SPEC", "argument_spec"):
            spec = getattr(action, attribute, None)
            if callable(spec):
                spec = spec()
            if isinstance(spec, dict):
                specs[name] = spec
    return specs


def role_specs():
    specs = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml"))):
        role = path.split(os.sep)[-3]
        with open(path) as handle:
            document = yaml.safe_load(handle)
        for entry, spec in document["argument_specs"].items():
            specs["%s:%s" % (role, entry)] = spec.get("options") or {}
    return specs


def test_every_module_s_spec_is_found():
    specs = module_specs()
    # The modules that run on a site or on the controller as modules (not documentation-only files).
    for name in ("waf_certificate", "connection_check", "tls_files", "operator_files"):
        assert name in specs, sorted(specs)


@pytest.mark.parametrize("kind, specs", [("module", module_specs), ("action", action_specs), ("role", role_specs)])
def test_every_secret_option_is_no_log(kind, specs):
    found = {}
    for owner, spec in specs().items():
        for dotted, option in secret_options(spec):
            found["%s %s" % (owner, dotted)] = bool(option.get("no_log"))
    assert found, "no secret option found at all in the %s specs: the name pattern is broken" % kind
    leaking = sorted(name for name, no_log in found.items() if not no_log)
    assert leaking == [], "secret options without no_log: %s" % leaking


def test_the_known_secrets_are_among_those_checked():
    names = set()
    for specs in (module_specs(), action_specs(), role_specs()):
        for owner, spec in specs.items():
            names.update("%s %s" % (owner, dotted) for dotted, dummy in secret_options(spec))
    for expected in ("waf_certificate export_password", "waf_certificate material", "connection_check proxy_password",
                     "certificate:main eeszt_certificate_pfx_password",
                     "certificate:main eeszt_certificate_export_password", "tls_client:main eeszt_tls_proxy_password"):
        assert expected in names, sorted(names)
