"""Report files: written atomically, with the mode any file the user writes gets."""

import os
import stat

from connector.report.output import _write


def test_reports_are_readable_like_any_file_the_user_writes(tmp_path):
    target = tmp_path / "r.md"
    _write(target, "x")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
