# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one DER reader (module_utils/common/der.py): its limits, exactly at them and one past."""

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common import der


def test_round_trip():
    data = der.sequence(der.encode_integer(300), der.encode_oid("1.2.840.113549.1.12.10.1.2"),
                        der.encode_octets(b"x" * 200))
    tag, start, end = der.read(data)
    assert (tag, end) == (der.SEQUENCE, len(data))
    items = der.children(data, start, end)
    assert [item[0] for item in items] == [der.INTEGER, der.OID, der.OCTET_STRING]
    assert der.integer(data[items[0][1]:items[0][2]]) == 300
    assert der.oid_text(data[items[1][1]:items[1][2]]) == "1.2.840.113549.1.12.10.1.2"
    assert data[items[2][1]:items[2][2]] == b"x" * 200


@pytest.mark.parametrize("size", [0, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000])
def test_length_forms(size):
    data = der.encode_octets(b"\0" * size)
    assert der.read(data) == (der.OCTET_STRING, len(data) - size, len(data))


def test_four_length_octets_are_read_and_five_refused():
    four = bytes([0x04, 0x84, 0, 0, 0, 1]) + b"x"
    assert der.read(four) == (0x04, 6, 7)
    five = bytes([0x04, 0x85, 0, 0, 0, 0, 1]) + b"x"
    with pytest.raises(der.DerError, match="invalid DER length"):
        der.read(five)


def test_an_element_that_exactly_fits_and_one_that_runs_one_byte_past():
    assert der.read(b"\x04\x02ab") == (4, 2, 4)
    with pytest.raises(der.DerError, match="declares 3 bytes"):
        der.read(b"\x04\x03ab")
    # inside a container: the container's end is the limit, not the buffer's
    with pytest.raises(der.DerError):
        der.read(b"\x04\x02abcd", 0, 3)


@pytest.mark.parametrize("data, message", [
    (b"", "truncated"),
    (b"\x30", "truncated"),
    (b"\x1f\x01\x00", "high-number"),
    (b"\xbf\x01\x00", "high-number"),
    (b"\x30\x80\x00\x00", "indefinite"),
])
def test_refusals(data, message):
    with pytest.raises(der.DerError, match=message):
        der.read(data)


def test_expect_names_what_was_expected():
    with pytest.raises(der.DerError, match=r"expected serial \(tag 0x02\) at offset 0, found tag 0x04"):
        der.expect(b"\x04\x00", 0, 2, der.INTEGER, "serial")
    assert der.expect(b"\x02\x01\x05", 0, 3, der.INTEGER, "serial") == (2, 3)


@pytest.mark.parametrize("raw, message", [(b"", "empty OID"), (b"\x2a\x86", "truncated OID")])
def test_bad_oids(raw, message):
    with pytest.raises(der.DerError, match=message):
        der.oid_text(raw)


@pytest.mark.parametrize("dotted", ["2.5.4.3", "1.2.840.113549.1.1.11", "2.999.3", "0.9.2342"])
def test_oid_round_trip_including_a_large_first_arc(dotted):
    encoded = der.encode_oid(dotted)
    assert der.oid_text(encoded[2:]) == dotted


def test_integer():
    assert der.integer(b"\x00\xff") == 255
    with pytest.raises(der.DerError):
        der.integer(b"")
    assert der.encode_integer(128) == b"\x02\x02\x00\x80"
    assert der.encode_integer(0) == b"\x02\x01\x00"


def test_exact_encodings():
    assert der.sequence() == b"\x30\x00"
    assert der.encode_octets(b"") == b"\x04\x00"
    assert der.encode_oid("2.5.4.3") == b"\x06\x03\x55\x04\x03"
    assert der.encode_octets(b"\0" * 0x7F)[:2] == b"\x04\x7f"
    assert der.encode_octets(b"\0" * 0x80)[:3] == b"\x04\x81\x80"
    assert der.encode_octets(b"\0" * 0x100)[:4] == b"\x04\x82\x01\x00"
    assert (der.SEQUENCE, der.SET, der.INTEGER, der.OCTET_STRING, der.NULL, der.OID) == (
        0x30, 0x31, 0x02, 0x04, 0x05, 0x06)


def test_long_length_that_ends_exactly_at_the_end_and_one_that_runs_past():
    assert der.read(b"\x04\x81\x00") == (4, 3, 3)
    with pytest.raises(der.DerError, match=r"^invalid DER length at offset 1$"):
        der.read(b"\x04\x82\x00")


@pytest.mark.parametrize("data, message", [
    (b"\x30", "truncated DER element at offset 0"),
    (b"\x1f\x01\x00", "unsupported high-number DER tag at offset 0"),
    (b"\x30\x80\x00\x00", "indefinite DER length at offset 1"),
    (b"\x04\x85\x00\x00\x00\x00\x01x", "invalid DER length at offset 1"),
    (b"\x04\x03ab", "DER element at offset 2 runs past its container (declares 3 bytes, only 2 present)"),
])
def test_exact_messages(data, message):
    with pytest.raises(der.DerError) as caught:
        der.read(data)
    assert str(caught.value) == message


def test_exact_messages_at_an_offset():
    with pytest.raises(der.DerError) as caught:
        der.read(b"\x00\x00\x04\x03ab", 2)
    assert str(caught.value) == "DER element at offset 4 runs past its container (declares 3 bytes, only 2 present)"
    with pytest.raises(der.DerError) as caught:
        der.oid_text(b"")
    assert str(caught.value) == "empty OID"
    with pytest.raises(der.DerError) as caught:
        der.oid_text(b"\x81")
    assert str(caught.value) == "truncated OID"
    with pytest.raises(der.DerError) as caught:
        der.integer(b"")
    assert str(caught.value) == "empty INTEGER"
    with pytest.raises(der.DerError) as caught:
        der.expect(b"\x00\x04\x00", 1, 3, der.INTEGER, "serial")
    assert str(caught.value) == "expected serial (tag 0x02) at offset 1, found tag 0x04"


def test_children_default_to_the_whole_buffer():
    assert der.children(b"\x02\x01\x05\x04\x00") == [(2, 2, 3), (4, 5, 5)]


@pytest.mark.parametrize("dotted", ["1.0", "1.0.8571", "2.0", "0.0"])
def test_oid_first_arcs(dotted):
    assert der.oid_text(der.encode_oid(dotted)[2:]) == dotted


def test_elements_default_to_the_whole_buffer_with_header_starts():
    assert der.elements(b"\x02\x01\x05\x04\x00") == [(2, 0, 2, 3), (4, 3, 5, 5)]


@pytest.mark.parametrize("data, pos, expected", [
    (b"\x30\x03\x02\x01\x03", 0, 2),            # short definite length
    (b"\x30\x80\x02\x01\x03\x00\x00", 0, 2),    # BER indefinite length: accepted here, refused by read()
    (b"\x30\x81\x03\x02\x01\x03", 0, 3),        # one length octet
    (b"\x30\x84\x00\x00\x00\x03", 0, 6),        # four length octets: the limit
    (b"\x30\x85\x00\x00\x00\x00\x03", 0, None),  # five: one past it
    (b"\x30", 0, None),                          # truncated header
    (b"\x00\x30\x01\x05", 1, 3),                # at an offset
])
def test_content_start_reads_a_header_without_checking_the_content(data, pos, expected):
    assert der.content_start(data, pos) == expected
