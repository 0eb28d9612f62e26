# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's one DER reader and writer (standard library only: the site's check reads certificates
with it, the controller reads PKCS#12 and CMS structures with it, the lab writes legacy PKCS#12 with it).

The reader is strict where a parser of untrusted input must be: an element must fit in its container, a
length is definite and at most four bytes long, high tag numbers (low five bits all set) are refused, an OID
must end on a complete arc. Every refusal is a :class:`DerError` (a ``ValueError``) with the offset.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pragma: no mutate

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
MAX_LENGTH_OCTETS = 4


class DerError(ValueError):
    """Bytes that are not the DER structure expected; the message says what and where."""


def read(data, pos=0, end=None):
    """One element at ``data[pos:end]``: ``(tag, content start, content end)``."""
    end = len(data) if end is None else end
    if pos + 2 > end:
        raise DerError("truncated DER element at offset %d" % pos)
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("unsupported high-number DER tag at offset %d" % pos)
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0:
            raise DerError("indefinite DER length at offset %d" % (pos - 1))
        if count > MAX_LENGTH_OCTETS or pos + count > end:
            raise DerError("invalid DER length at offset %d" % (pos - 1))
        length = int.from_bytes(bytes(data[pos:pos + count]), "big")
        pos += count
    if pos + length > end:
        raise DerError("DER element at offset %d runs past its container (declares %d bytes, only %d present)"
                       % (pos, length, end - pos))
    return tag, pos, pos + length


def content_start(data, pos=0):
    """Where the content of the element at ``pos`` starts, for recognising a structure by its first bytes.

    Unlike :func:`read` it also accepts a BER indefinite length (Windows writes PKCS#12 so) and does not
    check that the content fits: the caller only looks at what follows the header. None when the header
    is truncated or its length field is longer than four bytes.
    """
    if pos + 2 > len(data):
        return None
    length = data[pos + 1]
    if length == 0x80 or not length & 0x80:
        return pos + 2
    count = length & 0x7F
    return pos + 2 + count if count <= MAX_LENGTH_OCTETS else None


def children(data, start=0, end=None):
    """The elements inside ``data[start:end]``, in order, as ``(tag, content start, content end)``."""
    return [item[:1] + item[2:] for item in elements(data, start, end)]


def elements(data, start=0, end=None):
    """Like :func:`children`, with where each element begins: ``(tag, header start, content start, content end)``.

    The header start lets a caller take an element's whole encoding (``data[header:end]``), as a signature or a
    certificate inside a larger structure needs.
    """
    end = len(data) if end is None else end
    items = []
    pos = start
    while pos < end:
        tag, content, stop = read(data, pos, end)
        items.append((tag, pos, content, stop))
        pos = stop
    return items


def expect(data, pos, end, tag, what):
    """The content bounds of the element at ``pos``, which must have ``tag`` (``what`` names it)."""
    found, start, stop = read(data, pos, end)
    if found != tag:
        raise DerError("expected %s (tag 0x%02x) at offset %d, found tag 0x%02x" % (what, tag, pos, found))
    return start, stop


def oid_text(raw):
    """The dotted text of an OBJECT IDENTIFIER's content bytes."""
    if not raw:
        raise DerError("empty OID")
    if bytearray(raw)[-1] & 0x80:
        raise DerError("truncated OID")
    arcs, value = [], 0
    for byte in bytearray(raw):
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in [first, arcs[0] - 40 * first] + arcs[1:])


def integer(raw):
    """The value of a (non-negative) INTEGER's content bytes."""
    if not raw:
        raise DerError("empty INTEGER")
    return int.from_bytes(bytes(raw), "big")


# --- writing --------------------------------------------------------------------------------------------

def encode(tag, content):
    """One element: ``tag``, the definite length, ``content``."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def sequence(*items):
    return encode(SEQUENCE, b"".join(items))


def encode_integer(value):
    return encode(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def encode_octets(value):
    return encode(OCTET_STRING, value)


def encode_oid(dotted):
    arcs = [int(part) for part in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1]] + arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.insert(0, 0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(chunk)
    return encode(OID, bytes(body))
