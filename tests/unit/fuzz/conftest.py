# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared settings of the fuzz tests (hypothesis) in this directory.

The fuzz tests feed malformed input to the PKCS#12 loader, the site registry
parser and the proof verifier; every input must give the collection's own
error (``EESZTConnectError`` subtree) or a clean result, never another
exception and never a hang.

Profiles:

``eeszt-fuzz`` (default, used by ``make unit`` and CI)
    derandomized (the same examples on every run), no example database, a
    small number of examples per test: the whole directory takes well under
    60 seconds on two cores.

``eeszt-fuzz-long`` (selected by setting ``EESZT_FUZZ_EXAMPLES``)
    random examples, ``EESZT_FUZZ_EXAMPLES`` of them per test, failures kept
    in ``.cache/hypothesis`` so that a rerun replays them first::

        EESZT_FUZZ_EXAMPLES=5000 .venv/bin/pytest -q tests/unit/fuzz

Every example runs under ``bounded()``: past ``EXAMPLE_SECONDS`` it fails
as a hang (SIGALRM). Each test asserts its total time with ``timed()``,
whose watchdog ends the whole process, printing every thread's stack,
should a hang sit inside C code that the alarm cannot interrupt.
"""

import contextlib
import faulthandler
import os
import signal
import time

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LONG_EXAMPLES = int(os.environ.get("EESZT_FUZZ_EXAMPLES") or 0)
# Seconds one example may take before it counts as a hang.
EXAMPLE_SECONDS = 10
# This many seconds past a test's time limit the watchdog ends the process.
WATCHDOG_SECONDS = 60

_COMMON = dict(
    deadline=5000,  # milliseconds per example, reported by hypothesis when exceeded
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("eeszt-fuzz", derandomize=True, database=None, **_COMMON)
settings.register_profile(
    "eeszt-fuzz-long", max_examples=max(LONG_EXAMPLES, 1), derandomize=False,
    database=DirectoryBasedExampleDatabase(os.path.join(ROOT, ".cache", "hypothesis")), **_COMMON)
settings.load_profile("eeszt-fuzz-long" if LONG_EXAMPLES else "eeszt-fuzz")


def examples(default):
    """``max_examples`` of a test: ``default`` in CI, ``EESZT_FUZZ_EXAMPLES`` for long runs."""
    return LONG_EXAMPLES or default


def budget(default_examples, seconds_each):
    """Seconds a whole test may take: a generous bound for its number of examples."""
    return 30 + examples(default_examples) * seconds_each


class Hang(Exception):
    """An example ran past EXAMPLE_SECONDS."""


def _alarm(signum, frame):
    raise Hang("one example ran longer than %d seconds: a hang" % EXAMPLE_SECONDS)


@contextlib.contextmanager
def bounded(seconds=EXAMPLE_SECONDS):
    """Run one example under a time limit (see the module docstring)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def timed(limit):
    """Assert that the block finishes within ``limit`` seconds in total.

    A watchdog ends the process (printing every thread's stack) when the block
    runs WATCHDOG_SECONDS past its limit: a hang inside C code, which SIGALRM
    cannot interrupt, then still ends the run instead of blocking CI.
    """
    start = time.monotonic()
    faulthandler.dump_traceback_later(limit + WATCHDOG_SECONDS, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    spent = time.monotonic() - start
    assert spent < limit, "took %.1f s, more than the %.0f s allowed" % (spent, limit)


@pytest.fixture(scope="session")
def fuzz():
    """The helpers above, for the test modules (which cannot import this file)."""
    return FuzzHelpers


class FuzzHelpers:
    examples = staticmethod(examples)
    budget = staticmethod(budget)
    bounded = staticmethod(bounded)
    timed = staticmethod(timed)
    Hang = Hang
