"""Compile `protos/` into the one importable stub package `scimsuite` (libs/protos_py).

The stubs are committed so that an installed tree imports without a build step; `--check` regenerates into
a temporary folder and fails on any difference, which the test suite runs (tests/unit/test_protos_current.py).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[3]
PROTO_ROOT = ROOT / "protos"
OUTPUT = ROOT / "libs" / "protos_py"
PACKAGE = "scimsuite"


def generate(out_dir: Path) -> None:
    """Run protoc (from grpcio-tools) over every .proto, writing messages, stubs and typing stubs."""
    proto_files = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")
    scripts = Path(sysconfig.get_path("scripts"))
    plugins = [
        f"--plugin=protoc-gen-{name}={scripts / f'protoc-gen-{name}'}" for name in ("mypy", "mypy_grpc")
    ]
    args = [
        "protoc",
        *plugins,
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--mypy_out={out_dir}",
        f"--mypy_grpc_out={out_dir}",
        *proto_files,
    ]
    if _quiet_protoc(args) != 0:
        raise SystemExit("protoc failed")
    # protoc writes no __init__.py; one per folder makes `scimsuite` a regular, installable package.
    for folder in [out_dir / PACKAGE, *(p for p in (out_dir / PACKAGE).rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    (out_dir / PACKAGE / "py.typed").touch()


def _quiet_protoc(args: list[str]) -> int:
    """Run protoc with the plugins' chatter ("Writing mypy to ...") kept off stderr unless it fails."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            code = int(protoc.main(args))
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        if code != 0:
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
    return code


def _tree(root: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


def differences(current: Path, fresh: Path) -> list[str]:
    """Files that differ between the committed stubs and a fresh generation."""
    old, new = _tree(current), _tree(fresh)
    changed = [name for name in sorted(old.keys() | new.keys()) if name not in old or name not in new]
    changed += [n for n in sorted(old.keys() & new.keys()) if not filecmp.cmp(old[n], new[n], shallow=False)]
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed stubs are stale")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        if args.check:
            stale = differences(OUTPUT / PACKAGE, fresh / PACKAGE)
            if stale:
                print("generated stubs are stale; run `make protos`:", *stale, sep="\n  ", file=sys.stderr)
                return 1
            return 0
        shutil.rmtree(OUTPUT / PACKAGE, ignore_errors=True)
        shutil.copytree(fresh / PACKAGE, OUTPUT / PACKAGE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
