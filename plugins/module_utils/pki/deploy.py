# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site side of eeszt.connect.waf_certificate: its one argument spec (the action plugin validates the
same spec on the controller) and what the module does on the site with the PEM material it is handed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.paths import CERTIFICATE_DIR
from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_store import (
    CertificateStore,
    DesiredSet,
    PKCS12_FILES,
)
from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_rollback import Rollback
from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_set import facts_text
from ansible_collections.eeszt.connect.plugins.module_utils.common.locks import SiteLock


def argument_spec():
    return dict(
        state=dict(type="str", choices=["present", "rollback"], default="present"),
        restore=dict(type="str"),
        rollback_from=dict(type="str"),
        lock_timeout=dict(type="int", default=30),
        pfx_src=dict(type="path"),
        pfx_password=dict(type="str", no_log=True),
        # The PFX as eeszt.connect.waf_certificate_open opened it (controller only, never sent to the site).
        pfx_opened=dict(type="dict", no_log=True),
        dir=dict(type="path", default=CERTIFICATE_DIR),
        owner=dict(type="str"),
        group=dict(type="str"),
        key_mode=dict(type="str", no_log=False),
        formats=dict(type="list", elements="str", choices=["pem", "pkcs12", "java"], default=["pem"]),
        export_password=dict(type="str", no_log=True),
        export_encryption=dict(type="str", choices=["modern", "compat"], default="modern"),
        keystore_alias=dict(type="str", default="eeszt-waf", no_log=False),
        ca_file=dict(type="path"),
        chain_include_root=dict(type="bool", default=False),
        min_days=dict(type="int", default=14),
        warn_days=dict(type="int", default=30),
        institution_id=dict(type="str"),
        match_attributes=dict(type="list", elements="str",
                              choices=["commonName", "organizationName", "organizationalUnitName",
                                       "serialNumber", "organizationIdentifier", "subjectAltName"],
                              default=["commonName", "organizationName", "serialNumber",
                                       "organizationIdentifier", "subjectAltName"]),
        match_mode=dict(type="str", choices=["exact", "contains"], default="contains"),
        backup=dict(type="bool", default=True),
        backups=dict(type="int", default=5),
        # Set by the action plugin only: the validated material and its facts.
        material=dict(type="dict", no_log=True),
        certificate_facts=dict(type="dict"),
        lock_owner=dict(type="dict"),
    )


def site_lock(module, operation):
    """The per-site lock for a task that changes the site (creates the directory for it)."""
    params = module.params
    owner = dict(params["lock_owner"] or {}, operation="%s (eeszt.connect.waf_certificate)" % operation)
    return SiteLock(params["dir"], params["lock_timeout"], owner=owner)


def ensure_site_dir(store):
    if not os.path.isdir(store.dir):
        store._ensure_dir(store.dir)


def run_rollback(module, store):
    params = module.params
    rollback = Rollback(store)
    result = dict(changed=False, rolled_back=False, lock_waited=0.0)
    lock = None
    if not module.check_mode and os.path.isdir(store.dir):
        lock = site_lock(module, "rollback").acquire()
        result["lock_waited"] = round(lock.waited, 3)
    try:
        plan = rollback.plan(params["restore"], params["rollback_from"])
        result.update(
            changed=plan["needed"],
            rolled_back=plan["needed"],
            reason=plan["reason"],
            from_fingerprint=plan["before"].get("sha256"),
            previous_fingerprint=plan["before"].get("sha256"),
            to_fingerprint=plan["after"].get("sha256"),
            fingerprint=plan["after"].get("sha256"),
            certificate_changed=plan["before"].get("sha256") != plan["after"].get("sha256"),
            restored_from=plan["source"],
            backup_path=None,
        )
        if module._diff:
            result["diff"] = dict(
                before_header="%s (live)" % params["dir"],
                after_header="%s (%s)" % (params["dir"], plan["source"] or "unchanged"),
                before=facts_text(plan["before"], []),
                after=facts_text(plan["after"], []),
            )
        if plan["needed"] and not module.check_mode:
            result["backup_path"] = rollback.run(plan)
    finally:
        if lock is not None:
            lock.release()
    result["set_path"] = store.current_set()
    return result


def run(module):
    params = module.params
    key_mode = params["key_mode"]
    if key_mode is not None:
        try:
            key_mode = int(key_mode, 8)
        except ValueError:
            module.fail_json(msg="key_mode must be an octal string such as 0600", error="usage")
    if params["lock_timeout"] < 0:
        module.fail_json(msg="lock_timeout must not be negative", error="usage")
    store = CertificateStore(params["dir"], params["owner"], params["group"], key_mode)
    if params["state"] == "rollback":
        return run_rollback(module, store)
    if module.check_mode:
        return run_present(module, store)
    ensure_site_dir(store)
    with site_lock(module, "deploy") as lock:
        result = run_present(module, store)
        result["lock_waited"] = round(lock.waited, 3)
    return result


def run_present(module, store):
    params = module.params
    material = params["material"] or {}
    if not material.get("certificate") or not material.get("private_key"):
        module.fail_json(msg="eeszt.connect.waf_certificate must run through its action plugin "
                             "(the PFX is opened on the controller); do not call the module "
                             "with an unsupported action name", error="usage")
    pkcs12 = {}
    for name, data in (material.get("pkcs12") or {}).items():
        pkcs12[name] = base64.b64decode(data)
    desired = DesiredSet(material["certificate"], material["private_key"], material.get("chain") or [],
                         params["certificate_facts"] or {}, pkcs12=pkcs12,
                         export_password=params["export_password"],
                         export_encryption=params["export_encryption"],
                         alias=params["keystore_alias"])
    plan = store.plan(desired)
    changed = plan["content_changed"] or plan["attributes_changed"]
    before = plan["before"]
    result = dict(
        changed=changed,
        changed_files=plan["changed_files"],
        removed_files=plan["removed_files"],
        certificate_changed=before.get("sha256") != desired.fingerprint,
        previous_fingerprint=before.get("sha256"),
        lock_waited=0.0,
        backup_path=None,
        files=dict((n, os.path.join(params["dir"], n)) for n in desired.names()),
    )
    if module._diff:
        before_files = sorted(n for n in set(desired.names()) | set(PKCS12_FILES.values())
                              if os.path.lexists(os.path.join(params["dir"], n)))
        result["diff"] = dict(
            before_header="%s (installed)" % params["dir"],
            after_header="%s (from the PFX)" % params["dir"],
            before=facts_text(before, before_files),
            after=facts_text(desired.facts, desired.names()) if changed else facts_text(before, before_files),
        )
    if not module.check_mode:
        if plan["content_changed"]:
            result["backup_path"] = store.write(desired, plan, params["backup"], params["backups"])
        elif plan["attributes_changed"]:
            store.fix_attributes(desired)
    result["set_path"] = store.current_set()
    return result
