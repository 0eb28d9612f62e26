# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for ansible-test's pip bootstrap script.

`ansible-test sanity --venv` downloads a get-pip script from a host that is
not reachable on our CI machines. This script does the same job with what
Python ships: `ensurepip` puts the bundled pip into the new virtual
environment, then that pip installs the exact pip version ansible-test asks
for from the package index pip is configured to use. `make sanity` copies it
into ansible-test's cache when no bootstrap script is cached there yet.
"""

import subprocess
import sys

# Options only get-pip understands; pip itself would reject them.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

# In a child process: ensurepip points PIP_CONFIG_FILE at /dev/null in its own
# environment, which would hide the machine's pip configuration (index, CA).
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"], stdout=subprocess.DEVNULL)
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade"] + args))
