"""The unprivileged account server processes run as when the tests run as root (PostgreSQL refuses root)."""

from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int

    def popen_kwargs(self) -> dict[str, Any]:
        if os.geteuid() != 0:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def own(self, path: Path) -> None:
        """Give `path` and everything under it to this account (no-op unless we are root)."""
        if os.geteuid() != 0:
            return
        os.chown(path, self.uid, self.gid)
        for folder, dirs, files in os.walk(path):
            for name in dirs + files:
                os.chown(os.path.join(folder, name), self.uid, self.gid, follow_symlinks=False)

    def can_read(self, path: Path) -> bool:
        """Every folder on the way is traversable by others, and the file is readable by others."""
        if os.geteuid() != 0:
            return os.access(path, os.R_OK)
        return all(p.stat().st_mode & stat.S_IXOTH for p in path.parents) and bool(
            path.stat().st_mode & stat.S_IROTH
        )

    def can_execute(self, path: Path) -> bool:
        """Every folder on the way is traversable by others, and the file is executable by others."""
        if os.geteuid() != 0:
            return os.access(path, os.X_OK)
        for part in path.parents:
            if not part.stat().st_mode & stat.S_IXOTH:
                return False
        return bool(path.stat().st_mode & stat.S_IXOTH)


def unprivileged() -> Account:
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return Account(me.pw_name, me.pw_uid, me.pw_gid)
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return Account(name, entry.pw_uid, entry.pw_gid)
    raise RuntimeError("running as root and neither 'postgres' nor 'nobody' exists")
