# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Styles, script and the English and Hungarian strings of ``report.html``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LANGUAGES = ("en", "hu")


# The tiles (.cards) sit on a grid; html_report picks its number of columns per window width (--tile-columns)
# so that every row holds at least two tiles. A tile is at least TILE_MIN_PX wide (its longest word fits, in bold); the
# gap (TILE_GAP_PX) and the page's side padding (PAGE_PADDING_PX) are those of CSS below. At 600 px and less
# the side padding is 14 px and the sites table scrolls on its own.
TILE_MIN_PX = 124
TILE_GAP_PX = 10
PAGE_PADDING_PX = 28

CSS = """
:root{--ok:#1a7f37;--bad:#c62828;--warn:#b26a00;--none:#6b7280;--ink:#1f2328;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);margin:0;background:#fff}
header{padding:18px 28px;border-bottom:1px solid var(--line);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:24px 0 8px}
main{padding:8px 28px 28px;overflow-wrap:break-word}
.meta{color:#57606a;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(var(--tile-columns,2),minmax(0,1fr));gap:10px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 10px;background:#fff;font-size:13px;line-height:1.3;
overflow-wrap:break-word}
.card b{display:block;font-size:26px;line-height:1.2}
.cards>.card:first-child{grid-column:span var(--first-tile-span,1)}
.card.ok b{color:var(--ok)}.card.bad b{color:var(--bad)}.card.warn b{color:var(--warn)}.card.none b{color:var(--none)}
.charts{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 14px;max-width:100%}
figure svg{max-width:100%;height:auto}
figcaption{font-weight:600;margin-bottom:6px}
table{border-collapse:collapse;width:100%;margin-top:8px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:6px 5px;text-align:left;vertical-align:top}
td.msg{min-width:200px;overflow-wrap:anywhere}
td.code{min-width:110px;max-width:170px;overflow-wrap:break-word}
div.when,span.day{white-space:nowrap}
th{background:var(--bg);position:sticky;top:0}
th button{all:unset;cursor:pointer;font-weight:600}
th button::after{content:" \\2195";color:#8c959f}
th[aria-sort=ascending] button::after{content:" \\2191"}
th[aria-sort=descending] button::after{content:" \\2193"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td:first-child{box-shadow:inset 4px 0 var(--bad)}
tr.no_proof td:first-child{box-shadow:inset 4px 0 var(--none)}
tr.passed td:first-child{box-shadow:inset 4px 0 var(--ok)}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;color:#fff}
.badge.passed{background:var(--ok)}.badge.failed{background:var(--bad)}.badge.no_proof{background:var(--none)}
.badge.unreachable,.badge.error,.badge.stale,.badge.rolled_back,.badge.check_failed{background:var(--warn)}
.badge.failed_rotation{background:var(--bad)}.badge.rotated,.badge.unchanged{background:#57606a}
.badge.history{background:#fff;color:var(--ok);border:1px solid var(--ok)}
.hint{color:#57606a;font-size:12.5px}
.trend{margin-top:4px;line-height:0}
.bad{color:var(--bad);font-weight:600}.warn{color:var(--warn);font-weight:600}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);padding:1px 4px;border-radius:4px}
footer{padding:0 28px 28px;color:#57606a;font-size:12.5px}
@media (max-width:600px){header,main{padding-left:14px;padding-right:14px}footer{padding:0 14px 20px}
.card{padding:8px;font-size:12px}
#sites,#operator{display:block;overflow-x:auto}}
"""

JS = """
(function(){
  var table=document.getElementById('sites');if(!table)return;
  var heads=table.tHead.rows[0].cells;
  function key(cell,numeric){var v=cell.getAttribute('data-sort');if(v===null)v=cell.textContent.trim();
    if(numeric){var n=parseFloat(v);return isNaN(n)?Infinity:n;}return v.toLowerCase();}
  Array.prototype.forEach.call(heads,function(th,col){
    var button=th.querySelector('button');if(!button)return;
    button.addEventListener('click',function(){
      var ascending=th.getAttribute('aria-sort')!=='ascending';
      Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',ascending?'ascending':'descending');
      var numeric=th.getAttribute('data-type')==='number';
      var rows=Array.prototype.slice.call(table.tBodies[0].rows);
      rows.sort(function(a,b){var x=key(a.cells[col],numeric),y=key(b.cells[col],numeric);
        return (x<y?-1:x>y?1:0)*(ascending?1:-1);});
      rows.forEach(function(r){table.tBodies[0].appendChild(r);});
    });
  });
})();
"""


# Every word of report.html, per language. index.json, report.csv and junit.xml keep English keys.
TEXT = {
    "en": {
        "lang": "en",
        "title": "EESZT connection proofs",
        "meta": "Fleet report built from the proof archive at %(generated)s &middot; %(institutions)d "
                "institution(s), %(proofs)d proof(s)",
        "summary": "Summary",
        "unusable": {
            "title": "Files not used in the report",
            "note": "Files in the site folders that cannot be read or are no valid proof (kept, not used), and the "
                    "quarantine: files sites sent as proofs that are no valid proof, never archived as proofs nor "
                    "sealed. Every other file is in the report. verify_proofs.yml lists them too.",
            "host": "host",
        },
        "cards": {"sites": "Sites", "passed": "Passed", "failed": "Failed", "no_proof": "No proof", "error": "Error",
                  "unreachable": "Unreachable", "stale": "Stale (> %d h)", "refused": "Refused by preflight",
                  "expiring": "Certs < %d days", "expired": "Certs expired", "rotation": "Rotation problems"},
        "chart_status": "Sites by status (latest run)",
        "chart_days": "Client certificates by days left",
        "chart_aria": "Sites by status: %d passed, %d failed, %d without proof",
        "chart_days_aria": "Sites by certificate days left",
        "chart_days_title": "%s days: %d site(s)",
        "chart_months": "Client certificates expiring per month",
        "chart_months_aria": "Sites by the month their client certificate expires, for the coming twelve months",
        "chart_months_title": "%s: %d certificate(s) expire",
        "later": "later",
        "trend_title": "The last %d checks, oldest first: green passed, red failed; each mark's title gives its time "
                       "and how long the check took",
        "trend_bar": "%s: %s, %s ms",
        "trend_passed": "passed",
        "trend_failed": "failed",
        "expired_bucket": "expired",
        "no_sites": "no sites yet",
        "sites": "Sites",
        "sites_note": "Failed sites first. Click a column heading to sort. A site is shown as it was at its latest "
                      "run: a failure after its latest proof makes it failed until a newer proof; its last "
                      "passing proof is shown as history. A proof older than %d hours is marked stale.",
        "headers": ("Status", "Institution", "Site", "Host", "Environment", "Failure", "Message and hint",
                    "Latest proof", "Last passed", "Rotation", "Cert. expires (days left)",
                    "Collected"),
        "status": {"passed": "passed", "failed": "failed", "no_proof": "no proof", "error": "error"},
        "collection": {"collected": "collected", "unreachable": "unreachable", "error": "error"},
        "stale": "stale",
        "environment": {"test": "test", "production": "production"},
        "endpoint": "endpoint %s",
        "stage": {"preflight": "preflight", "certificate": "certificate stage", "tls": "tls stage",
                  "check": "connection check", "proofs": "proofs stage", "rotation": "rotation", None: "collection"},
        "rotation": {"rotated": "rotated", "rolled_back": "rolled back", "unchanged": "unchanged",
                     "check_failed": "check failed", "failed": "failed"},
        "no_proof_yet": "No proof collected yet.",
        "last_collection": "Last collection: %s",
        "bundle_outdated": "The evidence bundle holds the passing proof of %s, older than this failure.",
        "never": "never",
        "today": "today",
        "days_ago": "%d day(s) ago",
        "no_rows": "No proofs in the archive yet.",
        "missing": "%d proof(s) recorded in the ledger are missing from the archive",
        "unsealed": "%d proof(s) have no seal",
        "run_verify": "%s: run <code>playbooks/verify_proofs.yml</code>.",
        "refused_title": "Refused by the preflight",
        "refused_note": "These hosts took no part in the run and have no row, because their variables are not "
                        "valid. Fix them in the inventory (host_vars, group_vars or the site registry) and run again.",
        "outdated_note": "%d site(s) failed after the passing proof that their institution's evidence bundle holds; "
                         "the bundle says so in <code>NOTICE-LATER-FAILURES.txt</code>.",
        "footer": "Every proof in the archive carries a detached CMS seal (<code>.p7s</code>). Check one with "
                  "<code>%(verify)s</code>, or all of them with "
                  "<code>ansible-playbook eeszt.connect.verify_proofs</code>. The machine-readable report is "
                  "<code>index.json</code> (also <code>report.csv</code>, <code>junit.xml</code>)%(bundles)s.",
        "footer_bundles": "; institution evidence bundles are in <code>evidence/</code>",
        "what_it_is": (
            '<p id="what-it-is">These proofs are the IT vendor\'s own sealed evidence that each site is connected '
            'to EESZT. They are <strong>not</strong> the proof for eKapu: that is the electronic certificate that the '
            'EESZT operator\'s verification program, <code>eesztConnect.exe</code> (the &ldquo;ellen&#337;rz&#337; '
            'keretprogram&rdquo;), issues after a successful run at the site; the institution\'s administrator '
            'uploads that file to eKapu and the operator checks it.%(operator)s</p>'),
        "what_it_is_operator": " Operator files listed above are archived, sealed copies of files found on the sites.",
        "operator": {
            "title": "Operator files",
            "note": "Files that the operator's verification program or the institution produced and that were "
                    "copied to the site, archived and sealed beside the site's proofs.",
            "columns": ["Institution", "Site", "Name", "Size (bytes)", "SHA-256", "Collected", "Status"],
            "status": {"present": "present", "altered": "altered", "missing": "missing"},
            "no_seal": "no seal",
            "not_collected": "Not collected at",
        },
    },
    "hu": {
        "lang": "hu",
        "title": "EESZT kapcsolódási igazolások",
        "meta": "Összesítő jelentés az igazolásarchívum tartalmából, készült: %(generated)s &middot; "
                "%(institutions)d intézmény, %(proofs)d igazolás",
        "summary": "Összesítés",
        "unusable": {
            "title": "A jelentésből kimaradt fájlok",
            "note": "A telephelyek mappáiban lévő, nem olvasható vagy nem érvényes igazolást tartalmazó fájlok "
                    "(megmaradnak, de kimaradnak), és a karantén: a telephelyek által igazolásként küldött, nem "
                    "érvényes fájlok, amelyek sosem kerülnek igazolásként az archívumba és nem kapnak pecsétet. "
                    "Minden más fájl szerepel a jelentésben. A verify_proofs.yml is felsorolja őket.",
            "host": "gép",
        },
        "cards": {"sites": "Telephely", "passed": "Sikeres", "failed": "Sikertelen", "no_proof": "Nincs igazolás",
                  "error": "Hiba",
                  "unreachable": "Nem elérhető", "stale": "Elavult (> %d óra)",
                  "refused": "Elő\u00adellenőrzésen elutasítva", "expiring": "Tanúsítvány < %d nap",
                  "expired": "Lejárt tanúsítvány", "rotation": "Tanúsítvány\u00adcsere-hiba"},
        "chart_status": "Telephelyek állapot szerint (legutóbbi futás)",
        "chart_days": "Kliens-tanúsítványok a lejáratig hátralévő napok szerint",
        "chart_aria": "Telephelyek állapot szerint: %d sikeres, %d sikertelen, %d igazolás nélkül",
        "chart_days_aria": "Telephelyek a tanúsítvány lejáratáig hátralévő napok szerint",
        "chart_days_title": "%s nap: %d telephely",
        "chart_months": "Lejáró kliens-tanúsítványok havonta",
        "chart_months_aria": "Telephelyek aszerint, hogy melyik hónapban jár le a kliens-tanúsítványuk, a következő "
                             "tizenkét hónapra",
        "chart_months_title": "%s: %d tanúsítvány jár le",
        "later": "később",
        "trend_title": "Az utolsó %d ellenőrzés, a legrégebbivel kezdve: zöld sikeres, piros sikertelen; a jelek "
                       "címe az ellenőrzés idejét és időtartamát adja meg",
        "trend_bar": "%s: %s, %s ms",
        "trend_passed": "sikeres",
        "trend_failed": "sikertelen",
        "expired_bucket": "lejárt",
        "no_sites": "még nincs telephely",
        "sites": "Telephelyek",
        "sites_note": "Elöl a sikertelen telephelyek. Rendezéshez kattintson egy oszlopfejlécre. Minden telephely "
                      "a legutóbbi futása szerint látszik: a legutóbbi igazolása utáni hiba miatt sikertelen, amíg "
                      "újabb igazolás nem készül; az utolsó sikeres igazolás előzményként látszik. A %d óránál "
                      "régebbi igazolás elavultként van jelölve.",
        "headers": ("Állapot", "Intézmény", "Telephely", "Gép", "Környezet", "Hiba", "Üzenet és teendő",
                    "Legutóbbi igazolás", "Utolsó sikeres", "Tanúsítványcsere",
                    "Tanúsítvány lejár (hátralévő nap)", "Begyűjtve"),
        "status": {"passed": "sikeres", "failed": "sikertelen", "no_proof": "nincs igazolás", "error": "hiba"},
        "collection": {"collected": "begyűjtve", "unreachable": "nem elérhető", "error": "hiba"},
        "stale": "elavult",
        "environment": {"test": "teszt", "production": "éles"},
        "endpoint": "végpont: %s",
        "stage": {"preflight": "előellenőrzés", "certificate": "tanúsítvány-telepítés", "tls": "TLS-beállítás",
                  "check": "kapcsolatellenőrzés", "proofs": "igazolásgyűjtés", "rotation": "tanúsítványcsere",
                  None: "begyűjtés"},
        "rotation": {"rotated": "lecserélve", "rolled_back": "visszaállítva", "unchanged": "változatlan",
                     "check_failed": "ellenőrzés sikertelen", "failed": "sikertelen"},
        "no_proof_yet": "Még nincs begyűjtött igazolás.",
        "last_collection": "Utolsó begyűjtés: %s",
        "bundle_outdated": "A bizonyítékcsomagban a(z) %s időpontú sikeres igazolás van, amely régebbi ennél a "
                           "hibánál.",
        "never": "még soha",
        "today": "ma",
        "days_ago": "%d napja",
        "no_rows": "Az archívumban még nincs igazolás.",
        "missing": "%d, a nyilvántartásban szereplő igazolás hiányzik az archívumból",
        "unsealed": "%d igazolásnak nincs pecsétje",
        "run_verify": "%s: futtassa a <code>playbooks/verify_proofs.yml</code> playbookot.",
        "refused_title": "Az előellenőrzés elutasította",
        "refused_note": "Ezek a gépek nem vettek részt a futásban, és nincs soruk, mert a változóik hibásak. "
                        "Javítsa őket a leltárban (host_vars, group_vars vagy a telephely-nyilvántartás), majd "
                        "futtassa újra.",
        "outdated_note": "%d telephely hibásodott meg az intézményi bizonyítékcsomagban lévő sikeres igazolása "
                         "után; ezt a csomag <code>NOTICE-LATER-FAILURES.txt</code> fájlja is jelzi.",
        "footer": "Az archívum minden igazolásához külön CMS-pecsét (<code>.p7s</code>) tartozik. Egyet így "
                  "ellenőrizhet: <code>%(verify)s</code>, az összeset pedig így: "
                  "<code>ansible-playbook eeszt.connect.verify_proofs</code>. A géppel olvasható jelentés az "
                  "<code>index.json</code> (valamint a <code>report.csv</code> és a <code>junit.xml</code>)%(bundles)s.",
        "footer_bundles": "; az intézményi bizonyítékcsomagok az <code>evidence/</code> mappában vannak",
        "what_it_is": (
            '<p id="what-it-is">Ezek az igazolások az informatikai szolgáltató saját, lepecsételt bizonyítékai arról, '
            'hogy a telephelyek kapcsolódnak az EESZT-hez. <strong>Nem</strong> ezeket kell az eKapun feltölteni: '
            'azt az elektronikus tanúsítványt, amelyet az EESZT üzemeltetőjének ellenőrző keretprogramja '
            '(<code>eesztConnect.exe</code>) a telephelyen sikeres futás után kiad, az intézmény adminisztrátora '
            'tölti fel az eKapura, és az üzemeltető ellenőrzi.%(operator)s</p>'),
        "what_it_is_operator": " A fent felsorolt üzemeltetői fájlok a telephelyeken talált fájlok archivált, "
                               "lepecsételt másolatai.",
        "operator": {
            "title": "Üzemeltetői fájlok",
            "note": "Az üzemeltető ellenőrző programja vagy az intézmény által készített, a telephelyre másolt "
                    "fájlok, a telephely igazolásai mellé archiválva és lepecsételve.",
            "columns": ["Intézmény", "Telephely", "Név", "Méret (bájt)", "SHA-256", "Begyűjtve", "Állapot"],
            "status": {"present": "megvan", "altered": "megváltozott", "missing": "hiányzik"},
            "no_seal": "pecsét nélkül",
            "not_collected": "Nem lett begyűjtve:",
        },
    },
}


def when(text):
    """'2026-11-25T10:00:02Z' -> '2026-11-25 10:00 UTC' for people ('' for none): the one notation of a time in
    report.html, in both languages; sorting uses the ISO text. A narrow column breaks it after the date only
    (a no-break space before UTC)."""
    return "%s\u00a0UTC" % text[:16].replace("T", " ") if text else ""
