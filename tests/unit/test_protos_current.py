"""The committed gRPC stubs are exactly what protoc generates from `protos/` (STYLE: contracts first)."""

from __future__ import annotations

from protogen.main import main


def test_committed_stubs_match_protos() -> None:
    assert main(["--check"]) == 0, "run `make protos` and commit the result"
