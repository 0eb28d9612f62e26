# Documentation only: the action plugin eeszt.connect.tls_clock_skew (plugins/action/tls_clock_skew.py) does the work on the controller.
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_clock_skew
short_description: Compare a site's clock with the controller's
version_added: 1.0.0
description:
  - Reads the site's clock with C(date -u +%s) (no Python needed on the site) and compares it
    with the controller's clock, read just before and just after.
  - TLS fails when the clocks disagree by more than a certificate's margin, and operators
    rarely guess it; this check names the cause before a handshake fails.
  - The reported skew is the smallest difference the measurement allows (the round trip and
    the whole-second resolution are given to the site), so a slow connection never raises a
    false alarm.
  - Warns (default) or fails when the skew exceeds O(max_skew).
  - This is an action plugin; it runs one shell command on the site.
author:
  - eeszt.connect developers (@eeszt-connect)
attributes:
  check_mode:
    support: full
    description: Only reads the clocks; the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
  platform:
    support: full
    platforms: posix
    description: The site needs a POSIX C(date) command.
options:
  max_skew:
    description:
      - Largest clock difference, in seconds, that is accepted.
    type: int
    default: 60
  on_skew:
    description:
      - What to do when the skew exceeds O(max_skew).
      - V(warn) adds a warning and carries on; V(fail) fails the task for this site.
    type: str
    choices: [warn, fail]
    default: warn
seealso:
  - module: ansible.builtin.command
"""

EXAMPLES = r"""
- name: Check the site's clock
  eeszt.connect.tls_clock_skew:
    max_skew: 60
    on_skew: fail
"""

RETURN = r"""
error:
  description:
    - On failure, what went wrong, for reports; V(clock_skew) (the skew is over the limit and
      O(on_skew=fail)), V(clock_unreadable) (the site's clock could not be read) or V(usage)
      (a negative O(max_skew)).
  returned: failure
  type: str
  sample: clock_skew
site_time:
  description: The site's Unix time (whole seconds).
  returned: success
  type: int
  sample: 1767225600
controller_time:
  description: The controller's Unix time in the middle of the measurement.
  returned: success
  type: float
  sample: 1767225600.412
round_trip:
  description: Seconds the measurement took.
  returned: success
  type: float
  sample: 0.083
skew:
  description:
    - Site clock minus controller clock, in seconds (positive when the site is ahead).
    - The smallest value compatible with the measurement; V(0) when no skew is measurable.
  returned: success
  type: float
  sample: 0.0
max_skew:
  description: The limit that was applied.
  returned: success
  type: int
  sample: 60
within_limit:
  description: Whether the absolute skew is at most RV(max_skew).
  returned: success
  type: bool
  sample: true
msg:
  description: The result in words, with a remedy when the limit is exceeded.
  returned: always
  type: str
  sample: the site's clock is within 60 s of the controller's (no measurable skew)
"""
