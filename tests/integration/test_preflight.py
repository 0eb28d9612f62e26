# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad variables fail in the preflight, before any site is touched (issue 8, promise 6).

site.yml on ten demo sites against a private lab, eight of them broken, each
in its own way: an unknown environment, a malformed endpoint URL, a CA bundle
in DER, negative days, a wrong PFX password, a PFX path that does not exist
(relative: looked up beside the inventory), an institution ID with a letter,
a production site without endpoints (the collection ships none). Each fails
in the preflight naming its variable, value (never a secret's) and remedy;
its site directory is byte for byte what it was (nothing created); the two
good sites go through every stage. A second, lab-free test shows that the preflight never
connects: a bad site behind a closed SSH port fails, it is not unreachable.
"""

import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
SITES = 10
pytestmark = pytest.mark.slow
PREFLIGHT_TASK = "Check the variables of the stages to come, on the controller only"
DER_CA = "ca-bundle.der"  # written by the test into its own directory

# host -> (variables that break it, texts the message must hold, how many problems)
BAD = {
    "site002": ({"eeszt_environment": "staging"}, ['eeszt_environment = \\"staging\\"'], 1),
    "site003": ({"eeszt_endpoints": [{"name": "waf", "url": "https//127.0.0.1:8443/health"}]},
                ['eeszt_endpoints[0].url = \\"https//127.0.0.1:8443/health\\"'], 1),
    "site004": ({"eeszt_tls_ca_bundle_src": "@ROOT@/" + DER_CA},
                ["eeszt_tls_ca_bundle_src = ", "DER", "[not_pem]", "openssl x509 -inform DER"], 1),
    "site005": ({"eeszt_certificate_min_days": -3}, ["eeszt_certificate_min_days = -3"], 1),
    "site006": ({"eeszt_certificate_pfx_password": "not-the-password"},
                ["eeszt_certificate_pfx_password: ", "[pfx_wrong_password]", "by SMS"], 1),
    "site007": ({"eeszt_certificate_pfx_src": "pfx/missing.pfx"},
                ['eeszt_certificate_pfx_src = \\"pfx/missing.pfx\\"', "was not found on the controller",
                 "looked in: %s/pfx/missing.pfx (relative to the inventory directory of the host)" % DEMO], 1),
    # The demo's PFX and password paths are made of the identifiers, so the PFX of "10000l" and its
    # password file (for the certificate and, by default, for the seal) are not found either.
    "site008": ({"eeszt_institution_id": "10000l"}, ['eeszt_institution_id = \\"10000l\\"',
                                                     "does not match ^[0-9]{6}$"], 4),
    "site009": ({"eeszt_environment": "production", "eeszt_endpoints": None},
                ["eeszt_endpoints: is not set and eeszt_check_endpoints_by_environment has no endpoints for the "
                 'environment \\"production\\"', "connection documents the EESZT operator sent"], 1),
}
GOOD = ["site001", "site010"]


def snapshot(path):
    """{relative path: (mode, bytes or None for a directory)} of everything under ``path``."""
    tree = {}
    for directory, dirnames, filenames in os.walk(str(path)):
        for name in dirnames + filenames:
            full = os.path.join(directory, name)
            info = os.lstat(full)
            content = None
            if os.path.isfile(full) and not os.path.islink(full):
                with open(full, "rb") as handle:
                    content = handle.read()
            tree[os.path.relpath(full, str(path))] = (info.st_mode, content)
    return tree


def message_of(stdout, host):
    """The failure line the preflight printed for ``host``."""
    lines = [line for line in stdout.splitlines() if line.startswith("fatal: [%s]" % host)]
    assert len(lines) == 1, stdout
    return lines[0]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, run_playbook, pick_port, stop_lab):
    root = tmp_path_factory.mktemp("preflight")
    lab_dir = root / "lab"
    port = pick_port()
    env = {"EESZT_LAB_DIR": str(lab_dir), "EESZT_LAB_WAF_PORT": str(port), "EESZT_DEMO_SITES": str(SITES)}
    result = run_playbook("lab.yml", extra_vars={"eeszt_lab_state": "started", "eeszt_lab_waf_port": port},
                          env=env, args=["-i", DEMO])
    assert result.ok, result.output
    yield root, lab_dir, env
    result = stop_lab(lab_dir, port, env=env, args=["-i", DEMO])
    assert result.ok, result.output


def test_bad_sites_fail_in_the_preflight_untouched(lab, run_playbook):
    root, lab_dir, env = lab
    # The bad variables come from a second inventory source, as a vendor's host_vars would.
    # The bad variables come from a second inventory source, as a vendor's host_vars would.
    der = x509.load_pem_x509_certificates((lab_dir / "pki" / "eeszt-ca-bundle.pem").read_bytes())[0]
    (root / DER_CA).write_bytes(der.public_bytes(serialization.Encoding.DER))
    lines = ["eeszt_sites:", "  hosts:"]
    for host, (variables, dummy, dummy2) in sorted(BAD.items()):
        lines.append("    %s: %s" % (host, json.dumps(variables).replace("@ROOT@", str(root))))
    overrides = root / "bad.yml"
    overrides.write_text("\n".join(lines) + "\n")
    sites_dir = lab_dir / "sites"
    before = dict((host, snapshot(sites_dir / host)) for host in BAD)
    existed = dict((host, (sites_dir / host).exists()) for host in BAD)

    result = run_playbook("site.yml", env=env, timeout=240, extra_vars={
        "eeszt_proofs_archive_dir": str(lab_dir / "proofs")}, args=["-i", DEMO, "-i", str(overrides)])

    assert result.returncode == 2, result.output  # some hosts failed
    for host, (dummy, texts, count) in BAD.items():
        recap = result.recap[host]
        # ok: at most the fleet check, which runs once for all sites on the play's first host.
        assert recap["ok"] <= 1, result.output
        assert (recap["changed"], recap["failed"], recap["unreachable"]) == (0, 1, 0), result.output
        message = message_of(result.stdout, host)
        assert "Preflight: %d bad variable%s for %s" % (count, "" if count == 1 else "s", host) in message, message
        for text in texts:
            assert text in message, (text, message)
        assert "nothing was done on this site" in message
        assert snapshot(sites_dir / host) == before[host], host
        assert (sites_dir / host).exists() == existed[host], host
        password = (lab_dir / "pki" / "sites").glob("*.password")
        for secret in password:
            assert secret.read_text().strip() not in result.stdout + result.stderr
    for host in GOOD:
        recap = result.recap[host]
        assert recap["failed"] == 0 and recap["unreachable"] == 0, result.output
        assert list((sites_dir / host / "var" / "lib" / "eeszt" / "proofs").glob("*.json")), host
    # The failing task of each bad site is the preflight: no stage ran on it.
    assert result.stdout.count("TASK [%s]" % PREFLIGHT_TASK) == 1, result.output


def test_the_preflight_never_connects(tmp_path, run_playbook, pick_port):
    closed = pick_port()
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "eeszt_sites:\n  hosts:\n"
        "    remote-bad:\n"
        "      ansible_connection: ssh\n      ansible_host: 127.0.0.1\n      ansible_port: %d\n"
        "      ansible_ssh_common_args: -o ConnectTimeout=5 -o BatchMode=yes\n"
        "      eeszt_institution_id: '100001'\n      eeszt_site_id: '100001001'\n"
        "      eeszt_tls_proxy: http://user:hunter2@proxy.example.hu:3128\n"
        "      eeszt_tls_proxy_password: pr0xy-s3cret\n"
        "      eeszt_check_timeout: 0\n" % closed)
    result = run_playbook("configure_tls.yml", inventory=inventory, timeout=60,
                          extra_vars={"eeszt_tls_ca_bundle_src": "/nonexistent/eeszt-ca.pem"})

    assert result.recap["remote-bad"]["failed"] == 1, result.output
    assert result.recap["remote-bad"]["unreachable"] == 0, result.output
    message = message_of(result.stdout, "remote-bad")
    assert "Preflight: 3 bad variables for remote-bad" in message
    # The CA bundle is a controller file: checked in the preflight too, with where it was looked for.
    assert ('eeszt_tls_ca_bundle_src = \\"/nonexistent/eeszt-ca.pem\\": was not found on the controller '
            '(looked in: /nonexistent/eeszt-ca.pem)') in message
    assert 'eeszt_tls_proxy = \\"http://***@proxy.example.hu:3128\\"' in message
    # The role's own input checks too (roles/tls_client/vars/main.yml, plugin_utils/inventory/tls_vars.py).
    assert ("eeszt_tls_proxy_username: proxy credentials need eeszt_tls_proxy, and a proxy password needs a user "
            "name; set eeszt_tls_proxy and eeszt_tls_proxy_username, or neither credential") in message
    # configure_tls.yml checks the tls_client variables only: eeszt_check_timeout is not its business.
    assert "eeszt_check_timeout" not in message
    assert "hunter2" not in result.stdout + result.stderr
    assert "pr0xy-s3cret" not in result.stdout + result.stderr


def test_a_misspelt_variable_is_named_with_the_closest_known_one(tmp_path, run_playbook):
    """A misspelt required variable fails (naming the right one); misspelt optional ones are warned about."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "eeszt_sites:\n  hosts:\n"
        "    typo-site:\n"
        "      ansible_connection: local\n"
        "      eeszt_institution_id: '100001'\n      eeszt_site_idd: '100001001'\n"
        "      eeszt_check_timout: 5\n      eeszt_local_note: mine\n"
        "  vars:\n"
        "    eeszt_preflight_ignore_unknown: ['eeszt_local_*']\n"
        "    eeszt_certifcate_min_days: 14\n")
    result = run_playbook("check_connection.yml", inventory=inventory, timeout=60,
                          extra_vars={"eeszt_endpoints": [{"name": "waf", "url": "https://127.0.0.1:9/"}]})

    assert result.recap["typo-site"]["failed"] == 1, result.output
    message = message_of(result.stdout, "typo-site")
    assert "Preflight: 1 bad variable for typo-site" in message, message
    assert "eeszt_site_id: is required but not set" in message, message
    output = " ".join((result.stdout + result.stderr).split())
    for typo, meant in (("eeszt_site_idd", "eeszt_site_id"), ("eeszt_check_timout", "eeszt_check_timeout"),
                        ("eeszt_certifcate_min_days", "eeszt_certificate_min_days")):
        assert ("%s is set for 1 host(s) (typo-site) but nothing in eeszt.connect reads it: did you mean %s?"
                % (typo, meant)) in output, output
    # The user's own variables, listed in eeszt_preflight_ignore_unknown, are left alone.
    assert "eeszt_local_note" not in output
