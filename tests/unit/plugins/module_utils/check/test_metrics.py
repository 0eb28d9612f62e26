# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prometheus metrics of a connection check (module_utils/check_metrics.py): exact exposition text,
label escaping, the last success kept across failing checks, atomic 0644 writes, stdlib only;
every file rendered here passes ``promtool check metrics``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import shutil
import stat
import subprocess

import prerequisites
import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.check import metrics
from ansible_collections.eeszt.connect.plugins.module_utils.check.errors import MetricsError

PROMTOOL = shutil.which("promtool")
LABELS = 'institution="100001",site="100001001",environment="test"'
NOT_AFTER = 1798761600  # 2027-01-01T00:00:00Z
FINISHED = 1795644900  # 2026-11-25T22:15:00Z


def steps(*names, **ms):
    return [{"name": name, "ok": True, "ms": ms.get(name, 1.0), "details": {}} for name in names]


def result(passed=True, **overrides):
    health = {"name": "health", "passed": True, "ms": 12.5, "failure": None,
              "steps": steps("dns", "tcp", "tls", "http", dns=0.2, tcp=0.3, tls=9.5, http=2.5)}
    soap = {"name": "soap", "passed": passed, "ms": 4.0,
            "failure": None if passed else {"category": "http_status", "step": "http", "endpoint": "soap",
                                            "message": "m", "hint": "h", "reason": "HTTP 500"},
            "steps": steps("dns", "tcp", "tls", "http", dns=0.1, tcp=0.1, tls=3.0, http=0.8)}
    value = {
        "passed": passed,
        "started_at": "2026-11-25T22:14:59Z",
        "finished_at": "2026-11-25T22:15:00Z",
        "client_certificate": {"subject": "CN=100001 site,O=Lab", "issuer": "CN=Lab CA", "serial": "1F",
                               "sha256": "ab" * 32, "not_before": "2026-01-01T00:00:00Z",
                               "not_after": "2027-01-01T00:00:00Z"},
        "endpoints": [health, soap],
        "failure": soap["failure"],
    }
    value.update(overrides)
    return value


def promtool_check(text):
    """promtool check metrics on text: (returncode, output)."""
    prerequisites.need("promtool")
    proc = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode("utf-8"), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def samples(text):
    return [line for line in text.splitlines() if not line.startswith("#")]


def test_a_failed_check_renders_every_family_exactly():
    text = metrics.render_metrics(result(passed=False), "100001", "100001001", "test", last_success=1764000000)
    assert samples(text) == [
        "eeszt_check_up{%s} 0" % LABELS,
        'eeszt_check_failure{%s,category="http_status",step="http",endpoint="soap"} 1' % LABELS,
        'eeszt_check_endpoint_up{%s,endpoint="health"} 1' % LABELS,
        'eeszt_check_endpoint_up{%s,endpoint="soap"} 0' % LABELS,
        'eeszt_check_endpoint_failure{%s,endpoint="soap",category="http_status",step="http"} 1' % LABELS,
        'eeszt_check_endpoint_duration_seconds{%s,endpoint="health"} 0.0125' % LABELS,
        'eeszt_check_endpoint_duration_seconds{%s,endpoint="soap"} 0.004' % LABELS,
        'eeszt_check_step_duration_seconds{%s,endpoint="health",step="dns"} 0.0002' % LABELS,
        'eeszt_check_step_duration_seconds{%s,endpoint="health",step="tcp"} 0.0003' % LABELS,
        'eeszt_check_step_duration_seconds{%s,endpoint="health",step="tls"} 0.0095' % LABELS,
        'eeszt_check_step_duration_seconds{%s,endpoint="health",step="http"} 0.0025' % LABELS,
        'eeszt_check_step_duration_seconds{%s,endpoint="soap",step="dns"} 0.0001' % LABELS,
        'eeszt_check_step_duration_seconds{%s,endpoint="soap",step="tcp"} 0.0001' % LABELS,
        'eeszt_check_step_duration_seconds{%s,endpoint="soap",step="tls"} 0.003' % LABELS,
        'eeszt_check_step_duration_seconds{%s,endpoint="soap",step="http"} 0.0008' % LABELS,
        "eeszt_check_last_run_timestamp_seconds{%s} %d" % (LABELS, FINISHED),
        "eeszt_check_last_success_timestamp_seconds{%s} 1764000000" % LABELS,
        "eeszt_check_client_certificate_not_after_timestamp_seconds{%s} %d" % (LABELS, NOT_AFTER),
        'eeszt_check_client_certificate_info{%s,serial="1F",sha256="%s",subject="CN=100001 site,O=Lab"} 1'
        % (LABELS, "ab" * 32),
    ]
    # HELP and TYPE once per family, right before its samples; every family a gauge.
    lines = text.splitlines()
    assert lines[0] == "# HELP eeszt_check_up Whether the last connection check of the site passed on every " \
                       "endpoint (1) or not (0)."
    assert lines[1] == "# TYPE eeszt_check_up gauge"
    assert len([line for line in lines if line.startswith("# TYPE ")]) == len(metrics.FAMILIES)
    assert all(line.endswith(" gauge") for line in lines if line.startswith("# TYPE "))
    assert text.endswith("} 1\n")
    assert promtool_check(text) == (0, "")


def test_a_passed_check_has_no_failure_series_and_its_own_time_as_last_success():
    text = metrics.render_metrics(result(passed=True), "100001", "100001001", "test", last_success=1764000000)
    assert "eeszt_check_up{%s} 1" % LABELS in samples(text)
    assert "eeszt_check_failure" not in text and "eeszt_check_endpoint_failure" not in text
    assert "eeszt_check_last_success_timestamp_seconds{%s} %d" % (LABELS, FINISHED) in samples(text)
    assert promtool_check(text) == (0, "")


def test_never_passed_has_no_last_success_series():
    text = metrics.render_metrics(result(passed=False), "100001", "100001001", "test")
    assert "eeszt_check_last_success_timestamp_seconds" not in text
    assert "eeszt_check_last_run_timestamp_seconds{%s} %d" % (LABELS, FINISHED) in samples(text)


def test_a_failure_before_any_connection():
    # An expired certificate: every endpoint carries the preflight failure, no step ran.
    failure = {"category": "client_cert_invalid", "step": "preflight", "endpoint": None, "message": "m",
               "hint": "h", "reason": "expired"}
    endpoints = [{"name": "health", "passed": False, "ms": 0.0, "failure": failure, "steps": []}]
    text = metrics.render_metrics(result(passed=False, failure=failure, endpoints=endpoints),
                                  "100001", "100001001", "production")
    labels = LABELS.replace("test", "production")
    assert samples(text)[:4] == [
        "eeszt_check_up{%s} 0" % labels,
        'eeszt_check_failure{%s,category="client_cert_invalid",step="preflight",endpoint=""} 1' % labels,
        'eeszt_check_endpoint_up{%s,endpoint="health"} 0' % labels,
        'eeszt_check_endpoint_failure{%s,endpoint="health",category="client_cert_invalid",step="preflight"} 1'
        % labels,
    ]
    assert "eeszt_check_step_duration_seconds" not in text
    assert promtool_check(text) == (0, "")


def test_an_unreadable_certificate_leaves_out_the_certificate_series():
    text = metrics.render_metrics(result(passed=False, client_certificate=None), "100001", "100001001", "test")
    assert "client_certificate" not in text
    assert promtool_check(text) == (0, "")


def test_label_values_are_escaped_and_repeated_endpoint_names_stay_distinct():
    certificate = dict(result()["client_certificate"], subject='CN=Kőszeg "Rendelő" \\ Kft.\nO=x')
    endpoints = [dict(result()["endpoints"][0], name='a"b'), dict(result()["endpoints"][0], name='a"b'),
                 dict(result()["endpoints"][0], name="back\\slash")]
    text = metrics.render_metrics(result(client_certificate=certificate, endpoints=endpoints),
                                  'x"1', "line\nbreak", "test")
    assert 'institution="x\\"1",site="line\\nbreak"' in text
    assert 'endpoint="a\\"b"}' in text and 'endpoint="a\\"b#2"}' in text and 'endpoint="back\\\\slash"}' in text
    assert 'subject="CN=Kőszeg \\"Rendelő\\" \\\\ Kft.\\nO=x"' in text
    assert len([line for line in text.splitlines() if line.startswith("eeszt_check_endpoint_up")]) == 3
    assert promtool_check(text) == (0, "")


def test_promtool_refuses_what_the_escaping_prevents():
    # The check above means something: the same text with an unescaped quote is refused.
    text = metrics.render_metrics(result(), 'x"1', "100001001", "test").replace('x\\"1', 'x"1')
    code, output = promtool_check(text)
    assert code != 0 and "error while linting" in output


@pytest.mark.parametrize("value, text", [
    (0, "0"), (1, "1"), (True, "1"), (False, "0"), (1795644900, "1795644900"), (0.0125, "0.0125"),
    (1e-05, "1e-05"), (2.0, "2"), (float("nan"), "NaN"), (float("inf"), "+Inf"), (float("-inf"), "-Inf"),
])
def test_values(value, text):
    assert metrics.format_value(value) == text


@pytest.mark.parametrize("iso, seconds", [
    ("2026-11-25T22:15:00Z", FINISHED), ("1970-01-01T00:00:00Z", 0), (None, None), ("", None),
    ("2026-11-25 22:15:00", None),
])
def test_timestamps(iso, seconds):
    assert metrics.timestamp(iso) == seconds


def test_file_name_per_site_and_environment():
    assert metrics.metrics_filename("100001", "10000200A", "test") == "eeszt_check_100001_10000200A_test.prom"
    assert metrics.metrics_filename("../x", "a b", "production") == "eeszt_check_.._x_a_b_production.prom"


def test_write_is_atomic_0644_and_keeps_the_last_success(tmp_path):
    directory = tmp_path / "node-exporter"
    old_umask = os.umask(0o077)
    try:
        first = metrics.write_metrics(str(directory), result(passed=True), "100001", "100001001", "test")
    finally:
        os.umask(old_umask)
    assert first == str(directory / "eeszt_check_100001_100001001_test.prom")
    assert stat.S_IMODE(os.stat(first).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(str(directory)).st_mode) == 0o755
    assert metrics.read_last_success(first) == FINISHED

    # A later failing check keeps the time of the last success...
    later = result(passed=False, finished_at="2026-11-26T03:00:00Z")
    inode = os.stat(first).st_ino
    assert metrics.write_metrics(str(directory), later, "100001", "100001001", "test") == first
    text = open(first).read()
    assert "eeszt_check_up{%s} 0" % LABELS in text
    assert "eeszt_check_last_success_timestamp_seconds{%s} %d" % (LABELS, FINISHED) in text
    assert "eeszt_check_last_run_timestamp_seconds{%s} %d" % (LABELS, FINISHED + 4 * 3600 + 45 * 60) in text
    # ...in a new file renamed over the old one (never rewritten in place), no temporary file left.
    assert os.stat(first).st_ino != inode
    assert sorted(os.listdir(str(directory))) == ["eeszt_check_100001_100001001_test.prom"]
    assert promtool_check(text) == (0, "")

    # Another site in the same directory has its own file and its own last success.
    other = metrics.write_metrics(str(directory), later, "100002", "100002001", "test")
    assert "eeszt_check_last_success_timestamp_seconds" not in open(other).read()


@pytest.mark.parametrize("content", [None, "", "garbage\n", "eeszt_check_last_success_timestamp_seconds{a=\"b\"} x\n",
                                     "eeszt_check_last_success_timestamp_seconds NaN\n",
                                     "eeszt_check_last_success_timestamp_seconds_other 5\n"])
def test_no_usable_earlier_value(tmp_path, content):
    path = tmp_path / "old.prom"
    if content is not None:
        path.write_text(content)
    assert metrics.read_last_success(str(path)) is None


def test_earlier_value_with_a_sample_timestamp(tmp_path):
    path = tmp_path / "old.prom"
    path.write_text('# HELP x y\neeszt_check_last_success_timestamp_seconds{site="a b"} 1764000000.5 1764000000000\n')
    assert metrics.read_last_success(str(path)) == 1764000000.5


def test_unwritable_directory_is_a_clear_error(tmp_path):
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(MetricsError) as caught:
        metrics.write_metrics(str(tmp_path / "blocker" / "metrics"), result(), "100001", "100001001", "test")
    assert str(caught.value).startswith("cannot create the metrics directory %s: " % (tmp_path / "blocker" / "metrics"))
    assert str(caught.value).endswith("or unset metrics_dir (eeszt_check_metrics_dir)")
    if os.geteuid() != 0:  # root writes anywhere
        readonly = tmp_path / "readonly"
        readonly.mkdir(mode=0o555)
        with pytest.raises(MetricsError, match="cannot write in the metrics directory"):
            metrics.write_metrics(str(readonly), result(), "100001", "100001001", "test")


@pytest.mark.parametrize("number, message", [
    (errno.EACCES, "cannot write in the metrics directory %(dir)s: Permission denied; make it writable for the user "
                   "the check runs as, or unset metrics_dir (eeszt_check_metrics_dir)"),
    (errno.EIO, "cannot write the metrics file %(path)s: Input/output error"),
])
def test_write_failures_are_metrics_errors_and_keep_the_old_file(tmp_path, monkeypatch, number, message):
    path = tmp_path / metrics.metrics_filename("100001", "100001001", "test")
    path.write_text("# old\n")

    def refuse(src, dst):
        raise OSError(number, os.strerror(number))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(MetricsError) as caught:
        metrics.write_metrics(str(tmp_path), result(), "100001", "100001001", "test")
    assert str(caught.value) == message % {"dir": tmp_path, "path": path}
    assert caught.value.code == "metrics_write_failed"
    assert os.listdir(str(tmp_path)) == [path.name] and path.read_text() == "# old\n"
