# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 21, attacks 2 (its ordering half) and 5, against two demo sites (lab PKI only: no WAF).

A site's proof directory is tampered with between runs of collect_proofs.yml:

* attack 2: the controller's order of receipt decides a site's latest proof, not the finished_at the site
  wrote: a passing proof dated a little earlier but received later wins over a failing one received before;
  a passing proof dated 2099 received before a real failing check (check_connection.yml against a closed
  port) does not keep the site passed;
* attack 5: a proof one byte over eeszt_proofs_max_proof_size is refused without being fetched, named with its
  size and the variable; of more new proofs than eeszt_proofs_max_new_per_site, the limit is collected and
  a warning says how many are left, which the next run collects.
"""

import datetime
import json
import os
import re

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import proof_filename, serialize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
SITES = {"site001": ("100001", "100001001"), "site002": ("100001", "100001002")}
LIMIT = 65536

pytestmark = pytest.mark.slow


def utc(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class Lab:
    def __init__(self, root, run_playbook, port):
        self.lab_dir = root / "lab"
        self.archive = self.lab_dir / "proofs"
        self.run_playbook = run_playbook
        self.env = {"EESZT_LAB_DIR": str(self.lab_dir), "EESZT_LAB_WAF_PORT": str(port),
                    "EESZT_DEMO_SITES": str(len(SITES))}

    def play(self, playbook, *args, **extra):
        variables = {"eeszt_proofs_archive_dir": str(self.archive)}
        variables.update(extra)
        return self.run_playbook(playbook, extra_vars=variables, env=self.env, args=["-i", DEMO] + list(args))

    def proof_dir(self, host):
        path = self.lab_dir / "sites" / host / "var" / "lib" / "eeszt" / "proofs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write(self, host, finished_at, passed, size=None, name=None):
        """A proof of ``host`` as the connection check writes one (named by its time), or padded to ``size``."""
        institution, site = SITES[host]
        document = {
            "schema": "eeszt.connect/proof/v1", "institution_id": institution, "site_id": site, "host": host,
            "environment": "test", "started_at": finished_at, "finished_at": finished_at,
            "client_certificate": {"subject": "CN=%s" % site, "issuer": "CN=lab", "serial": "0A", "sha256": "00" * 32,
                                   "not_before": "2026-01-01T00:00:00Z", "not_after": "2099-12-31T00:00:00Z"},
            "endpoints": [{"name": "health", "url": "https://127.0.0.1:1/health", "passed": passed, "steps": []}],
            "passed": passed,
            "failure": None if passed else {"category": "tcp_refused", "endpoint": "health", "step": "tcp",
                                            "message": "connection refused", "hint": "is the WAF up?"},
            "tool": {"name": "eeszt.connect", "version": "0.1.0"}}
        data = serialize(document)
        if size is not None:
            data = data[:-2] + b" " * (size - len(data)) + b"}\n"  # JSON whitespace: still a valid proof
            assert len(data) == size
        name = name or proof_filename(finished_at, institution, site)
        (self.proof_dir(host) / name).write_bytes(data)
        return name

    def site_row(self, host):
        index = json.loads((self.archive / "index.json").read_text())
        return [s for s in index["sites"] if (s["institution_id"], s["site_id"]) == SITES[host]][0]

    def archived(self, host):
        institution, site = SITES[host]
        folder = self.archive / institution / site
        return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []

    def anywhere_in_archive(self, name):
        return list(self.archive.rglob(name))


@pytest.fixture(scope="module")
def lab(tmp_path_factory, run_playbook, pick_port):
    lab = Lab(tmp_path_factory.mktemp("untrusted-limits"), run_playbook, pick_port())
    result = lab.play("lab.yml", eeszt_lab_state="present")  # the PKI (the sites' PFX seal the proofs); no WAF
    assert result.ok, result.output
    return lab


def one_line(text):
    return re.sub(r"\s+", " ", text)


def test_the_proof_received_last_decides_not_the_site_s_clock(lab):
    """Attack 2: a failing proof with the later finished_at is received first, then a passing one whose
    finished_at is earlier: the site's status is the later-received proof's."""
    moment = now()
    failing = lab.write("site001", utc(moment - datetime.timedelta(minutes=1)), False)
    result = lab.play("collect_proofs.yml", "--limit", "site001")
    assert result.ok, result.output
    assert (lab.site_row("site001")["status"], lab.archived("site001")) == ("failed", [failing])
    passing = lab.write("site001", utc(moment - datetime.timedelta(hours=2)), True)
    result = lab.play("collect_proofs.yml", "--limit", "site001")
    assert result.ok, result.output
    row = lab.site_row("site001")
    assert row["latest"] == "100001/100001001/" + passing, row
    assert row["status"] == "passed", row


def test_a_passing_proof_from_the_future_does_not_outlast_a_real_failing_check(lab):
    """Attack 2: a passing proof dated 2099 received before a real failing check does not keep the site passed.

    The clock rule refuses the 2099 proof (quarantined, the site "error" while the file stays on the site); the
    real failing check is archived and is the site's latest proof. Never "passed"."""
    future = lab.write("site002", "2099-01-01T00:00:00Z", True)
    result = lab.play("collect_proofs.yml", "--limit", "site002")
    assert "site002" in result.recap, result.output
    # The real check: its only endpoint is a loopback port nothing listens on.
    closed = [{"name": "health", "url": "https://127.0.0.1:1/health", "expect_status": 200, "timeout": 5}]
    result = lab.play("check_connection.yml", "--limit", "site002", eeszt_endpoints=closed,
                      eeszt_check_fail_on_error=False)
    assert result.ok, result.output
    real = [p.name for p in lab.proof_dir("site002").glob("*.json") if not p.name.startswith("2099")]
    assert len(real) == 1, real
    result = lab.play("collect_proofs.yml", "--limit", "site002")
    assert "site002" in result.recap, result.output
    row = lab.site_row("site002")
    assert row["latest"] == "100001/100001002/" + real[0], row
    assert row["status"] == "error", row  # still sending the 2099 file: the site sent an invalid proof
    assert "clock skew" in one_line(json.dumps(row)), row
    # Once the file is gone from the site, the next real (failing) check decides.
    (lab.proof_dir("site002") / future).unlink()
    result = lab.play("check_connection.yml", "--limit", "site002", eeszt_endpoints=closed,
                      eeszt_check_fail_on_error=False)
    assert result.ok, result.output
    newest = sorted(p.name for p in lab.proof_dir("site002").glob("*.json"))[-1]
    assert newest != real[0]
    result = lab.play("collect_proofs.yml", "--limit", "site002")
    assert "site002" in result.recap, result.output
    row = lab.site_row("site002")
    assert row["latest"] == "100001/100001002/" + newest, row
    assert row["status"] == "failed", row
    assert row["failure"]["stage"] == "check", row


def test_a_proof_over_the_size_limit_is_refused_without_being_fetched(lab):
    """Attack 5: one byte over eeszt_proofs_max_proof_size (64 KiB): not fetched, named with its size."""
    at_limit = lab.write("site001", utc(now() - datetime.timedelta(seconds=30)), True, size=LIMIT)
    big = lab.write("site001", utc(now()), True, size=LIMIT + 1, name="zz_oversized_100001_100001001.json")
    result = lab.play("collect_proofs.yml", "--limit", "site001")
    output = one_line(result.stdout + result.stderr)
    assert result.recap["site001"]["failed"] == 1, result.output  # an error of the site (eeszt_proofs_fail_on_error)
    assert lab.anywhere_in_archive(big) == [], result.output  # not in the archive, not waiting for a seal either
    assert at_limit in lab.archived("site001")  # exactly at the limit: collected
    reason = ("it is %d bytes, over the limit of %d bytes (eeszt_proofs_max_proof_size), so it is not fetched"
              % (LIMIT + 1, LIMIT))
    assert "proof %s of site 100001/100001001 was not collected: %s" % (lab.proof_dir("site001") / big, reason) \
        in output, result.output
    row = lab.site_row("site001")
    assert row["collection"]["status"] == "error", row
    assert big in row["collection"]["message"] and "65537 bytes" in row["collection"]["message"], row
    assert "eeszt_proofs_max_proof_size" in row["collection"]["message"], row
    assert "Problem sites: 100001/100001001 (site001)" in output, result.output
    (lab.proof_dir("site001") / big).unlink()


def test_more_new_proofs_than_the_limit_leave_the_rest_for_the_next_run(lab):
    """Attack 5: limit + 1 small new proofs: the limit is collected, the oldest first, and a warning names
    how many are left; the next run collects it."""
    limit = 3
    base = now() - datetime.timedelta(minutes=30)
    names = [lab.write("site002", utc(base + datetime.timedelta(minutes=n)), True) for n in range(limit + 1)]
    before = set(lab.archived("site002"))
    result = lab.play("collect_proofs.yml", "--limit", "site002", eeszt_proofs_max_new_per_site=limit)
    assert result.ok, result.output
    assert set(lab.archived("site002")) - before == set(names[:limit]), result.output
    assert ("1 new proof(s) of site 100001/100001002 were left on the site: at most %d are collected per run "
            "(eeszt_proofs_max_new_per_site)" % limit) in one_line(result.stdout + result.stderr), result.output
    result = lab.play("collect_proofs.yml", "--limit", "site002", eeszt_proofs_max_new_per_site=limit)
    assert result.ok, result.output
    assert set(lab.archived("site002")) - before == set(names), result.output
    assert "left on the site" not in result.stdout + result.stderr
