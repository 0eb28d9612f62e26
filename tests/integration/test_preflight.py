# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad variables fail in the preflight, before any site is touched (issue 8, promise 6).

site.yml on five demo sites against a private lab: one site with an unknown
environment, one with a malformed endpoint URL, one with a negative number of
days. Each fails in the preflight naming its variable and value; its site
directory is byte for byte what it was (nothing created); the two good sites
go through every stage. A second, lab-free test shows that the preflight never
connects: a bad site behind a closed SSH port fails, it is not unreachable.
"""

import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
SITES = 5
pytestmark = pytest.mark.slow
PREFLIGHT_TASK = "Check the variables of the stages to come, on the controller only"

# host -> (variables that break it, the variable the message must name, text of the bad value)
BAD = {
    "site002": ({"eeszt_environment": "staging"}, "eeszt_environment", '"staging"'),
    "site003": ({"eeszt_endpoints": [{"name": "waf", "url": "https//127.0.0.1:8443/health"}]},
                "eeszt_endpoints[0].url", '"https//127.0.0.1:8443/health"'),
    "site005": ({"eeszt_certificate_min_days": -3}, "eeszt_certificate_min_days", "-3"),
}
GOOD = ["site001", "site004"]


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
    lines = ["eeszt_sites:", "  hosts:"]
    for host, (variables, dummy, dummy2) in sorted(BAD.items()):
        lines.append("    %s: %s" % (host, json.dumps(variables)))
    overrides = root / "bad.yml"
    overrides.write_text("\n".join(lines) + "\n")
    sites_dir = lab_dir / "sites"
    before = dict((host, snapshot(sites_dir / host)) for host in BAD)
    existed = dict((host, (sites_dir / host).exists()) for host in BAD)

    result = run_playbook("site.yml", env=env, timeout=240, extra_vars={
        "eeszt_proofs_archive_dir": str(lab_dir / "proofs")}, args=["-i", DEMO, "-i", str(overrides)])

    assert result.returncode == 2, result.output  # some hosts failed
    for host, (dummy, variable, shown) in BAD.items():
        recap = result.recap[host]
        assert (recap["ok"], recap["changed"], recap["failed"], recap["unreachable"]) == (0, 0, 1, 0), result.output
        message = message_of(result.stdout, host)
        assert "Preflight: 1 bad variable for %s" % host in message, message
        assert "%s = %s" % (variable, shown.replace('"', '\\"')) in message, message
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
    assert "Preflight: 1 bad variable for remote-bad" in message
    assert 'eeszt_tls_proxy = \\"http://***@proxy.example.hu:3128\\"' in message
    # configure_tls.yml checks the tls_client variables only: eeszt_check_timeout is not its business.
    assert "eeszt_check_timeout" not in message
    assert "hunter2" not in result.stdout + result.stderr
    assert "pr0xy-s3cret" not in result.stdout + result.stderr
