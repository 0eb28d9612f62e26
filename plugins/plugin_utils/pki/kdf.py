# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PKCS#12 key derivation (RFC 7292, appendix B.2), once: the PFX loader checks a file's MAC with it
before ``cryptography`` opens the file, and the lab writes the legacy (RC2, 3DES) files with it."""

from __future__ import annotations

KEY_ID_ENCRYPTION = 1
KEY_ID_IV = 2
KEY_ID_MAC = 3


def pkcs12_kdf(hash_factory, block, password, salt, iterations, key_id, length):
    """The PKCS#12 key derivation (RFC 7292, appendix B.2)."""
    u = hash_factory().digest_size
    diversifier = bytes([key_id]) * block

    def stretch(value):
        if not value:
            return b""
        count = block * ((len(value) + block - 1) // block)
        return (value * (count // len(value) + 1))[:count]

    i_block = bytearray(stretch(salt) + stretch(password))
    out = b""
    while len(out) < length:
        a = hash_factory(diversifier + bytes(i_block)).digest()
        for dummy in range(iterations - 1):
            a = hash_factory(a).digest()
        out += a
        b = int.from_bytes(stretch(a)[:block], "big") + 1
        for j in range(0, len(i_block), block):
            chunk = (int.from_bytes(bytes(i_block[j:j + block]), "big") + b) % (1 << (8 * block))
            i_block[j:j + block] = chunk.to_bytes(block, "big")
    return out[:length if length else u]
