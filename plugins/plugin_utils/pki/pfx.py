# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open a WAF-SSL PFX file on the controller: ``load_pfx`` (and ``load_ca_file`` for the CA file).

``load_pfx`` opens a PKCS#12 file (AES-256, 3DES or legacy RC2-40) and tells a wrong password from a
damaged file, a file of another kind (PEM, a single certificate, ZIP, base64), a password given for a file
without one, and encryption this controller cannot decrypt. Every failure is a ``PfxError`` subclass
(``errors.py``) with its own ``code``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import warnings

from ansible_collections.eeszt.connect.plugins.module_utils.common.der import DerError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.crypto import public_der, require_cryptography, utc
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import errors
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.pkcs12_der import (
    LEGACY_OIDS,
    inspect_pfx,
    unsupported_algorithms,
    verify_mac,
)

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import pkcs12
except ImportError:  # pragma: no cover - reported by require_cryptography()
    pass

try:
    from cryptography.hazmat.bindings._rust import openssl as _rust_openssl
    LEGACY_PROVIDER_LOADED = bool(getattr(_rust_openssl, "_legacy_provider_loaded", True))
except ImportError:  # pragma: no cover - older or absent cryptography
    LEGACY_PROVIDER_LOADED = True


class PfxContents:
    """What a PFX holds: key, leaf certificate, additional certificates."""

    def __init__(self, path, key, certificate, additional, algorithms):
        self.path = path
        self.key = key
        self.certificate = certificate
        self.additional = list(additional)
        self.algorithms = list(algorithms)


def _password_text(password, shown, variable):
    """The PFX password as text that encodes to UTF-8; errors.PfxPasswordError otherwise (never shown).

    None (the variable is not set) counts as the empty password: a file
    exported without a password opens with either.
    """
    if password is None:
        return ""
    if not isinstance(password, str):
        raise errors.PfxPasswordError("the password for the PFX file %s must be text, got %s; quote "
                                      "%s" % (shown, type(password).__name__, variable))
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.PfxPasswordError("the password for the PFX file %s holds characters that are not valid "
                                      "Unicode text (bytes of another encoding?); check %s" % (shown, variable))
    return password


def _not_pkcs12(data, shown, src_variable):
    """A errors.PfxNotPkcs12Error when ``data`` is recognisably another kind of file, else None."""
    head = data.lstrip()
    if head.startswith(b"-----BEGIN"):
        return errors.PfxNotPkcs12Error("the file %s is PEM text, not a PKCS#12 (PFX) file; point "
                                        "%s at the .pfx/.p12 file from EESZT" % (shown, src_variable))
    if data.startswith(b"PK\x03\x04"):
        return errors.PfxNotPkcs12Error("the file %s is a ZIP archive, not a PKCS#12 (PFX) file; unpack it and "
                                        "point %s at the .pfx/.p12 file inside" % (shown, src_variable))
    if head.startswith(b"MII"):
        return errors.PfxNotPkcs12Error("the file %s is base64 text, not a binary PKCS#12 (PFX) file; decode it "
                                        "once (base64 -d FILE > FILE.pfx) and point %s at the result"
                                        % (shown, src_variable))
    try:
        single = x509.load_der_x509_certificate(data)
    except (ValueError, x509.InvalidVersion):
        single = None
    if single is not None:
        return errors.PfxNotPkcs12Error("the file %s is a single certificate (DER, like a .cer/.crt file), not a "
                                        "PKCS#12 (PFX) file: it holds no private key; point %s at the .pfx/.p12 "
                                        "file from EESZT, which holds the certificate with its private key"
                                        % (shown, src_variable))
    if data[:1] != b"\x30":
        return errors.PfxNotPkcs12Error("the file %s is not a PKCS#12 (PFX) file (it does not begin with the DER "
                                        "structure every PFX file begins with); point %s at the .pfx/.p12 file "
                                        "from EESZT" % (shown, src_variable))
    return None


def _whitespace_hint(password):
    """What is odd about the ends of ``password`` (never the password itself), or None."""
    if password == password.strip():
        return None
    if password.rstrip(" \t").endswith(("\n", "\r")):
        return "ends with a line break"
    return "begins or ends with whitespace"


def load_pfx(path, password, data=None, display_path=None,
             src_variable="eeszt_certificate_pfx_src", password_variable="eeszt_certificate_pfx_password"):
    """Open a PKCS#12 file; raise a PfxError subclass that says what is wrong.

    ``password`` None or empty opens a file exported without a password.
    ``src_variable`` and ``password_variable`` are the variables the messages
    tell the user to check.
    """
    require_cryptography(errors.MissingLibraryError, "open PKCS#12 files")
    shown = display_path or path
    if data is None:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except (IOError, OSError) as exc:
            raise errors.PfxNotFoundError("cannot read the PFX file %s: %s; check %s"
                                          % (shown, exc.strerror or exc, src_variable))
    if not data:
        raise errors.PfxCorruptError("the PFX file %s is empty (0 bytes); download the certificate again or copy "
                                     "the complete file" % shown)
    other = _not_pkcs12(data, shown, src_variable)
    if other is not None:
        raise other
    password = _password_text(password, shown, password_variable)
    try:
        info = inspect_pfx(data)
        mac_ok = verify_mac(info, password)
    except (DerError, IndexError) as exc:
        raise errors.PfxCorruptError("the PFX file %s is damaged or truncated (%s); download the "
                                     "certificate again or copy the complete file" % (shown, exc))
    if mac_ok is False:
        _refuse_password(info, password, shown, src_variable, password_variable)
    legacy = [a for a in info["algorithms"] if a in LEGACY_OIDS.values()]
    with warnings.catch_warnings():
        # Files such as OpenSSL's password-less exports encode a DEFAULT value;
        # cryptography reads them as BER and warns, which is no concern of the user.
        warnings.filterwarnings("ignore", message="PKCS#12 bundle could not be parsed as DER")
        try:
            loaded = pkcs12.load_pkcs12(data, password.encode("utf-8") if password else None)
            error = None
        except (ValueError, UnsupportedAlgorithm) as exc:
            loaded, error = None, exc
        if error is not None and password and mac_ok is None and info["mac"] is None:
            # No integrity check: a file without any password opens without one.
            try:
                pkcs12.load_pkcs12(data, None)
            except (ValueError, UnsupportedAlgorithm):
                pass
            else:
                raise _has_no_password(shown, src_variable, password_variable)
    if error is not None:
        if legacy and not LEGACY_PROVIDER_LOADED:
            raise errors.PfxLegacyUnsupportedError(
                "the PFX file %s uses legacy %s encryption, which this controller's OpenSSL "
                "cannot open because its legacy provider is not loaded; unset "
                "CRYPTOGRAPHY_OPENSSL_NO_LEGACY or use a cryptography build that ships the "
                "legacy provider, or convert the file once with 'openssl pkcs12 -legacy' and "
                "re-export it with AES-256" % (shown, "/".join(legacy)))
        unknown = unsupported_algorithms(info)
        if unknown:
            raise errors.PfxUnsupportedAlgorithmError(
                "the PFX file %s is encrypted with an algorithm that the controller's cryptography "
                "library cannot decrypt (OID %s); export it again with AES-256-CBC (PBES2) or 3DES "
                "encryption" % (shown, ", ".join(unknown)))
        if mac_ok:
            raise errors.PfxCorruptError("the PFX file %s has a valid password but its content cannot be "
                                         "decoded (%s); download the certificate again" % (shown, error))
        raise errors.PfxPasswordError("the PFX file %s cannot be opened, and it has no integrity check (MAC) that "
                                      "could tell a wrong password from damaged content; check %s%s and the file"
                                      % (shown, password_variable, "" if password else " (it is empty)"))
    if password and info["mac"] is None and not info["algorithms"]:
        # Neither encrypted nor protected by a MAC: the password was not used at all.
        raise _has_no_password(shown, src_variable, password_variable)
    key = loaded.key
    cert = loaded.cert.certificate if loaded.cert is not None else None
    additional = [c.certificate for c in loaded.additional_certs]
    for index, item in enumerate([cert] + additional):
        if item is not None:
            _check_readable(item, shown, leaf=index == 0)
    return PfxContents(path, key, cert, additional, info["algorithms"])


def _has_no_password(shown, src_variable, variable):
    return errors.PfxHasNoPasswordError(
        "the PFX file %s has no password (it was exported without one), but %s is set; set it to an "
        "empty string or leave it unset for this file, or, if a password was meant to protect it, "
        "point %s at the password-protected file" % (shown, variable, src_variable))


def _refuse_password(info, password, shown, src_variable, variable):
    """Raise the errors.PfxPasswordError that says why the MAC check failed with ``password``."""
    if not password:
        raise errors.PfxPasswordMissingError(
            "the PFX file %s is protected by a password, but %s is empty or not set; set it (from "
            "Ansible Vault) to the password EESZT sent by SMS" % (shown, variable))
    if verify_mac(info, ""):
        raise _has_no_password(shown, src_variable, variable)
    odd = _whitespace_hint(password)
    if odd:
        stripped = password.strip()
        fits = bool(stripped) and verify_mac(info, stripped)
        raise errors.PfxPasswordError(
            "the password for the PFX file %s is wrong: the value of %s %s%s. A secret encrypted with "
            "'echo PASSWORD | ansible-vault encrypt_string' keeps echo's line break; encrypt it again "
            "without it: printf '%%s' 'PASSWORD' | ansible-vault encrypt_string --stdin-name "
            "vault_pfx_password_123456 (or echo -n), and paste the result into the inventory"
            % (shown, variable, odd, ", and without it the password is right" if fits else
               " (without it the password is still wrong: check it against the SMS from EESZT)"))
    raise errors.PfxPasswordError("the password for the PFX file %s is wrong (the integrity check "
                                  "failed); check %s (the password EESZT sent by SMS)" % (shown, variable))


def _check_readable(cert, shown, leaf):
    """Parse now what cryptography parses lazily, so that validate() meets no damaged field."""
    try:
        subject = cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        utc(cert, "not_valid_before")
        utc(cert, "not_valid_after")
        cert.extensions
        if leaf:
            public_der(cert.public_key())
    except (ValueError, UnsupportedAlgorithm, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise errors.PfxCorruptError("the PFX file %s holds a damaged certificate (%s: %s); download the "
                                     "certificate again" % (shown, "the client certificate" if leaf else "a chain "
                                                            "certificate", exc))
    return subject


def load_ca_file(path, display_path=None):
    require_cryptography(errors.MissingLibraryError, "read the CA file")
    shown = display_path or path
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise errors.CaFileError("cannot read the CA file %s: %s" % (shown, exc.strerror or exc))
    try:
        certs = x509.load_pem_x509_certificates(data)
    except (ValueError, x509.InvalidVersion):
        try:
            certs = [x509.load_der_x509_certificate(data)]
        except (ValueError, x509.InvalidVersion):
            raise errors.CaFileError("the CA file %s holds no PEM or DER certificate" % shown)
    return certs
