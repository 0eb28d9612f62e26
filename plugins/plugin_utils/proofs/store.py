# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing into the proof archive: ``module_utils/common/files``' writers with the archive's modes and errors.

``store(path, data, write)`` runs one of those writers (``write_atomic``, the default; ``write_new``;
``write_if_changed``) with ``FILE_MODE`` after making the file's folder, and turns what fails into the
archive's errors: ``ArchiveConflictError`` when ``write_new`` finds other content, ``ProofsError`` naming the
file for any other. ``ensure_dir`` makes a folder of the archive (``files.make_dirs`` with ``DIR_MODE``).
``canonical_json`` gives the bytes of every JSON file the controller writes there.

Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import make_dirs, write_atomic
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.errors import ArchiveConflictError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import DIR_MODE, FILE_MODE


def ensure_dir(path):
    """Create ``path`` and every missing parent with DIR_MODE, whatever the umask; True when one was created.

    A folder another run creates at the same moment is no error (``files.make_dirs``).
    """
    try:
        return bool(make_dirs(path, DIR_MODE, parents_mode=DIR_MODE))
    except (IOError, OSError) as exc:
        raise ProofsError("cannot create the directory %s: %s" % (exc.filename or path, exc.strerror or exc))


def store(path, data, write=write_atomic):
    """``write(path, data, FILE_MODE)`` (a writer of ``module_utils/common/files``), its folder made first.

    Returns what the writer returns (``write_new``: True when created, False when the file exists with the
    same content; ``write_if_changed``: True when written).
    """
    ensure_dir(os.path.dirname(path))
    try:
        return write(path, data, FILE_MODE)
    except FileExistsError:
        raise ArchiveConflictError(
            "%s is already in the archive with other content; an archived file is never "
            "overwritten: find out why the two differ" % path)
    except (IOError, OSError) as exc:
        raise ProofsError("cannot write %s: %s" % (path, exc.strerror or exc))


def canonical_json(document):
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
