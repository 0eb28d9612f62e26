# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the collection's one DER reader (``plugins/module_utils/common/der.py``).

The site's certificate reader, the PFX inspection and the seal verifier all read untrusted bytes with it:
whatever the bytes, it must return elements inside their container or raise ``DerError``, never another
exception and never a hang; what the writer encodes, the reader reads back; high tag numbers, indefinite
lengths and length fields over four octets are refused. Settings and the long-run switch
(``EESZT_FUZZ_EXAMPLES``) are described in ``conftest.py`` next to this file.
"""

import os

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.eeszt.connect.plugins.module_utils.common import der

CONSTRUCTED = 0x20
LONG = int(os.environ.get("EESZT_FUZZ_EXAMPLES") or 0)


def examples(default):
    return LONG or default


def walk(data, start=0, end=None, depth=0):
    """Read every element of ``data`` (into constructed ones), decoding OIDs and INTEGERs; count them."""
    count = 0
    for tag, header, content, stop in der.elements(data, start, end):
        assert start <= header < content <= stop <= (len(data) if end is None else end)
        count += 1
        if tag == der.OID:
            der.oid_text(data[content:stop])
        elif tag == der.INTEGER:
            der.integer(data[content:stop])
        elif tag & CONSTRUCTED and depth < 64:
            count += walk(data, content, stop, depth + 1)
    return count


# --- any bytes: DerError or elements, nothing else, in bounded time -------------------------------------

DER_LIKE = st.one_of(
    st.binary(max_size=2048),
    st.tuples(st.sampled_from([b"\x30\x82", b"\x30\x80", b"\x30\x84\xff\xff\xff\xff", b"\x30\x85", b"\x06\x01",
                               b"\x1f\x01", b"\x30\x03\x02\x01"]), st.binary(max_size=512)).map(b"".join),
)


def test_any_bytes_give_elements_or_der_error(fuzz):
    @settings(max_examples=examples(400))
    @given(data=DER_LIKE)
    @example(data=b"")
    @example(data=b"\x30")
    @example(data=b"\x30\x80\x00\x00")
    @example(data=b"\x06\x00")
    @example(data=b"\x06\x01\x81")
    @example(data=b"\x02\x00")
    @example(data=b"\x30\x84\xff\xff\xff\xff")
    def check(data):
        with fuzz.bounded():
            try:
                walk(data)
            except der.DerError as exc:
                assert "offset" in str(exc) or "OID" in str(exc) or "INTEGER" in str(exc), str(exc)

    with fuzz.timed(fuzz.budget(400, 0.2)):
        check()


# --- round trip -----------------------------------------------------------------------------------------

ARCS = st.tuples(st.integers(0, 1), st.integers(0, 39)) | st.tuples(st.just(2), st.integers(0, 2 ** 40))
OIDS = st.tuples(ARCS, st.lists(st.integers(0, 2 ** 64), max_size=8)).map(
    lambda parts: ".".join(str(arc) for arc in list(parts[0]) + parts[1]))
LEAVES = st.one_of(
    OIDS.map(der.encode_oid),
    st.integers(0, 2 ** 200).map(der.encode_integer),
    st.binary(max_size=300).map(der.encode_octets),
    st.just(der.encode(der.NULL, b"")),
)
TREES = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=5).map(lambda items: der.sequence(*items)),
    st.lists(inner, max_size=5).map(lambda items: der.encode(der.SET, b"".join(items))),
    st.lists(inner, max_size=3).map(lambda items: der.encode(0xA0, b"".join(items))),
), max_leaves=20)


def test_what_the_writer_encodes_the_reader_reads_back(fuzz):
    @settings(max_examples=examples(300))
    @given(tree=TREES)
    def check(tree):
        with fuzz.bounded():
            tag, start, stop = der.read(tree)
            assert stop == len(tree)
            assert start == len(tree) - (stop - start)
            walk(tree)

    with fuzz.timed(fuzz.budget(300, 0.2)):
        check()


def test_oids_and_integers_round_trip(fuzz):
    @settings(max_examples=examples(300))
    @given(oid=OIDS, value=st.integers(0, 2 ** 520))
    @example(oid="2.999.3", value=0)
    @example(oid="1.2.840.113549.1.9.1", value=2 ** 63)
    def check(oid, value):
        with fuzz.bounded():
            tag, start, stop = der.read(der.encode_oid(oid))
            assert tag == der.OID and der.oid_text(der.encode_oid(oid)[start:stop]) == oid
            encoded = der.encode_integer(value)
            tag, start, stop = der.read(encoded)
            assert tag == der.INTEGER and der.integer(encoded[start:stop]) == value

    with fuzz.timed(fuzz.budget(300, 0.1)):
        check()


@pytest.mark.parametrize("size", [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000])
def test_lengths_round_trip_in_short_and_long_form(size):
    encoded = der.encode_octets(b"x" * size)
    assert der.read(encoded) == (der.OCTET_STRING, len(encoded) - size, len(encoded))


# --- refusals and boundaries ----------------------------------------------------------------------------

@pytest.mark.parametrize("first", [0x1F, 0x3F, 0x5F, 0x9F, 0xBF, 0xDF, 0xFF])
def test_high_tag_numbers_are_refused(first):
    with pytest.raises(der.DerError, match=r"^unsupported high-number DER tag at offset 0$"):
        der.read(bytes([first, 0x81, 0x01, 0x00]))


def test_high_tag_inside_a_container_is_refused_with_its_offset():
    with pytest.raises(der.DerError, match=r"^unsupported high-number DER tag at offset 2$"):
        der.children(b"\x30\x03\x1f\x01\x00", 2, 5)


def test_length_field_of_four_octets_is_read_and_five_are_refused():
    four = b"\x04\x84\x00\x00\x00\x01x"
    assert der.read(four) == (der.OCTET_STRING, 6, 7)
    with pytest.raises(der.DerError, match=r"^invalid DER length at offset 1$"):
        der.read(b"\x04\x85\x00\x00\x00\x00\x01x")
    assert der.MAX_LENGTH_OCTETS == 4


def test_indefinite_length_is_refused():
    with pytest.raises(der.DerError, match=r"^indefinite DER length at offset 1$"):
        der.read(b"\x30\x80\x00\x00")


def test_length_field_past_the_end_is_refused():
    with pytest.raises(der.DerError, match=r"^invalid DER length at offset 1$"):
        der.read(b"\x04\x82\x01")


def test_element_exactly_filling_its_container_and_one_byte_past():
    data = b"\x30\x04\x04\x02ab" + b"c"
    assert der.children(data, 2, 6) == [(der.OCTET_STRING, 4, 6)]
    assert der.elements(data, 2, 6) == [(der.OCTET_STRING, 2, 4, 6)]
    past = b"\x30\x04\x04\x03ab" + b"c"  # the byte after the container is there, but not inside it
    with pytest.raises(der.DerError, match=r"^DER element at offset 4 runs past its container "
                                           r"\(declares 3 bytes, only 2 present\)$"):
        der.children(past, 2, 6)
    assert der.read(past, 2) == (der.OCTET_STRING, 4, 7)  # without the container's end it fits


def test_truncated_header_is_refused():
    for data in (b"", b"\x30"):
        with pytest.raises(der.DerError, match=r"^truncated DER element at offset 0$"):
            der.read(data)


@pytest.mark.parametrize("raw, message", [
    (b"", "empty OID"),
    (b"\x2a\x86", "truncated OID"),
])
def test_bad_oids_are_refused(raw, message):
    with pytest.raises(der.DerError, match="^%s$" % message):
        der.oid_text(raw)


def test_empty_integer_is_refused():
    with pytest.raises(der.DerError, match="^empty INTEGER$"):
        der.integer(b"")


def test_expect_names_what_it_wanted():
    assert der.expect(b"\x30\x00", 0, 2, der.SEQUENCE, "Certificate") == (2, 2)
    with pytest.raises(der.DerError, match=r"^expected Certificate \(tag 0x30\) at offset 0, found tag 0x04$"):
        der.expect(b"\x04\x00", 0, 2, der.SEQUENCE, "Certificate")
