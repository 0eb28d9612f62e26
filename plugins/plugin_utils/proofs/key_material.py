# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private keys in operator files, in any encoding (controller side; issue 21, point 6).

An operator file comes from a site, which is not trusted: before it is archived, sealed and put into an
evidence bundle, :func:`private_key_problem` looks for key material in it. It refuses a file that

* holds a PEM private key marker (``PRIVATE KEY-----``: PKCS#8, encrypted PKCS#8, PKCS#1, SEC1, OpenSSH,
  ``PRIVATE KEY BLOCK-----`` of PGP), a PuTTY key or the binary form of an OpenSSH key;
* is a DER private key (PKCS#1 RSA, PKCS#8 of any algorithm, encrypted PKCS#8, SEC1 EC, OpenSSL's DSA), by
  its structure (read with the collection's DER reader) or because ``cryptography`` loads it;
* is a PKCS#12 file, with or without its password: the PFX structure (version 3, then the authSafe
  ContentInfo of type data or signedData) is recognised without decrypting anything, in DER or in BER with
  indefinite lengths as Windows writes it; or ``cryptography`` loads it without a password;
* is a Java KeyStore (JKS or JCEKS, by magic number);

and it looks for these again inside what it can unpack or decode, within bounds:

* gzip, bzip2 and xz streams (every member of a multi-member stream) and zip members: at most
  ``MAX_UNPACK_DEPTH`` containers inside each other, at most ``UNPACK_LIMIT`` bytes out of one stream or
  member, at most ``ZIP_MEMBERS`` members of one zip;
* UTF-16 and UTF-32 text (by byte order mark, or when the first ``TEXT_SAMPLE`` bytes have the zero bytes of
  ASCII text in that encoding);
* base64: every run of at least ``BASE64_MIN`` base64 characters, also wrapped over lines and indented
  (a whole PEM-less file, or a value inside XML or JSON), at most ``BASE64_RUNS`` runs of one layer;
* at most ``MAX_LAYERS`` of these steps in a row, and at most ``TOTAL_LIMIT`` bytes produced by all of
  them for one file.

What lies beyond a limit is not inspected and does not by itself refuse the file, so that a large
compressed log or a decompression bomb costs bounded time and memory and is archived as before. The check
is about accidents (a glob that catches the site's key, its PFX, an exported or zipped copy); a site that
wants to leak its key can do so anyway. The cost for an ordinary operator file (PDF, XML, a log, a
certificate) is a few linear scans of its bytes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import bz2
import io
import lzma
import re
import zipfile
import zlib

from ansible_collections.eeszt.connect.plugins.module_utils.common import der

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_der_private_key, pkcs12
    HAS_CRYPTOGRAPHY = True
except ImportError:  # the structural checks still run
    HAS_CRYPTOGRAPHY = False

NEVER = "a private key is never archived (check eeszt_proofs_operator_files)"

MAX_UNPACK_DEPTH = 2                  # gzip/bzip2/xz/zip inside each other
MAX_LAYERS = 4                        # unpacking and decoding steps in a row
UNPACK_LIMIT = 4 * 1024 * 1024        # bytes read out of one compressed stream or zip member
TOTAL_LIMIT = 16 * 1024 * 1024        # bytes produced by all unpacking and decoding of one file
ZIP_MEMBERS = 64                      # members of one zip inspected, in the order of its directory
BASE64_MIN = 64                       # base64 characters of a run (an Ed25519 PKCS#8 key has 64)
BASE64_RUNS = 256                     # runs decoded per layer
TEXT_SAMPLE = 4096                    # bytes looked at to recognise UTF-16/UTF-32 text without a BOM

MARKERS = re.compile(br"PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-|openssh-key-v1\x00")
BASE64_RUN = re.compile(br"[A-Za-z0-9+/]{16,}={0,2}(?:[ \t\r\n]+[A-Za-z0-9+/]+={0,2})*")
WHITESPACE = re.compile(br"[ \t\r\n]+")
KEYSTORES = {b"\xfe\xed\xfe\xed": "a Java KeyStore (JKS)", b"\xce\xce\xce\xce": "a Java KeyStore (JCEKS)"}
GZIP, BZIP2, XZ = b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"
ZIP = (b"PK\x03\x04", b"PK\x05\x06")
PFX_VERSION = b"\x02\x01\x03"
PKCS7_TYPES = (der.encode_oid("1.2.840.113549.1.7.1"), der.encode_oid("1.2.840.113549.1.7.2"))
PBE_OIDS = ("1.2.840.113549.1.5.", "1.2.840.113549.1.12.1.")  # PKCS#5 PBES1/PBES2, PKCS#12 PBE
CONTEXT_0, CONTEXT_1 = 0xA0, 0xA1
_DECOMPRESS_ERRORS = (EOFError, OSError, ValueError, zlib.error, lzma.LZMAError)
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, RuntimeError,
               NotImplementedError, zlib.error, lzma.LZMAError)


def private_key_problem(data):
    """Why the operator file ``data`` must not be archived because it holds key material, or None."""
    found = _Inspection().inspect(bytes(data), ())
    if found is None:
        return None
    what, path = found
    inside = " (inside %s)" % ", ".join(path) if path else ""
    return "holds %s%s; %s" % (what, inside, NEVER)


class _Inspection:
    """One file's inspection: the budget of bytes that unpacking and decoding may still produce."""

    def __init__(self):
        self.budget = TOTAL_LIMIT

    def inspect(self, data, path):
        """(what, path) of the first key material in ``data`` or in what it unpacks to; None."""
        what = _kind(data)
        if what:
            return what, path
        if len(path) >= MAX_LAYERS:
            return None
        for label, layer in self._layers(data, path):
            found = self.inspect(layer, path + (label,))
            if found:
                return found
        return None

    def _layers(self, data, path):
        """(label, bytes) of what ``data`` unpacks or decodes to, produced one at a time within the budget."""
        containers = sum(1 for label in path if label in ("gzip", "bzip2", "xz") or label.startswith("zip "))
        if containers < MAX_UNPACK_DEPTH:
            for magic, make, label in ((GZIP, lambda: zlib.decompressobj(16 + zlib.MAX_WBITS), "gzip"),
                                       (BZIP2, bz2.BZ2Decompressor, "bzip2"),
                                       (XZ, lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ), "xz")):
                if data.startswith(magic):
                    yield label, self._decompress(data, magic, make)
            if data.startswith(ZIP):
                for name, content in self._zip_members(data):
                    yield "zip member %s" % name, content
        codec = _text_codec(data)
        if codec:
            yield codec[1], self._decode_text(data, codec[0])
        for count, match in enumerate(BASE64_RUN.finditer(data)):
            if count >= BASE64_RUNS or self.budget <= 0:
                break
            decoded = self._base64(match.group(0))
            if decoded:
                yield "base64", decoded

    def _take(self, produced):
        self.budget -= len(produced)
        return produced

    def _decompress(self, data, magic, make):
        """What a gzip/bzip2/xz stream (each of its members) unpacks to, at most UNPACK_LIMIT bytes."""
        limit = min(UNPACK_LIMIT, self.budget)
        parts, size = [], 0
        while data.startswith(magic) and size < limit:
            decompressor = make()
            try:
                parts.append(decompressor.decompress(data, limit - size))
            except _DECOMPRESS_ERRORS:
                break  # a broken stream: what came out before is still inspected
            size += len(parts[-1])
            if not decompressor.eof:
                break
            data = decompressor.unused_data
        return self._take(b"".join(parts))

    def _zip_members(self, data):
        """(name, bytes) of the first ZIP_MEMBERS members of a zip, each at most UNPACK_LIMIT bytes."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            members = archive.infolist()[:ZIP_MEMBERS]
        except _ZIP_ERRORS:
            return
        for info in members:
            limit = min(UNPACK_LIMIT, self.budget)
            if limit <= 0:
                return
            if info.is_dir():
                continue
            try:
                with archive.open(info) as member:
                    content = member.read(limit)  # an encrypted member (RuntimeError) cannot be inspected
            except _ZIP_ERRORS:
                continue
            yield _printable(info.filename), self._take(content)

    def _decode_text(self, data, codec):
        """UTF-16/UTF-32 text as UTF-8 (what cannot be decoded is dropped)."""
        width = 4 if codec.startswith("utf-32") else 2
        limit = max(0, min(len(data), self.budget)) // width * width
        return self._take(data[:limit].decode(codec, "ignore").encode("utf-8", "ignore"))

    def _base64(self, run):
        """The bytes a base64 run decodes to, or None when it is too short or not base64."""
        compact = WHITESPACE.sub(b"", run)
        if len(compact) < BASE64_MIN:
            return None
        compact = compact.rstrip(b"=")
        compact = compact[:len(compact) - len(compact) % 4 if len(compact) % 4 == 1 else len(compact)]
        compact += b"=" * (-len(compact) % 4)
        compact = compact[:max(0, self.budget) * 4 // 3 // 4 * 4]
        try:
            return self._take(binascii.a2b_base64(compact)) or None
        except (binascii.Error, ValueError):
            return None


def _kind(data):
    """What key material ``data`` itself is or holds (no unpacking or decoding), or None."""
    found = MARKERS.search(data)
    if found:
        match = found.group(0)
        if match.startswith(b"PuTTY"):
            return "a PuTTY private key"
        if match.startswith(b"openssh"):
            return "an OpenSSH private key"
        return "a PEM private key block"
    keystore = KEYSTORES.get(data[:4])
    if keystore:
        return keystore
    if data[:1] == b"\x30":
        return _der_kind(data)
    return None


def _der_kind(data):
    """What the DER (or BER) element at the start of ``data`` is, when it is key material; None."""
    if _is_pfx(data):
        return "a DER PKCS#12 file"
    try:
        dummy, start, end = der.read(data)
        kind = _der_structure(data, start, end)
    except der.DerError:
        return None
    if kind:
        return "a DER %s" % kind
    return _loaded(data[:end])


def _is_pfx(data):
    """A PKCS#12 PFX: SEQUENCE { INTEGER 3, ContentInfo SEQUENCE { OID data or signedData, ... }, ... }."""
    pos = der.content_start(data, 0)
    if pos is None or data[pos:pos + len(PFX_VERSION)] != PFX_VERSION:
        return False
    pos += len(PFX_VERSION)
    if data[pos:pos + 1] != b"\x30":
        return False
    pos = der.content_start(data, pos)
    return pos is not None and any(data[pos:pos + len(oid)] == oid for oid in PKCS7_TYPES)


def _der_structure(data, start, end):
    """The kind of private key whose structure the SEQUENCE content ``data[start:end]`` has, or None."""
    items = der.children(data, start, end)
    tags = [tag for tag, dummy, dummy2 in items]

    def content(index):
        return data[items[index][1]:items[index][2]]

    def first_oid(index):
        inner = der.children(data, items[index][1], items[index][2])
        if not inner or inner[0][0] != der.OID:
            return None
        return der.oid_text(data[inner[0][1]:inner[0][2]])

    if not tags:
        return None
    if tags[0] == der.INTEGER and content(0) in (b"\x00", b"\x01") and len(tags) >= 9 \
            and all(tag == der.INTEGER for tag in tags):
        return "RSA private key (PKCS#1)"
    if tags[0] == der.INTEGER and content(0) == b"\x00" and len(tags) == 6 and all(tag == der.INTEGER for tag in tags):
        return "DSA private key"
    if len(tags) >= 3 and tags[:3] == [der.INTEGER, der.SEQUENCE, der.OCTET_STRING] \
            and content(0) in (b"\x00", b"\x01") and first_oid(1):
        return "private key (PKCS#8)"
    if len(tags) >= 2 and tags[:2] == [der.INTEGER, der.OCTET_STRING] and content(0) == b"\x01" \
            and all(tag in (CONTEXT_0, CONTEXT_1) for tag in tags[2:]):
        return "EC private key (SEC1)"
    if tags == [der.SEQUENCE, der.OCTET_STRING] and (first_oid(0) or "").startswith(PBE_OIDS):
        return "encrypted private key (PKCS#8)"
    return None


def _loaded(element):
    """What ``cryptography`` loads the DER ``element`` as without a password (a private key, PKCS#12); None."""
    if not HAS_CRYPTOGRAPHY:
        return None
    try:
        load_der_private_key(element, password=None)
        return "a DER private key"
    except TypeError:  # an encrypted private key: it needs a password
        return "a DER encrypted private key"
    except (ValueError, UnsupportedAlgorithm):
        pass
    try:
        pkcs12.load_key_and_certificates(element, None)
        return "a DER PKCS#12 file"
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


def _text_codec(data):
    """(codec, label) when ``data`` is UTF-16 or UTF-32 text (BOM, or ASCII's zero bytes), else None."""
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32", "UTF-32 text"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16", "UTF-16 text"
    sample = data[:TEXT_SAMPLE]
    if len(sample) < 16:
        return None
    lanes = [(sample[lane::4].count(0), len(sample[lane::4])) for lane in range(4)]

    def zero(*which):
        return all(lanes[lane][0] * 10 >= lanes[lane][1] * 9 for lane in which)

    def text(*which):
        return all(lanes[lane][0] * 10 <= lanes[lane][1] for lane in which)

    for codec, label, zeros, chars in (("utf-32-le", "UTF-32 text", (1, 2, 3), (0,)),
                                       ("utf-32-be", "UTF-32 text", (0, 1, 2), (3,)),
                                       ("utf-16-le", "UTF-16 text", (1, 3), (0, 2)),
                                       ("utf-16-be", "UTF-16 text", (0, 2), (1, 3))):
        if zero(*zeros) and text(*chars):
            return codec, label
    return None


def _printable(name, limit=60):
    """A zip member's name for a message: printable, and short."""
    shown = "".join(char if char.isprintable() else "?" for char in name)
    return shown if len(shown) <= limit else shown[:limit] + "..."
