# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Failure categories of the connection check with a message and a
remediation hint for each, in English and Hungarian.

The categories are a contract (docs: DESIGN.md, failure categories); the
texts take the fields of the failure's ``details`` as ``{placeholders}``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LANGUAGES = ("en", "hu")

# category: {language: (message, hint)}
CATEGORIES = {
    "client_cert_invalid": {
        "en": ("The client certificate cannot be used: {reason}.",
               "Deploy a valid WAF-SSL certificate and its key (role eeszt.connect.certificate); "
               "if it has expired or is not yet valid, request a new one from the EESZT operator "
               "or correct the site's clock."),
        "hu": ("A kliens tanúsítvány nem használható: {reason}.",
               "Telepítsen érvényes WAF-SSL tanúsítványt és kulcsot (eeszt.connect.certificate szerepkör); "
               "lejárt vagy még nem érvényes tanúsítvány esetén kérjen újat az EESZT üzemeltetőjétől, "
               "vagy javítsa a telephely óráját."),
    },
    "dns": {
        "en": ("The name {host} cannot be resolved: {reason}.",
               "Check the site's DNS resolver (/etc/resolv.conf), the spelling of the endpoint URL, "
               "and whether this network needs a proxy (eeszt_tls_proxy)."),
        "hu": ("A(z) {host} név nem oldható fel: {reason}.",
               "Ellenőrizze a telephely DNS-beállítását (/etc/resolv.conf), a végpont URL-jét, "
               "és hogy a hálózat igényel-e proxyt (eeszt_tls_proxy)."),
    },
    "tcp_refused": {
        "en": ("{host} port {port} refused the TCP connection.",
               "Nothing accepts connections on that address and port: check the endpoint URL "
               "and port, and that no local firewall rejects outgoing HTTPS."),
        "hu": ("A(z) {host} kiszolgáló ({port}. port) elutasította a TCP-kapcsolatot.",
               "Azon a címen és porton semmi nem fogad kapcsolatot: ellenőrizze a végpont URL-jét és "
               "portját, és hogy helyi tűzfal nem tiltja-e a kimenő HTTPS-forgalmat."),
    },
    "tcp_unreachable": {
        "en": ("{host} port {port} is unreachable: {reason}.",
               "The network has no route to the endpoint: check the site's default gateway and "
               "routing, or configure the HTTP proxy the network requires (eeszt_tls_proxy)."),
        "hu": ("A(z) {host} kiszolgáló ({port}. port) nem érhető el: {reason}.",
               "A hálózatból nincs útvonal a végponthoz: ellenőrizze az alapértelmezett átjárót és "
               "az útválasztást, vagy állítsa be a szükséges HTTP proxyt (eeszt_tls_proxy)."),
    },
    "tcp_timeout": {
        "en": ("No TCP connection to {host} port {port} within {timeout} s.",
               "A firewall probably drops the packets: ask the network administrator to allow "
               "outgoing TCP to the EESZT endpoints, or use the proxy the network requires."),
        "hu": ("{timeout} másodperc alatt nem jött létre TCP-kapcsolat a(z) {host} kiszolgálóval ({port}. port).",
               "Valószínűleg tűzfal dobja el a csomagokat: kérje a hálózat gazdájától a kimenő TCP "
               "engedélyezését az EESZT végpontjai felé, vagy használja a hálózat proxyját."),
    },
    "proxy": {
        "en": ("The HTTP proxy {proxy} did not open a tunnel to {host}:{port}: {reason}.",
               "Check the proxy address and, for 407, the proxy user name and password "
               "(eeszt_tls_proxy_username / eeszt_tls_proxy_password); for 403, ask the proxy's "
               "administrator to allow CONNECT to the EESZT endpoints."),
        "hu": ("A(z) {proxy} HTTP proxy nem nyitott alagutat a(z) {host}:{port} felé: {reason}.",
               "Ellenőrizze a proxy címét, 407 esetén a proxy felhasználónevét és jelszavát "
               "(eeszt_tls_proxy_username / eeszt_tls_proxy_password); 403 esetén kérje a proxy "
               "gazdájától a CONNECT engedélyezését az EESZT végpontjai felé."),
    },
    "tls_server_untrusted": {
        "en": ("The server certificate of {host} is not trusted: {reason}.",
               "Install the CA bundle of EESZT's servers (role eeszt.connect.tls_client, "
               "eeszt_tls_ca_bundle_src); if it is installed, a proxy may be intercepting TLS and "
               "must let the EESZT endpoints through untouched."),
        "hu": ("A(z) {host} szervertanúsítványa nem megbízható: {reason}.",
               "Telepítse az EESZT szervereinek CA-csomagját (eeszt.connect.tls_client szerepkör, "
               "eeszt_tls_ca_bundle_src); ha telepítve van, egy proxy bonthatja a TLS-t, ennek "
               "érintetlenül kell átengednie az EESZT végpontjait."),
    },
    "tls_hostname_mismatch": {
        "en": ("The server certificate does not name {host}: {reason}.",
               "Use the host name from the EESZT connection documents in the endpoint URL, "
               "not an IP address or an alias; check hosts entries (eeszt_tls_hosts_entries) for stale addresses."),
        "hu": ("A szervertanúsítvány nem a(z) {host} névre szól: {reason}.",
               "A végpont URL-jében az EESZT csatlakozási dokumentációjában szereplő nevet használja, "
               "ne IP-címet vagy álnevet; ellenőrizze az elavult hosts-bejegyzéseket (eeszt_tls_hosts_entries)."),
    },
    "tls_client_cert_rejected": {
        "en": ("The server rejected the client certificate: {reason}.",
               "The WAF does not accept this WAF-SSL certificate: check that the certificate deployed "
               "is the one EESZT issued for this institution and that it is not revoked; otherwise "
               "contact the EESZT operator with the certificate's serial number."),
        "hu": ("A szerver elutasította a kliens tanúsítványt: {reason}.",
               "A WAF nem fogadja el ezt a WAF-SSL tanúsítványt: ellenőrizze, hogy az EESZT által "
               "ennek az intézménynek kiadott tanúsítvány van-e telepítve, és nincs-e visszavonva; "
               "ha igen, forduljon az EESZT üzemeltetőjéhez a tanúsítvány sorozatszámával."),
    },
    "tls_protocol": {
        "en": ("The TLS handshake with {host} failed: {reason}.",
               "Client and server share no TLS version or cipher: EESZT needs TLS 1.2 or newer; "
               "check eeszt_tls_min_protocol and that the port speaks TLS (not plain HTTP)."),
        "hu": ("A TLS-kézfogás a(z) {host} géppel nem sikerült: {reason}.",
               "A kliens és a szerver nem talál közös TLS-verziót vagy titkosítást: az EESZT TLS 1.2-t "
               "vagy újabbat igényel; ellenőrizze az eeszt_tls_min_protocol értékét, és hogy a port "
               "TLS-t beszél-e (nem sima HTTP-t)."),
    },
    "http_status": {
        "en": ("{url} answered HTTP {status}, expected {expected}.",
               "TLS works; the request is wrong or the service is down: check the endpoint path, "
               "method, headers and body, and EESZT's service status."),
        "hu": ("A(z) {url} HTTP {status} választ adott, {expected} helyett.",
               "A TLS működik; a kérés hibás vagy a szolgáltatás nem elérhető: ellenőrizze a végpont "
               "útvonalát, a metódust, a fejléceket és a törzset, valamint az EESZT szolgáltatás állapotát."),
    },
    "timeout": {
        "en": ("{host} accepted the connection but did not answer within {timeout} s ({step}).",
               "The server or something in between (proxy, firewall, IPS) holds the connection: "
               "retry later, raise eeszt_check_timeout if the link is slow, and check for TLS "
               "inspection on the way."),
        "hu": ("A(z) {host} elfogadta a kapcsolatot, de {timeout} másodperc alatt nem válaszolt ({step}).",
               "A szerver vagy egy közbülső eszköz (proxy, tűzfal, IPS) feltartja a kapcsolatot: "
               "próbálja később, lassú vonalon növelje az eeszt_check_timeout értékét, és ellenőrizze, "
               "nincs-e útközben TLS-ellenőrzés."),
    },
}


class _Defaults(dict):
    """Missing placeholders render as '?', never raise."""

    def __missing__(self, key):
        return "?"


def describe(category, language, details):
    """(message, hint) of a category in a language, filled from details."""
    texts = CATEGORIES[category].get(language) or CATEGORIES[category]["en"]
    values = _Defaults((key, value) for key, value in details.items() if value is not None)
    return tuple(text.format_map(values) for text in texts)
