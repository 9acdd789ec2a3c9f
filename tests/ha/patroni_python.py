"""The interpreter and import path Patroni runs with, as the unprivileged account PostgreSQL needs.

Patroni comes from this project's dev dependencies (pyproject.toml). When the account cannot traverse
this virtualenv (a checkout under a mode-700 /root), Patroni and the distributions it needs are copied,
once, to a world-readable cache, the same way the pgserver binaries are (suite_common.embedded.postgres).
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

from packaging.requirements import Requirement

from tests.ha.accounts import Account

# Patroni's extras this suite uses (the etcd v3 DCS and psycopg 3) and psycopg's compiled build.
_EXTRAS = ("etcd3", "psycopg3", "binary")


def interpreter(account: Account) -> str:
    """A Python of this minor version that `account` may run (the virtualenv's, or the system's)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [os.path.realpath(sys.executable), f"/usr/bin/{version}", f"/usr/local/bin/{version}"]
    for candidate in candidates:
        if Path(candidate).exists() and account.can_execute(Path(candidate)):
            return candidate
    raise RuntimeError(
        f"no {version} that {account.name} may run (tried {candidates}); "
        "tools/ci/install-ha-deps.sh installs Debian's python3"
    )


def _closure(root: str) -> list[metadata.Distribution]:
    found: dict[str, metadata.Distribution] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency of a DCS this suite does not use
        found[key] = dist
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in ("", *_EXTRAS)):
                todo.append(req.name)
    return list(found.values())


def import_path(account: Account) -> str:
    """A PYTHONPATH holding Patroni and its dependencies that `account` can read."""
    purelib = Path(sysconfig.get_paths()["purelib"])
    if account.can_read(purelib / "patroni" / "__main__.py") or os.geteuid() != 0:
        return str(purelib)
    digest = hashlib.sha256(str(purelib).encode()).hexdigest()[:10]
    cache = Path(tempfile.gettempdir()) / f"scim-suite-patroni-{digest}"
    if (cache / "patroni" / "__main__.py").exists():
        return str(cache)
    staging = Path(tempfile.mkdtemp(prefix="patroni-", dir=tempfile.gettempdir()))
    for dist in _closure("patroni"):
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file)))
            if source.is_file() and purelib in source.parents:
                target = staging / source.relative_to(purelib)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    for folder, _, _ in os.walk(staging):
        os.chmod(folder, 0o755)
    try:
        staging.rename(cache)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another process won the race
    return str(cache)
