"""`scimctl streams …`: RFC 9967 SET streams per (workspace, portal), their receivers and signing keys.

`--json` shapes (stable):
- a stream: `{"id", "workspace_id", "portal", "alg", "jwks_path", "kids": [...], "receivers": [receiver]}`
- a receiver: `{"id", "delivery", "endpoint_url", "audience", "events": [...],
  "stats": {"pending", "delivered", "failed", "dead", "lag_seconds", "last_error"}}`
- `streams list`: `{"streams": [stream]}`; `streams delete`: `{"deleted": id}`
- `receivers add`: `{"receiver": receiver, "poll_token": "..."}` (poll only; shown once);
  `receivers remove`: `{"removed": id}`; `rotate-key`: the stream, with the old and new kid.
- `streams sets`: `{"sets": [set], "has_stream": bool}`, newest first, a set being `{"jti", "txn",
  "receiver_id", "delivery", "audience", "endpoint_url", "events": [...], "state", "attempts",
  "last_error", "created_at", "delivered_at"}` (times RFC 3339; `delivered_at` empty until delivered).
"""

from __future__ import annotations

import argparse
from typing import Any

from google.protobuf import json_format
from scimsuite.events_out.v1 import events_out_pb2 as pb

from scimctl.clients import Clients


def _receiver(r: pb.Receiver) -> dict[str, Any]:
    s = r.stats
    return {
        "id": r.id,
        "delivery": r.delivery,
        "endpoint_url": r.endpoint_url,
        "audience": r.audience,
        "events": list(r.events),
        "stats": {
            "pending": s.pending,
            "delivered": s.delivered,
            "failed": s.failed,
            "dead": s.dead,
            "lag_seconds": round(s.lag_seconds, 3),
            "last_error": s.last_error,
        },
    }


def _stream(s: pb.Stream) -> dict[str, Any]:
    return {
        "id": s.id,
        "workspace_id": s.workspace_id,
        "portal": s.portal,
        "alg": s.alg,
        "jwks_path": s.jwks_path,
        "kids": list(s.kids),
        "receivers": [_receiver(r) for r in s.receivers],
    }


def _subject_set(s: pb.SubjectSet) -> dict[str, Any]:
    # Every field under its proto name, empty ones included: the documented shape above.
    return json_format.MessageToDict(
        s, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def create(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = pb.CreateStreamRequest(workspace_id=c.workspace_id(a.workspace), portal=a.portal, alg=a.alg)
    return _stream(c.streams.CreateStream(request, metadata=c.md))


def list_streams(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    ws = c.workspace_id(a.workspace) if a.workspace else ""
    reply = c.streams.ListStreams(pb.ListStreamsRequest(workspace_id=ws), metadata=c.md)
    return {"streams": [_stream(s) for s in reply.streams]}


def show(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    return _stream(c.streams.GetStream(pb.StreamRef(stream_id=a.stream), metadata=c.md))


def delete(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    c.streams.DeleteStream(pb.StreamRef(stream_id=a.stream), metadata=c.md)
    return {"deleted": a.stream}


def receivers_add(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = pb.AddReceiverRequest(
        stream_id=a.stream,
        delivery=a.delivery,
        endpoint_url=a.url or "",
        authorization=a.authorization or "",
        audience=a.audience or "",
        events=a.event or [],
    )
    reply = c.streams.AddReceiver(request, metadata=c.md)
    out: dict[str, Any] = {"receiver": _receiver(reply.receiver)}
    if reply.poll_token:
        out["poll_token"] = reply.poll_token
    return out


def receivers_remove(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    c.streams.RemoveReceiver(pb.RemoveReceiverRequest(receiver_id=a.receiver), metadata=c.md)
    return {"removed": a.receiver}


def rotate_key(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = pb.RotateKeyRequest(stream_id=a.stream, overlap_seconds=a.overlap or 0)
    return _stream(c.streams.RotateKey(request, metadata=c.md))


def subject_sets(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = pb.ListSubjectSetsRequest(
        workspace_id=c.workspace_id(a.workspace), portal=a.portal, subject=a.subject, limit=a.limit
    )
    reply = c.streams.ListSubjectSets(request, metadata=c.md)
    return {"sets": [_subject_set(s) for s in reply.sets], "has_stream": reply.has_stream}
