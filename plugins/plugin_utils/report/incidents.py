# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Incidents: failing sites that share one cause, said once (index.json ``incidents``).

Computed on the controller with the report, from the index's site rows and the archive's proofs (so from the
archive's contents: sliced and merged runs give the same incidents), never from a module run.

The rule (``group``), for each failure category in turn:

* a site takes part with the category of its latest run's failure: a check category of
  ``module_utils/check/messages.py`` (from its latest proof, or from a rotation whose check failed), or
  ``unreachable`` (its latest collection could not reach it over SSH). Other failures (a stage's error code, an
  invalid proof, no proof yet) stay site problems;
* the candidate scopes of a category are the whole ``fleet``, one ``environment``, one ``endpoint`` URL (the
  endpoint that failed), one ``proxy`` (the proxy that endpoint went through) and one ``institution``;
  ``unreachable`` has only ``fleet`` and ``institution`` (the sites' own attributes are not what SSH depends on);
  ``proxy`` has no ``endpoint`` scope, and its ``proxy`` scope comes first (``PROXY_SCOPES``): a proxy failure is
  the proxy's, whatever endpoint it was asked for;
* a scope's members are the sites of the fleet that have its attribute (every site for ``fleet``; the sites
  whose latest proof checked that URL, or went through that proxy); a scope qualifies when at least
  ``min_sites`` of its members fail with the category AND they are at least ``min_share`` of its members
  (inclusive: with 0.5, 2 of 4 qualify, 2 of 5 do not);
* of the qualifying scopes, the one that explains the most failing sites wins; on a tie, the one where they are
  the larger share (a narrower scope that holds the same failing sites and fewer passing ones); on a tie again,
  the first in the order of the category's scopes (``SCOPES``: the widest first). Its failing sites become one incident and leave the pool; the rule
  runs again on the rest until no scope qualifies. A site is in at most one incident; what is left stays a
  site problem (a lone site's failure is never an incident: ``min_sites`` is at least 2).

``since`` is when the incident started: the earliest, among its sites, of the run in which the site began to
fail this way without passing since (the run record's time in the ledger's order of receipt, never the site's
clock; a proof no run record names counts from when the controller stored it).

Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eeszt.connect.plugins.module_utils.check.messages import CATEGORIES

# From the widest to the narrowest: on a tie, the widest scope wins.
SCOPES = ("fleet", "environment", "endpoint", "proxy", "institution")
UNREACHABLE = "unreachable"
UNREACHABLE_SCOPES = ("fleet", "institution")
# A proxy failure is the proxy's: its scope comes first on a tie, and an endpoint does not explain it.
PROXY_SCOPES = ("proxy", "fleet", "environment", "institution")
# The key of the fleet scope.
FLEET_KEY = "all"
# Defaults of eeszt_proofs_incident_min_sites and eeszt_proofs_incident_min_share.
DEFAULT_MIN_SITES = 2
DEFAULT_MIN_SHARE = 0.5
# The keys of an incident in index.json (DESIGN.md).
KEYS = ("scope", "key", "category", "sites", "institutions", "hosts", "since", "message", "hint")


class IncidentRule:
    """The thresholds of the rule: at least ``min_sites`` sites (2 or more) and ``min_share`` (0 < share <= 1)."""

    def __init__(self, min_sites=DEFAULT_MIN_SITES, min_share=DEFAULT_MIN_SHARE):
        if isinstance(min_sites, bool) or not isinstance(min_sites, int) or min_sites < 2:
            raise ValueError("the least number of sites of an incident (eeszt_proofs_incident_min_sites) must be an "
                             "integer of at least 2, got %r" % (min_sites,))
        if isinstance(min_share, bool) or not isinstance(min_share, (int, float)) or not 0 < min_share <= 1:
            raise ValueError("the least share of an incident's scope (eeszt_proofs_incident_min_share) must be a "
                             "number greater than 0 and at most 1, got %r" % (min_share,))
        self.min_sites = min_sites
        self.min_share = float(min_share)

    def qualifies(self, failing, members):
        return failing >= self.min_sites and members > 0 and failing >= self.min_share * members


# --- what each site brings ---------------------------------------------------------------

def _endpoint_proxy(endpoint):
    """The proxy (URL without credentials) an endpoint of a proof went through, or None."""
    proxy = endpoint.get("proxy")
    if isinstance(proxy, str) and proxy:
        return proxy
    # Proofs written before the endpoint's proxy field: the tcp step's details name it.
    for step in endpoint.get("steps") or []:
        details = step.get("details") if isinstance(step, dict) else None
        value = details.get("proxy") if isinstance(details, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def site_category(row):
    """The category a site row (index.build_index's) takes part in incidents with, or None."""
    failure = row.get("failure") or {}
    category = failure.get("category")
    if category == UNREACHABLE and (row.get("collection") or {}).get("status") == UNREACHABLE:
        return UNREACHABLE
    if row.get("status") == "failed" and category in CATEGORIES:
        return category
    return None


def member(row, document):
    """What the rule knows of one site: its row and its latest proof's ``document`` (None without one)."""
    document = document if isinstance(document, dict) else {}
    endpoints = [e for e in document.get("endpoints") or [] if isinstance(e, dict)]
    urls = set(e["url"] for e in endpoints if isinstance(e.get("url"), str))
    proxies = set(p for p in (_endpoint_proxy(e) for e in endpoints) if p)
    category = site_category(row)
    failure = row.get("failure") or {}
    failed_url = failed_proxy = None
    for endpoint in endpoints:
        if failure.get("endpoint") is not None and endpoint.get("name") == failure.get("endpoint"):
            failed_url, failed_proxy = endpoint.get("url"), _endpoint_proxy(endpoint)
            break
    return {"host": row.get("host") or "%s/%s" % (row.get("institution_id"), row.get("site_id")),
            "institution": row.get("institution_id"), "site": row.get("site_id"),
            "environment": row.get("environment"), "urls": urls, "proxies": proxies, "category": category,
            "failed_url": failed_url if category not in (None, UNREACHABLE) else None,
            "failed_proxy": failed_proxy if category not in (None, UNREACHABLE) else None,
            "since": None}


def _scope_keys(site, scope):
    """The keys of ``scope`` a site is a member of."""
    if scope == "fleet":
        return [FLEET_KEY]
    if scope == "environment":
        return [site["environment"]] if site["environment"] else []
    if scope == "endpoint":
        return sorted(site["urls"])
    if scope == "proxy":
        return sorted(site["proxies"])
    return [site["institution"]] if site["institution"] else []


def _explained(site, scope, key):
    """Whether the site's failure is explained by (scope, key): for an endpoint or a proxy, the one that failed."""
    if scope == "endpoint":
        return site["failed_url"] == key
    if scope == "proxy":
        return site["failed_proxy"] == key
    return key in _scope_keys(site, scope)


# --- the rule --------------------------------------------------------------------------------

def group(members, rule=None):
    """The incidents of ``members`` (member()'s dicts) as [(scope, key, category, [member, ...])].

    Deterministic: categories, scopes and keys are taken in a fixed order.
    """
    rule = rule or IncidentRule()
    found = []
    for category in sorted(set(m["category"] for m in members if m["category"])):
        pool = [m for m in members if m["category"] == category]
        scopes = UNREACHABLE_SCOPES if category == UNREACHABLE else PROXY_SCOPES if category == "proxy" else SCOPES
        while len(pool) >= rule.min_sites:
            best = None
            for order, scope in enumerate(scopes):
                sizes = {}
                for site in members:
                    for key in _scope_keys(site, scope):
                        sizes[key] = sizes.get(key, 0) + 1
                for key in sorted(sizes):
                    failing = [m for m in pool if _explained(m, scope, key)]
                    if not rule.qualifies(len(failing), sizes[key]):
                        continue
                    rank = (len(failing), len(failing) / sizes[key], -order)
                    if best is None or rank > best[0]:
                        best = (rank, scope, key, failing)
            if best is None:
                break
            dummy, scope, key, failing = best
            found.append((scope, key, category, failing))
            taken = set(id(m) for m in failing)
            pool = [m for m in pool if id(m) not in taken]
    return found


# --- since --------------------------------------------------------------------------------

def streak_start(row, own, received, history, parse_time):
    """When the site began to fail with its category without passing since, as the run's time text.

    ``own``: the site's proof entries (scan_archive's) in the order the controller received them, oldest first;
    ``received``: ledger.receipts(); ``history``: the site's outcomes in the ledger, oldest first.
    """
    category = site_category(row)
    if category == UNREACHABLE:
        start = None
        for record in reversed(history):
            if record.get("status") != UNREACHABLE:
                break
            start = record.get("at")
        return start
    start = None
    for entry in reversed(own):
        document = entry.get("document") or {}
        if document.get("passed") is not False or (document.get("failure") or {}).get("category") != category:
            break
        start = received[entry["path"]][1]
    failure = row.get("failure") or {}
    if start is None or failure.get("stage") not in (None, "check"):
        # The failure is a later stage's (a rotation whose check failed): it started then.
        candidates = [text for text in (start, failure.get("at")) if parse_time(text) is not None]
        start = min(candidates, key=parse_time) if candidates else start
    return start


# --- the texts -------------------------------------------------------------------------------

# (category or "*"): {language: (message, hint)}; {where} is the scope in words, {sites} and {institutions} counts.
TEXTS = {
    "tls_server_untrusted": {
        "en": ("{sites} site(s) of {institutions} institution(s) ({where}) do not trust the EESZT server's "
               "certificate: the EESZT server chain changed.",
               "Update eeszt_tls_ca_bundle_src from the new connection documents and run configure_tls.yml."),
        "hu": ("{institutions} intézmény {sites} telephelye ({where}) nem bízik meg az EESZT szerver "
               "tanúsítványában: megváltozott az EESZT szerver tanúsítványlánca.",
               "Frissítse az eeszt_tls_ca_bundle_src fájlt az új csatlakozási dokumentumokból, majd futtassa a "
               "configure_tls.yml playbookot."),
    },
    "tls_hostname_mismatch": {
        "en": ("{sites} site(s) of {institutions} institution(s) ({where}) find another host name in the EESZT "
               "server's certificate: the service moved or its certificate changed.",
               "Compare the endpoint URLs with the current connection documents and correct "
               "eeszt_check_endpoints_by_environment."),
        "hu": ("{institutions} intézmény {sites} telephelye ({where}) más gépnevet talál az EESZT szerver "
               "tanúsítványában: a szolgáltatás elköltözött vagy a tanúsítványa megváltozott.",
               "Vesse össze a végpontok URL-jeit a friss csatlakozási dokumentumokkal, és javítsa az "
               "eeszt_check_endpoints_by_environment változót."),
    },
    "tls_client_cert_rejected": {
        "en": ("The EESZT WAF refuses the client certificate of {sites} site(s) of {institutions} institution(s) "
               "({where}): the certificate was revoked or replaced.",
               "Request the new WAF-SSL certificate (PFX) from the EESZT operator and rotate it "
               "(rotate_certificate.yml)."),
        "hu": ("Az EESZT WAF elutasítja {institutions} intézmény {sites} telephelyének kliens tanúsítványát "
               "({where}): a tanúsítványt visszavonták vagy lecserélték.",
               "Kérje meg az új WAF-SSL tanúsítványt (PFX) az EESZT üzemeltetőjétől, és cserélje le "
               "(rotate_certificate.yml)."),
    },
    "client_cert_invalid": {
        "en": ("The client certificate of {sites} site(s) of {institutions} institution(s) ({where}) cannot be "
               "used (expired, or not yet valid).",
               "Deploy the renewed WAF-SSL certificate with deploy_certificate.yml, or correct the sites' clock."),
        "hu": ("{institutions} intézmény {sites} telephelyének kliens tanúsítványa ({where}) nem használható "
               "(lejárt vagy még nem érvényes).",
               "Telepítse a megújított WAF-SSL tanúsítványt (deploy_certificate.yml), vagy javítsa a telephelyek "
               "óráját."),
    },
    "proxy": {
        "en": ("The shared proxy ({where}) refuses {sites} site(s) of {institutions} institution(s): it is down "
               "or its credentials changed.",
               "Check the proxy and its user name and password (eeszt_tls_proxy_username / "
               "eeszt_tls_proxy_password), then run check_connection.yml."),
        "hu": ("A közös proxy ({where}) elutasítja {institutions} intézmény {sites} telephelyét: leállt, vagy "
               "megváltoztak a belépési adatai.",
               "Ellenőrizze a proxyt, a felhasználónevét és jelszavát (eeszt_tls_proxy_username / "
               "eeszt_tls_proxy_password), majd futtassa a check_connection.yml playbookot."),
    },
    "dns": {
        "en": ("{sites} site(s) of {institutions} institution(s) ({where}) cannot resolve the EESZT host name: "
               "a DNS change.",
               "Check the DNS servers of the sites' network and the host names in the current connection "
               "documents."),
        "hu": ("{institutions} intézmény {sites} telephelye ({where}) nem tudja feloldani az EESZT gépnevét: DNS "
               "változás.",
               "Ellenőrizze a telephelyek hálózatának DNS szervereit és a gépneveket a friss csatlakozási "
               "dokumentumokban."),
    },
    "unreachable": {
        "en": ("{sites} site(s) of {institutions} institution(s) ({where}) are unreachable over SSH: the "
               "vendor's own network or VPN to them.",
               "Check the VPN or network path from the controller to these sites, then run the playbook again."),
        "hu": ("{institutions} intézmény {sites} telephelye ({where}) nem érhető el SSH-n: a szállító saját "
               "hálózata vagy VPN-je feléjük.",
               "Ellenőrizze a vezérlő és a telephelyek közötti VPN-t, hálózati utat, majd futtassa újra a "
               "playbookot."),
    },
    # tcp_refused, tcp_timeout, tcp_unreachable, http_status, timeout, tls_protocol
    "*": {
        "en": ("{sites} site(s) of {institutions} institution(s) ({where}) fail with {category}: EESZT or the "
               "path to it is down.",
               "Check the EESZT status page and the firewall and routing towards EESZT; run check_connection.yml "
               "when it is back."),
        "hu": ("{institutions} intézmény {sites} telephelye ({where}) {category} hibával nem éri el az EESZT-t: "
               "az EESZT vagy a hozzá vezető út nem működik.",
               "Nézze meg az EESZT állapotoldalát, valamint az EESZT felé a tűzfalat és az útválasztást; ha "
               "helyreállt, futtassa a check_connection.yml playbookot."),
    },
}

WHERE = {
    "en": {"fleet": "the whole fleet", "environment": "environment %s", "endpoint": "endpoint %s",
           "proxy": "proxy %s", "institution": "institution %s"},
    "hu": {"fleet": "a teljes flotta", "environment": "%s környezet", "endpoint": "%s végpont",
           "proxy": "%s proxy", "institution": "%s intézmény"},
}


# The words of report.html's incidents section (the rest of the page's words: html_text.py).
PAGE = {
    "en": {"title": "Incidents: one cause, many sites",
           "note": "Failing sites that share one cause, each named once; the sites' rows below keep the details.",
           "since": "since %s", "sites": "%d site(s), %d institution(s)", "todo": "To do:", "hosts": "Hosts:",
           "scope": {"fleet": "whole fleet", "environment": "environment", "endpoint": "endpoint", "proxy": "proxy",
                     "institution": "institution"}},
    "hu": {"title": "Incidensek: egy ok, sok telephely",
           "note": "Azonos okból hibás telephelyek, mindegyik ok egyszer; a részletek a telephelyek sorában.",
           "since": "%s óta", "sites": "%d telephely, %d intézmény", "todo": "Teendő:", "hosts": "Gépek:",
           "scope": {"fleet": "teljes flotta", "environment": "környezet", "endpoint": "végpont", "proxy": "proxy",
                     "institution": "intézmény"}},
}


def where(scope, key, language="en"):
    """The scope of an incident in words."""
    words = WHERE.get(language, WHERE["en"])[scope]
    return words if scope == "fleet" else words % key


def describe(incident, language="en"):
    """(message, hint) of an incident (a dict with scope, key, category, sites, institutions) in ``language``."""
    texts = TEXTS.get(incident["category"], TEXTS["*"])
    message, hint = texts.get(language) or texts["en"]
    values = {"where": where(incident["scope"], incident["key"], language), "sites": incident["sites"],
              "institutions": incident["institutions"], "category": incident["category"]}
    return message.format(**values), hint.format(**values)


# --- the index's list --------------------------------------------------------------------

def build_incidents(site_rows, entries, received, histories, parse_time, rule=None, language="en"):
    """index.json's ``incidents``: a list of dicts with KEYS, the most sites first.

    ``site_rows``: build_index's rows; ``entries``: {path: scan_archive's proof entry}; ``received``:
    ledger.receipts(); ``histories``: ledger.site_history().
    """
    own = {}
    for path, entry in entries.items():
        document = entry.get("document")
        if isinstance(document, dict) and document.get("institution_id") == entry["folder_institution_id"] \
                and document.get("site_id") == entry["folder_site_id"]:
            own.setdefault((entry["folder_institution_id"], entry["folder_site_id"]), []).append(entry)
    members = []
    for row in site_rows:
        latest = entries.get(row.get("latest")) if row.get("latest") else None
        site = member(row, (latest or {}).get("document"))
        if site["category"]:
            key = (row["institution_id"], row["site_id"])
            proofs = sorted(own.get(key) or [], key=lambda e: received[e["path"]][0])
            site["since"] = streak_start(row, proofs, received, histories.get(key) or [], parse_time)
        members.append(site)
    incidents = []
    for scope, key, category, failing in group(members, rule):
        starts = [m["since"] for m in failing if parse_time(m["since"]) is not None]
        incident = {"scope": scope, "key": key, "category": category, "sites": len(failing),
                    "institutions": len(set(m["institution"] for m in failing)),
                    "hosts": sorted(m["host"] for m in failing),
                    "since": min(starts, key=parse_time) if starts else None}
        incident["message"], incident["hint"] = describe(incident, language)
        incidents.append(incident)
    incidents.sort(key=lambda i: (-i["sites"], SCOPES.index(i["scope"]), i["category"], i["key"]))
    return incidents


def incident_of_hosts(incidents):
    """{host: (number from 1, incident)} of the hosts named by ``incidents`` (for the per-site lines)."""
    found = {}
    for number, incident in enumerate(incidents or [], 1):
        if not isinstance(incident, dict):
            continue
        for host in incident.get("hosts") or []:
            found.setdefault(host, (number, incident))
    return found
