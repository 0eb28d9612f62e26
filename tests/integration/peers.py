# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real network peers for the connection check's tests, all on 127.0.0.1
with free ports and bounded waits:

- :class:`OpenSSLServer`: ``openssl s_server -www`` with any arguments;
- :class:`Proxy`: an HTTP proxy that refuses CONNECT with a status, or
  tunnels it (optionally demanding Basic credentials);
- :class:`PlainHTTP`: plain HTTP where TLS is expected;
- :class:`BlackHole`: accepts TCP (in the kernel) and never answers;
- :class:`FullBacklog`: a listener whose accept queue is full, so a new
  connect times out;
- :func:`closed_port`: a port nothing listens on;
- :class:`TestPKI`: CAs, server and client certificates made with
  ``cryptography`` (EC P-256, fast).
"""

import base64
import datetime
import ipaddress
import os
import select
import socket
import subprocess
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def free_port():
    """A TCP port nothing listens on right now (bound with port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def closed_port():
    """A port that refuses connections (nothing listens on it)."""
    return free_port()


def wait_for_port(port, timeout=START_TIMEOUT, process=None):
    """Until something accepts TCP on the port; raises after timeout or when process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError("peer exited with %s: %s" % (process.returncode, process.stdout.read()))
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %s:%d after %.0f s" % (HOST, port, timeout))


# --- certificates ----------------------------------------------------------------

class Issued:
    """A certificate and key, written as PEM files."""

    def __init__(self, directory, name, cert, key):
        self.cert = cert
        self.key = key
        self.cert_path = os.path.join(directory, name + ".pem")
        self.key_path = os.path.join(directory, name + ".key")
        with open(self.cert_path, "wb") as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


class TestPKI:
    """Make CAs and certificates under one directory."""

    def __init__(self, directory):
        self.directory = directory

    def _build(self, name, subject_cn, issuer, ca, not_before, not_after, dns=(), ips=(), client=False):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "HU"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "eeszt.connect tests"),
                             x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
        builder = (x509.CertificateBuilder()
                   .subject_name(subject)
                   .issuer_name(issuer.cert.subject if issuer else subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(not_before)
                   .not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                critical=True)
        else:
            usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            names = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
            if names:
                builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        signer = issuer.key if issuer else key
        cert = builder.sign(signer, hashes.SHA256())
        return Issued(self.directory, name, cert, key)

    def ca(self, name, cn):
        now = datetime.datetime.now(datetime.timezone.utc)
        return self._build(name, cn, None, True, now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650))

    def server(self, name, issuer, dns=("localhost",), ips=(HOST,)):
        now = datetime.datetime.now(datetime.timezone.utc)
        return self._build(name, dns[0] if dns else ips[0], issuer, False, now - datetime.timedelta(days=1),
                           now + datetime.timedelta(days=365), dns, ips)

    def client(self, name, issuer, cn="123456 test site", days_from=-1, days_to=365):
        now = datetime.datetime.now(datetime.timezone.utc)
        return self._build(name, cn, issuer, False, now + datetime.timedelta(days=days_from),
                           now + datetime.timedelta(days=days_to), client=True)


# --- peers ---------------------------------------------------------------------------

class OpenSSLServer:
    """``openssl s_server -www`` on 127.0.0.1 (a context manager)."""

    def __init__(self, cert, key, args=()):
        self.port = free_port()
        self.argv = ["openssl", "s_server", "-accept", "%s:%d" % (HOST, self.port), "-cert", cert, "-key", key,
                     "-www", "-quiet"] + list(args)
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port, process=self.process)
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)
        self.process.stdout.close()

    def url(self, host=HOST, path="/"):
        return "https://%s:%d%s" % (host, self.port, path)


class _Listener:
    """A listening socket on a free loopback port, served by a thread (context manager)."""

    backlog = 16

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((HOST, 0))
        self.sock.listen(self.backlog)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = None

    def __enter__(self):
        if hasattr(self, "serve"):
            self.sock.settimeout(0.2)
            self.thread = threading.Thread(target=self._loop, daemon=True)
            self.thread.start()
        return self

    def _loop(self):
        while not self.stopping.is_set():
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    def _serve_one(self, conn):
        with conn:
            conn.settimeout(STOP_TIMEOUT)
            try:
                self.serve(conn)
            except OSError:
                pass

    def __exit__(self, *exc):
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(STOP_TIMEOUT)
        self.sock.close()


def read_request_head(conn, limit=65536):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class Proxy(_Listener):
    """HTTP proxy for CONNECT: refuses with ``status`` (403, 407...), or with
    status 200 tunnels to the requested 127.0.0.1 port; with ``credentials``
    ("user", "password") it answers 407 to requests without them. The
    request heads it saw are in ``requests``."""

    def __init__(self, status=200, credentials=None):
        super(Proxy, self).__init__()
        self.status = status
        self.credentials = credentials
        self.requests = []

    def serve(self, conn):
        head = read_request_head(conn)
        self.requests.append(head.decode("latin-1"))
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        status = self.status
        if self.credentials:
            token = base64.b64encode(("%s:%s" % self.credentials).encode()).decode()
            if ("proxy-authorization: basic %s" % token.lower()) not in head.decode("latin-1").lower():
                status = 407
        if status != 200 or len(request_line) < 2 or request_line[0] != "CONNECT":
            reasons = {403: "Forbidden", 407: "Proxy Authentication Required"}
            conn.sendall(("HTTP/1.1 %d %s\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n"
                          "Connection: close\r\n\r\n" % (status, reasons.get(status, "Error"))).encode())
            return
        target_host, _sep, target_port = request_line[1].rpartition(":")
        if target_host not in (HOST, "localhost"):
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with socket.create_connection((HOST, int(target_port)), timeout=STOP_TIMEOUT) as upstream:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._pump(conn, upstream)

    def _pump(self, left, right):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self.stopping.is_set():
            readable, _w, _x = select.select([left, right], [], [], 0.2)
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (right if source is left else left).sendall(data)


class PlainHTTP(_Listener):
    """Speaks plain HTTP: answers whatever arrives first with a 400 and closes."""

    def serve(self, conn):
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


class BlackHole(_Listener):
    """Accepts TCP connections (the kernel completes them) and never says a word."""


class FullBacklog(_Listener):
    """A listener whose accept queue is already full: new SYNs are dropped, so
    connecting times out. Holds the connections that filled the queue."""

    backlog = 0

    def __enter__(self):
        self.fillers = []
        for _index in range(8):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(0.3)
            try:
                sock.connect((HOST, self.port))
            except socket.timeout:
                sock.close()
                return self
            self.fillers.append(sock)
        raise RuntimeError("the accept queue did not fill up")

    def __exit__(self, *exc):
        for sock in self.fillers:
            sock.close()
        super(FullBacklog, self).__exit__(*exc)
