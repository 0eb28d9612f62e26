# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet benchmark (``make bench``): the whole flow against its floor.

For each number of simulated sites N (the demo inventory, plugin
``eeszt.connect.demo_sites``), in a lab of its own (own directory, own free
loopback port), this measures five runs of the same inventory with the same
forks and connection:

(a) ``playbooks/site.yml`` on fresh sites;
(b) ``playbooks/site.yml`` again, with nothing to change;
(c) ``tests/tools/bench_ping.yml``: one ``ansible.builtin.ping`` per site,
    the floor of any play over this inventory;
(d) the daily run: ``playbooks/daily.yml`` (the check, then the proofs stage,
    with one preflight of both and site.yml's verdict), on the sites (a) set up;
(f) the same-count floor: a play of as many ``ansible.builtin.ping`` tasks per
    site as (a) made module runs per site (written into the lab directory),
    the floor of any play that runs that many modules on each site.

From each run's recap it also counts the tasks per site (ok + skipped): on a
typical site (the most common count) and on the site with the most (the one
that runs the run-once steps).

Every run also counts the module runs on the sites: the sites' Python
interpreter is a wrapper (``ansible_python_interpreter`` as an extra variable)
that appends a line to a file each time a module starts, so a run's count
divided by the number of sites is the module runs per site (the ping run
counts exactly 1, which checks the counter).

The lab (PKI and WAF) is set up before and stopped after; it is not measured.
Each run is measured for wall time, CPU time (user + system of the whole
process tree, from ``/usr/bin/time -v``), the largest single process
(``Maximum resident set size``) and the summed resident memory of the
process tree (sampled from ``/proc`` every ``--sample`` seconds).

It prints a table and the targets (PASS/MISS) and writes the figures to a
JSON file. It exits non-zero only when a run fails (a play fails or a site
fails), never on a missed target::

    .venv/bin/python tests/tools/bench.py [--sites "10 50 200"] [--json build/bench.json]

``BENCH_SITES`` and ``BENCH_JSON`` set the same from the environment
(``make bench BENCH_SITES="10 50"``).
"""

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(os.path.abspath(sys.executable))
PING_PLAYBOOK = os.path.join(ROOT, "tests", "tools", "bench_ping.yml")
TIME = "/usr/bin/time"
RUN_TIMEOUT = 3600  # seconds; a run that takes longer is a failed run

TARGET_FULL_RATIO = 5.0
TARGET_RERUN_RATIO = 3.0
TARGET_DAILY_RATIO = 2.0
TARGET_MODULE_RUNS = 4  # module runs per site during a whole site.yml on fresh sites
TARGET_AT_SITES = 50
TARGET_RSS_BYTES = 1 << 30
TARGET_RSS_AT_SITES = 500
LINEAR_TOLERANCE = 1.5  # the last per-site slope may exceed the first by this factor

# Issue 26: the controller's overhead near the floor of the module runs themselves, at every measured size.
# (label, what it checks, limit); each is met when the value is at most the limit.
TARGETS_26 = (
    ("site.yml / same-count floor, (a)/(f)", "full_over_floor", 1.5),
    ("site.yml / ping, (a)/(c)", "full_over_ping", 4.0),
    ("re-run / ping, (b)/(c)", "rerun_over_ping", 3.5),
    ("daily run / ping, (d)/(c)", "daily_over_ping", 1.3),
    ("module runs per site in site.yml (a)", ("full", "module_runs_per_site"), 3),
    ("module runs per site in the daily run (d)", ("daily", "module_runs_per_site"), 1),
    ("tasks per site in site.yml (a), on the site with the most", ("full", "tasks_per_site", "most"), 8),
    ("tasks per site in the daily run (d), on the site with the most", ("daily", "tasks_per_site", "most"), 3),
)

RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
# The whole recap line of a host, with its skipped tasks (ok + skipped is the tasks the controller ran for it).
RECAP_TASKS = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=\d+\s+unreachable=\d+\s+failed=\d+\s+skipped=(\d+)", re.M)
# One line of ansible.posix.profile_tasks' recap: "role : Task name ------------- 12.34s".
PROFILE_LINE = re.compile(r"^(.+?) -{2,} (\d+\.\d+)s$")
PROFILE_TOP = 12  # the costliest tasks of each run kept in the JSON (the evidence of what limits a run)
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    """A loopback TCP port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pss(pid):
    """Proportional set size (bytes) of a process: its private pages plus its share of the pages it shares with
    others (the forks of ansible-playbook share most of theirs with it), from /proc/PID/smaps_rollup."""
    try:
        with open("/proc/%d/smaps_rollup" % pid, "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _is_controller(pid):
    """Whether a process of the tree is ansible-playbook itself or one of its forked workers (not a module run,
    which on a real fleet runs on the site: the demo's sites are local processes)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return b"ansible-playbook" in handle.read()
    except OSError:
        return False


def process_tree_memory(root_pid):
    """(summed RSS of root_pid and all its descendants, summed PSS of the controller's processes among them),
    in bytes. The RSS sum counts each shared page once per process (an upper bound, and it includes the
    simulated sites' module runs); the PSS sum counts each shared page once in all, for the controller only."""
    children = {}
    rss = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        pid = int(name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * PAGE
    total, controller, todo = 0, 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        if _is_controller(pid):
            controller += _pss(pid)
        todo.extend(children.get(pid, ()))
    return total, controller


class TreeSampler(threading.Thread):
    """Samples the process tree's memory until stopped; keeps the peaks (tree RSS, controller PSS)."""

    def __init__(self, pid, interval):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak, self.controller_peak = pid, interval, 0, 0
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(self.interval):
            total, controller = process_tree_memory(self.pid)
            self.peak = max(self.peak, total)
            self.controller_peak = max(self.controller_peak, controller)

    def stop(self):
        self.done.set()
        self.join()
        return self.peak, self.controller_peak


def parse_time_v(text):
    """User, system seconds and maximum RSS (bytes) from /usr/bin/time -v output."""
    def field(label):
        match = re.search(r"^\s*%s:\s*([0-9.]+)\s*$" % re.escape(label), text, re.M)
        return float(match.group(1)) if match else 0.0
    return (field("User time (seconds)"), field("System time (seconds)"),
            int(field("Maximum resident set size (kbytes)")) * 1024)


def module_counter(work):
    """A Python wrapper for the sites that counts module runs: (interpreter path, count file path)."""
    counter = os.path.join(work, "module-runs.log")
    wrapper = os.path.join(work, "python-counting")
    with open(wrapper, "w", encoding="utf-8") as handle:
        handle.write("#!/bin/sh\n# One line per module run on a site (eeszt.connect make bench).\n"
                     "printf '.\\n' >> %s\nexec %s \"$@\"\n" % (shlex_quote(counter), shlex_quote(sys.executable)))
    os.chmod(wrapper, 0o755)
    return wrapper, counter


def shlex_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def count_lines(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().count(b"\n")
    except FileNotFoundError:
        return 0


def task_profile(text):
    """The costliest tasks of a run, from ansible.posix.profile_tasks' recap: [{task, s}], costliest first.
    A task's time is the wall time from its start on the first site to its end on the last."""
    recap = text.rpartition("TASKS RECAP")[2]
    found = []
    for line in recap.splitlines():
        match = PROFILE_LINE.match(line.strip())
        if match:
            found.append({"task": match.group(1).strip(), "s": float(match.group(2))})
    return sorted(found, key=lambda entry: -entry["s"])[:PROFILE_TOP]


def tasks_per_site(text):
    """Tasks per site from a run's recap (ok + skipped of each host): the count on a typical site (the most common
    count; the lower one on a tie), the largest count and the first host that has it (the site that also runs the
    run-once steps). None when the log has no recap."""
    counts = {}
    for host, ok, skipped in RECAP_TASKS.findall(text.rpartition("PLAY RECAP")[2]):
        counts[host] = int(ok) + int(skipped)
    if not counts:
        return None
    frequency = {}
    for count in counts.values():
        frequency[count] = frequency.get(count, 0) + 1
    typical = min(frequency, key=lambda count: (-frequency[count], count))
    most_host = min(counts, key=lambda host: (-counts[host], host))
    return {"typical": typical, "most": counts[most_host], "most_host": most_host}


def floor_playbook(path, tasks):
    """Write the same-count floor: one play of `tasks` ansible.builtin.ping tasks per site, like bench_ping.yml."""
    lines = ["---",
             "# The same-count floor of make bench (tests/tools/bench.py): as many trivial module tasks per site",
             "# as playbooks/site.yml made module runs per site.",
             "- name: Run %d trivial modules on every site" % tasks,
             "  hosts: \"{{ eeszt_hosts | default('eeszt_sites') }}\"",
             "  gather_facts: false",
             "  tasks:"]
    for index in range(1, tasks + 1):
        lines += ["    - name: Run trivial module %d on the site" % index,
                  "      ansible.builtin.ping:"]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def floor_tasks(module_runs_per_site):
    """How many ping tasks the same-count floor runs: (a)'s module runs per site, rounded, at least 1."""
    return max(1, int(round(module_runs_per_site or 0)))


def measure(label, argv, env, log_path, sample, counter=None):
    """Run argv under /usr/bin/time -v; return the run's figures."""
    time_file = log_path + ".time"
    before = count_lines(counter) if counter else 0
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen([TIME, "-v", "-o", time_file] + argv, cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        sampler = TreeSampler(proc.pid, sample)
        sampler.start()
        try:
            returncode = proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            returncode = proc.wait()
        wall = time.perf_counter() - start
        tree_peak, controller_peak = sampler.stop()
    with open(time_file, encoding="utf-8") as handle:
        user, system, max_rss = parse_time_v(handle.read())
    with open(log_path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    recap = RECAP.findall(text)
    hosts = {host: (int(changed), int(unreachable) + int(failed)) for host, _ok, changed, unreachable, failed in recap}
    result = {
        "run": label,
        "returncode": returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(user + system, 2),
        "max_rss_bytes": max_rss,
        "tree_peak_rss_bytes": tree_peak,
        "controller_peak_pss_bytes": controller_peak,
        "hosts": len(hosts),
        "hosts_changed": sum(1 for changed, _bad in hosts.values() if changed),
        "hosts_failed": sum(1 for _changed, bad in hosts.values() if bad),
        "module_runs": (count_lines(counter) - before) if counter else None,
        "tasks_per_site": tasks_per_site(text),
        "profile": task_profile(text),
        "log": log_path,
    }
    print("   %-7s %8.1f s wall %8.1f s CPU  %5s module runs  rc=%d  %s" % (
        label, wall, user + system, result["module_runs"], returncode, log_path), flush=True)
    return result


def ansible_env(lab_dir, sites, port):
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"),
        EESZT_LAB_DIR=lab_dir,
        EESZT_DEMO_SITES=str(sites),
        EESZT_LAB_WAF_PORT=str(port),
        PYTHONDONTWRITEBYTECODE="1",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        # The project's summary (ansible.cfg) and the time of every task: the JSON keeps the costliest.
        ANSIBLE_CALLBACKS_ENABLED="eeszt.connect.fleet_summary,ansible.posix.profile_tasks",
        PROFILE_TASKS_TASK_OUTPUT_LIMIT="all",
    )
    return env


def lab(state, env, log_path):
    argv = [os.path.join(BIN, "ansible-playbook"), "playbooks/lab.yml", "-i", "inventories/demo",
            "-e", "eeszt_lab_state=%s" % state]
    with open(log_path, "ab") as log:
        return subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT, check=False).returncode


def bench_sites(sites, work, sample):
    """The five runs for one number of sites, in a lab of their own."""
    lab_dir = os.path.join(work, "sites-%d" % sites)
    shutil.rmtree(lab_dir, ignore_errors=True)
    os.makedirs(lab_dir)
    env = ansible_env(lab_dir, sites, free_port())
    interpreter, counter = module_counter(lab_dir)
    playbook = [os.path.join(BIN, "ansible-playbook"), "-e", "ansible_python_interpreter=%s" % interpreter]
    print("== %d sites (lab %s)" % (sites, lab_dir), flush=True)
    if lab("started", env, os.path.join(lab_dir, "lab.log")) != 0:
        lab("stopped", env, os.path.join(lab_dir, "lab.log"))
        return {"sites": sites, "error": "the lab did not start; see %s/lab.log" % lab_dir}
    try:
        runs = {}
        for name, playbooks in (("full", ["playbooks/site.yml"]), ("rerun", ["playbooks/site.yml"]),
                                ("daily", ["playbooks/daily.yml"]),
                                ("ping", [PING_PLAYBOOK]), ("floor", None)):
            if playbooks is None:
                # As many trivial module tasks per site as (a) made module runs per site.
                playbooks = [floor_playbook(os.path.join(lab_dir, "bench_floor.yml"),
                                            floor_tasks(runs["full"]["module_runs_per_site"]))]
            runs[name] = measure(name, playbook + playbooks + ["-i", "inventories/demo"], env,
                                 os.path.join(lab_dir, name + ".log"), sample, counter)
            runs[name]["module_runs_per_site"] = round(runs[name]["module_runs"] / float(sites), 2)
        runs["floor"]["floor_tasks"] = floor_tasks(runs["full"]["module_runs_per_site"])
    finally:
        lab("stopped", env, os.path.join(lab_dir, "lab.log"))
    return {"sites": sites, "runs": runs}


def ratio(numerator, denominator):
    return round(numerator / denominator, 2) if denominator else None


def summarise(results):
    """Ratios, per-site slopes and targets from the measured runs."""
    rows = [r for r in results if "runs" in r]
    for row in rows:
        runs = row["runs"]
        row["full_over_ping"] = ratio(runs["full"]["wall_s"], runs["ping"]["wall_s"])
        row["rerun_over_ping"] = ratio(runs["rerun"]["wall_s"], runs["ping"]["wall_s"])
        row["daily_over_ping"] = ratio(runs["daily"]["wall_s"], runs["ping"]["wall_s"])
        if "floor" in runs:
            row["full_over_floor"] = ratio(runs["full"]["wall_s"], runs["floor"]["wall_s"])
        row["peak_rss_bytes"] = max(max(run["max_rss_bytes"] for run in runs.values()), 0)
        row["peak_tree_rss_bytes"] = max(run["tree_peak_rss_bytes"] for run in runs.values())
        row["peak_controller_pss_bytes"] = max(run["controller_peak_pss_bytes"] for run in runs.values())
    slopes = []
    for low, high in zip(rows, rows[1:]):
        step = high["sites"] - low["sites"]
        slopes.append({
            "from": low["sites"], "to": high["sites"],
            "full_s_per_site": round((high["runs"]["full"]["wall_s"] - low["runs"]["full"]["wall_s"]) / step, 3),
            "rerun_s_per_site": round((high["runs"]["rerun"]["wall_s"] - low["runs"]["rerun"]["wall_s"]) / step, 3),
            "daily_s_per_site": round((high["runs"]["daily"]["wall_s"] - low["runs"]["daily"]["wall_s"]) / step, 3),
            "ping_s_per_site": round((high["runs"]["ping"]["wall_s"] - low["runs"]["ping"]["wall_s"]) / step, 3),
        })
    targets = []
    at = [r for r in rows if r["sites"] == TARGET_AT_SITES]
    if at:
        targets.append(("(a)/(c) <= %g at %d sites" % (TARGET_FULL_RATIO, TARGET_AT_SITES),
                        at[0]["full_over_ping"], at[0]["full_over_ping"] <= TARGET_FULL_RATIO))
        targets.append(("(b)/(c) <= %g at %d sites" % (TARGET_RERUN_RATIO, TARGET_AT_SITES),
                        at[0]["rerun_over_ping"], at[0]["rerun_over_ping"] <= TARGET_RERUN_RATIO))
        targets.append(("(d)/(c) <= %g at %d sites (the daily run)" % (TARGET_DAILY_RATIO, TARGET_AT_SITES),
                        at[0]["daily_over_ping"], at[0]["daily_over_ping"] <= TARGET_DAILY_RATIO))
    for row in rows:
        runs_per_site = row["runs"]["full"]["module_runs_per_site"]
        targets.append(("(a) at most %d module runs per site at %d sites" % (TARGET_MODULE_RUNS, row["sites"]),
                        runs_per_site, runs_per_site <= TARGET_MODULE_RUNS))
    if len(slopes) >= 2:
        first, last = slopes[0]["full_s_per_site"], slopes[-1]["full_s_per_site"]
        targets.append(("linear growth: last slope <= %g x first slope" % LINEAR_TOLERANCE,
                        "%.3f vs %.3f s/site" % (last, first), last <= max(first, 0.001) * LINEAR_TOLERANCE))
    at = [r for r in rows if r["sites"] == TARGET_RSS_AT_SITES]
    if at:
        # The controller: ansible-playbook and its forks, their shared pages counted once (PSS), and never less
        # than its largest single process (RSS).
        peak = max(at[0]["peak_rss_bytes"], at[0]["peak_controller_pss_bytes"])
        targets.append(("peak controller memory (PSS of ansible-playbook and its forks) < 1 GiB at %d sites"
                        % TARGET_RSS_AT_SITES, "%.0f MiB" % (peak / 1048576.0), peak < TARGET_RSS_BYTES))
    found = [{"target": name, "value": value, "met": bool(met), "issue": 14} for name, value, met in targets]
    return slopes, found + targets_26(rows)


def _lookup(row, key):
    """A figure of a summarised row: a row key ("full_over_ping") or a path into its runs (run, field[, sub])."""
    if isinstance(key, str):
        return row.get(key)
    value = row["runs"].get(key[0])
    for part in key[1:]:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def targets_26(rows):
    """Issue 26's targets at every measured size; a figure that was not measured is a miss."""
    found = []
    for row in rows:
        for label, key, limit in TARGETS_26:
            value = _lookup(row, key)
            found.append({"target": "%s <= %g at %d sites" % (label, limit, row["sites"]), "value": value,
                          "met": value is not None and value <= limit, "issue": 26})
    return found


def mib(value):
    return "%.0f" % (value / 1048576.0)


def print_table(results, slopes, targets):
    print("")
    print("%6s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %11s %8s %8s %8s" % (
        "sites", "(a) s", "(b) s", "(d) s", "(c) s", "(f) s", "(a)/(f)", "(a)/(c)", "(b)/(c)", "(d)/(c)", "(a) CPU",
        "(b) CPU", "(d) CPU", "(c) CPU", "(f) CPU", "mod/site a/b/d/c", "RSS MiB", "PSS MiB", "tree MiB"))
    for row in results:
        if "runs" not in row:
            print("%6d  %s" % (row["sites"], row["error"]))
            continue
        runs = row["runs"]
        print("%6d %8.1f %8.1f %8.1f %8.1f %8.1f %8.2f %8.2f %8.2f %8.2f %8.1f %8.1f %8.1f %8.1f %8.1f %16s %8s %8s %8s" % (
            row["sites"], runs["full"]["wall_s"], runs["rerun"]["wall_s"], runs["daily"]["wall_s"],
            runs["ping"]["wall_s"], runs["floor"]["wall_s"], row["full_over_floor"], row["full_over_ping"],
            row["rerun_over_ping"], row["daily_over_ping"],
            runs["full"]["cpu_s"], runs["rerun"]["cpu_s"], runs["daily"]["cpu_s"], runs["ping"]["cpu_s"],
            runs["floor"]["cpu_s"],
            "/".join("%g" % runs[name]["module_runs_per_site"] for name in ("full", "rerun", "daily", "ping")),
            mib(row["peak_rss_bytes"]), mib(row["peak_controller_pss_bytes"]), mib(row["peak_tree_rss_bytes"])))
    for row in results:
        if "runs" in row:
            print(tasks_line(row))
    for slope in slopes:
        print("per-site marginal cost %d -> %d sites: (a) %.3f s, (b) %.3f s, (d) %.3f s, (c) %.3f s" % (
            slope["from"], slope["to"], slope["full_s_per_site"], slope["rerun_s_per_site"],
            slope["daily_s_per_site"], slope["ping_s_per_site"]))
    for row in results:
        if "runs" not in row:
            continue
        for name in ("full", "daily"):
            print("costliest tasks of run %s at %d sites (ansible.posix.profile_tasks):" % (name, row["sites"]))
            for entry in row["runs"][name]["profile"][:8]:
                print("  %7.2f s  %s" % (entry["s"], entry["task"]))
    for target in targets:
        print("%-4s %s: %s" % ("PASS" if target["met"] else "MISS", target["target"], target["value"]))


def tasks_line(row):
    """One line per size: the same-count floor's task count and the tasks per site of (a) and (d)."""
    runs = row["runs"]

    def tasks(name):
        found = runs[name].get("tasks_per_site")
        if not found:
            return "?"
        return "%d on a typical site, %d on %s" % (found["typical"], found["most"], found["most_host"])
    return "%d sites: (f) runs %d ping tasks per site; tasks per site (ok + skipped): (a) %s; (d) %s" % (
        row["sites"], runs["floor"]["floor_tasks"], tasks("full"), tasks("daily"))


def failures(results):
    """Why the benchmark failed: a lab that did not start, a run with a failed play or site."""
    found = []
    for row in results:
        if "error" in row:
            found.append("%d sites: %s" % (row["sites"], row["error"]))
            continue
        for name, run in row["runs"].items():
            if run["returncode"] != 0 or run["hosts_failed"] or run["hosts"] != row["sites"]:
                found.append("%d sites, run %s: rc=%d, %d of %d sites failed (see %s)" % (
                    row["sites"], name, run["returncode"], run["hosts_failed"], run["hosts"], run["log"]))
        if row["runs"]["rerun"]["hosts_changed"]:
            print("note: %d sites, re-run changed %d sites (not idempotent)" % (
                row["sites"], row["runs"]["rerun"]["hosts_changed"]))
    return found


def forks():
    """The forks setting the runs use (from ansible.cfg or ANSIBLE_FORKS)."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    out = subprocess.run([os.path.join(BIN, "ansible-config"), "dump"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=False).stdout
    match = re.search(r"^DEFAULT_FORKS\([^)]*\) = (\d+)", out, re.M)
    return int(match.group(1)) if match else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sites", default=os.environ.get("BENCH_SITES", "10 50 200"),
                        help="numbers of sites, space separated (default: %(default)s)")
    parser.add_argument("--json", default=os.environ.get("BENCH_JSON", os.path.join(ROOT, "build", "bench.json")),
                        help="where the results go (default: %(default)s)")
    parser.add_argument("--work", default=os.environ.get("BENCH_WORK", os.path.join(ROOT, ".cache", "bench")),
                        help="lab directories and run logs (default: %(default)s)")
    parser.add_argument("--sample", type=float, default=0.5,
                        help="seconds between samples of the process tree's memory (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        counts = sorted({int(word) for word in args.sites.replace(",", " ").split()})
    except ValueError:
        parser.error("--sites takes whole numbers, got %r" % args.sites)
    if not counts or counts[0] < 1:
        parser.error("--sites needs at least one number of sites, each 1 or more")
    if not os.access(TIME, os.X_OK):
        parser.error("%s (GNU time) is needed to measure memory" % TIME)
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=args.work)
    started = time.time()
    results = [bench_sites(count, work, args.sample) for count in counts]
    slopes, targets = summarise(results)
    print_table(results, slopes, targets)
    found = failures(results)
    report = {
        "schema": "eeszt.connect/bench/v3",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform(),
                    "load_average_at_end": os.getloadavg()},
        "forks": forks(),
        "results": results,
        "slopes": slopes,
        "targets": targets,
        "failures": found,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print("results: %s" % args.json)
    for line in found:
        print("FAILED: %s" % line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
