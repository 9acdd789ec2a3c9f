"""Issue 15: stream administration on real PostgreSQL, outside dev mode (https required)."""

from __future__ import annotations

import uuid

import pytest
from security_events.adapters.postgres.keys import KeyStore
from security_events.domain.key_encryption import Sealer
from security_events.errors import InvalidRequest
from security_events.service_layer.admin import StreamAdmin
from suite_common.pg import create_pool


async def test_plain_http_receivers_are_refused_outside_dev_mode_and_rotation_overlaps(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    sealer = Sealer("integration-test-secret-0123456789")
    try:
        admin = StreamAdmin(pool, KeyStore(sealer), sealer, allow_insecure=False)
        stream_id = await admin.create_stream(str(uuid.uuid4()), "mdm", "RS256")
        with pytest.raises(InvalidRequest, match="must be https"):
            await admin.add_receiver(stream_id, "push", "http://127.0.0.1:9/e", "", "", [])
        with pytest.raises(InvalidRequest, match="absolute https URL"):
            await admin.add_receiver(stream_id, "push", "ftp://x/e", "", "", [])
        added = await admin.add_receiver(stream_id, "push", "https://rcv.example/e", "Bearer s3cret", "", [])
        assert added.row["audience"] == "https://rcv.example/e" and added.poll_token == ""
        assert b"s3cret" not in bytes(added.row["authorization_sealed"]), "stored encrypted"

        before = await admin.jwks(stream_id)
        await admin.rotate_key(stream_id, 3600)
        after = await admin.jwks(stream_id)
        kids = [k["kid"] for k in after["keys"]]
        assert len(kids) == 2 and before["keys"][0]["kid"] == kids[1], "old key still published"
        assert all(k["kty"] == "RSA" and k["alg"] == "RS256" for k in after["keys"])
        await admin.rotate_key(stream_id, 0)
        latest = [k["kid"] for k in (await admin.jwks(stream_id))["keys"]]
        assert kids[0] not in latest and kids[1] in latest, "retired with no overlap: gone at once"
        await admin.delete_stream(stream_id)
    finally:
        await pool.close()
