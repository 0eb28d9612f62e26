# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module eeszt.connect.connection_check run through AnsibleModule:
results, proof writing, check mode, option errors, no secrets out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import base64
import hashlib
import json
import socket

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible.module_utils.testing import patch_module_args

from ansible_collections.eeszt.connect.plugins.modules import connection_check as module

UTC = datetime.timezone.utc
SECRET = "pr0xy-S3cret"


@pytest.fixture
def material(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "123456 site")])
    now = datetime.datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(4242).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    (tmp_path / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return tmp_path


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def args(material, **extra):
    values = {
        "endpoints": [{"name": "health", "url": "https://127.0.0.1:%d/health" % closed_port()}],
        "client_cert": str(material / "cert.pem"),
        "client_key": str(material / "key.pem"),
        "ca_bundle": str(material / "ca.pem"),
        "institution_id": "123456",
        "site_id": "123456001",
        "host": "site01",
        "proof_dir": str(material / "proofs"),
        "timeout": 2,
    }
    values.update(extra)
    return values


def run_module(capsys, values):
    with patch_module_args(values):
        with pytest.raises(SystemExit) as caught:
            module.main()
    out = capsys.readouterr().out
    return caught.value.code, out, json.loads(out)


def test_failed_check_does_not_fail_the_module_and_writes_a_proof(material, capsys):
    code, _out, result = run_module(capsys, args(material))
    assert code == 0
    assert result["changed"] is True and result["passed"] is False
    assert result["failure"]["category"] == "tcp_refused"
    # The module returns the check's outcome; the action plugin adds stage, failed and unreachable (and msg, error).
    assert set(result) - {"changed", "invocation"} == set(yaml.safe_load(module.RETURN)) - {
        "error", "msg", "stage", "failed", "unreachable"}
    with open(result["proof_path"], "rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == result["proof_sha256"]
    # The proof comes back with the result, byte for byte: the proofs stage archives it without a fetch.
    assert base64.b64decode(result["proof_content"]) == data
    proof = json.loads(data)
    assert proof["host"] == "site01" and proof["failure"]["category"] == "tcp_refused"
    assert proof["client_certificate"]["serial"] == "1092"
    assert b"PRIVATE KEY" not in data


def test_check_mode_probes_without_writing(material, capsys):
    code, _out, result = run_module(capsys, args(material, _ansible_check_mode=True))
    assert code == 0
    assert result["changed"] is False and result["proof_path"] is None and result["proof_sha256"] is None
    assert result["proof_content"] is None
    assert result["endpoints"][0]["steps"][-1]["name"] == "tcp"
    assert not (material / "proofs").exists()


def test_proxy_password_never_leaves(material, capsys):
    code, out, result = run_module(capsys, args(
        material, proxy="http://127.0.0.1:%d" % closed_port(), proxy_username="u", proxy_password=SECRET,
        write_proof=False, language="hu"))
    assert code == 0
    assert result["failure"]["category"] == "proxy"
    assert "proxy" in result["failure"]["message"]
    assert SECRET not in out
    assert result["proof_path"] is None


def test_returned_proof_holds_no_secret(material, capsys):
    code, out, result = run_module(capsys, args(
        material, proxy="http://127.0.0.1:%d" % closed_port(), proxy_username="u", proxy_password=SECRET))
    assert code == 0 and result["proof_content"]
    content = base64.b64decode(result["proof_content"])
    with open(result["proof_path"], "rb") as handle:
        assert handle.read() == content
    assert SECRET.encode() not in content and SECRET not in out
    assert b"PRIVATE KEY" not in content


@pytest.mark.parametrize("extra, message", [
    ({"endpoints": [{"name": "x", "url": "http://127.0.0.1/"}]}, "scheme must be https"),
    ({"endpoints": []}, "at least one endpoint"),
    ({"proxy": "http://user:pw@127.0.0.1:3128"}, "must not contain credentials"),
    ({"timeout": 0}, "timeout must be positive"),
])
def test_option_errors_fail_the_module(material, capsys, extra, message):
    code, _out, result = run_module(capsys, args(material, **extra))
    assert code == 1 and result["failed"] is True
    assert message in result["msg"]
    assert result["error"] == "check_config"


def test_unwritable_proof_dir_fails_the_module(material, capsys):
    (material / "blocker").write_text("x")
    code, _out, result = run_module(capsys, args(material, proof_dir=str(material / "blocker" / "proofs")))
    assert code == 1 and "cannot create the proof directory" in result["msg"]
    assert result["error"] == "proof_write_failed"


def test_failed_check_writes_metrics_too(material, capsys):
    directory = material / "node-exporter"
    code, out, result = run_module(capsys, args(material, metrics_dir=str(directory), write_proof=False))
    assert code == 0 and result["passed"] is False and result["changed"] is True
    assert result["metrics_path"] == str(directory / "eeszt_check_123456_123456001_test.prom")
    text = (directory / "eeszt_check_123456_123456001_test.prom").read_text()
    labels = 'institution="123456",site="123456001",environment="test"'
    assert "eeszt_check_up{%s} 0\n" % labels in text
    assert 'eeszt_check_failure{%s,category="tcp_refused",step="tcp",endpoint="health"} 1\n' % labels in text
    assert 'eeszt_check_endpoint_up{%s,endpoint="health"} 0\n' % labels in text
    assert "eeszt_check_last_success_timestamp_seconds" not in text
    assert 'eeszt_check_client_certificate_info{%s,serial="1092",' % labels in text
    assert "PRIVATE" not in text and "127.0.0.1" not in text
    assert result["proof_path"] is None


def test_check_mode_writes_no_metrics(material, capsys):
    directory = material / "node-exporter"
    code, _out, result = run_module(capsys, args(material, metrics_dir=str(directory), _ansible_check_mode=True))
    assert code == 0 and result["changed"] is False and result["metrics_path"] is None
    assert not directory.exists()


def test_unwritable_metrics_dir_fails_the_module_with_the_outcome(material, capsys):
    (material / "blocker").write_text("x")
    code, _out, result = run_module(capsys, args(material, metrics_dir=str(material / "blocker" / "m")))
    assert code == 1
    assert result["msg"].startswith("cannot create the metrics directory %s: " % (material / "blocker" / "m"))
    assert result["error"] == "metrics_write_failed"
    # The check ran and its proof was written before: both stay in the result.
    assert result["passed"] is False and result["failure"]["category"] == "tcp_refused"
    assert result["proof_path"] and open(result["proof_path"], "rb").read()


def test_documentation_parses_and_documents_metrics_dir():
    documentation = yaml.safe_load(module.DOCUMENTATION)
    option = documentation["options"]["metrics_dir"]
    assert option["type"] == "path" and "default" not in option
    assert "/var/lib/prometheus/node-exporter" in option["description"][0]
    assert yaml.safe_load(module.EXAMPLES)[1]["eeszt.connect.connection_check"]["metrics_dir"] == \
        "/var/lib/prometheus/node-exporter"
