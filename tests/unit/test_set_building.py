"""SET claims per RFC 9967 and their JWS signature per RFC 8417, verified against the published JWKS."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from jwt import PyJWK
from security_events.domain import event_uris as uris
from security_events.domain.changes import changed_attributes
from security_events.domain.directory_event import DirectoryEvent
from security_events.domain.key_encryption import KeyEncryptionError, Sealer
from security_events.domain.set_claims import Audience, set_claims
from security_events.domain.signing import SigningKey, UnsupportedAlgorithm, generate, jwks

BASE = "https://scim.test/scim/v2/c1"
UID = "2819c223-7f76-453a-919d-413861904646"


def _event(change: str, state: dict[str, Any] | None, method: str = "PATCH", **kw: Any) -> DirectoryEvent:
    fields: dict[str, Any] = {
        "event_id": "e-1",
        "workspace_id": "w",
        "connection_id": "c1",
        "portal": "store",
        "kind": "User",
        "change": change,
        "resource_id": UID,
        "version": 2,
        "state": state,
        "members_added": (),
        "members_removed": (),
        "method": method,
    }
    fields.update(kw)
    return DirectoryEvent(**fields)


def _user(**attrs: Any) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": UID,
        "userName": "jdoe",
        "externalId": "ext-1",
        "meta": {"resourceType": "User", "version": 'W/"2"'},
        **attrs,
    }


def _aud(*subscribed: str) -> Audience:
    return Audience(issuer=BASE, audience="urn:test:rcv", subscribed=uris.subscription(list(subscribed)))


def test_event_uris_are_matched_case_insensitively_and_unknown_ones_refused() -> None:
    assert uris.canonical("URN:IETF:PARAMS:SCIM:EVENT:PROV:CREATE:FULL") == uris.PREFIX + "create:full"
    with pytest.raises(uris.UnknownEventUri):
        uris.canonical("urn:ietf:params:scim:event:prov:rename")
    with pytest.raises(uris.UnknownEventUri):
        uris.subscription([uris.PREFIX + "put:full", uris.PREFIX + "put:notice"])
    assert uris.PREFIX + "create:full" in uris.subscription([])


def test_create_full_carries_the_resource_as_get_renders_it_with_sub_id_and_no_sub() -> None:
    claims = set_claims(_event("Created", _user(active=True), "POST"), None, _aud(), BASE, 1000)
    assert claims is not None
    assert "sub" not in claims
    assert claims["sub_id"] == {"format": "scim", "uri": f"/Users/{UID}", "id": UID, "externalId": "ext-1"}
    assert claims["txn"] == "e-1" and claims["iss"] == BASE and claims["aud"] == "urn:test:rcv"
    assert claims["iat"] == 1000 and len(claims["jti"]) == 32
    full = claims["events"][uris.PREFIX + "create:full"]
    assert full["data"]["meta"]["location"] == f"{BASE}/Users/{UID}"
    assert full["data"]["userName"] == "jdoe" and full["version"] == 'W/"2"'
    assert "attributes" not in full
    assert claims["events"][uris.ACTIVATE] == {}


def test_patch_notice_lists_changed_paths_and_a_deactivation_is_its_own_event() -> None:
    before = _user(active=True, name={"givenName": "J", "familyName": "Doe"})
    after = _user(active=False, name={"givenName": "J", "familyName": "Roe"})
    claims = set_claims(
        _event("Updated", after), before, _aud(uris.PREFIX + "patch:notice", uris.DEACTIVATE), BASE, 1
    )
    assert claims is not None
    assert claims["events"] == {
        uris.PREFIX + "patch:notice": {"version": 'W/"2"', "attributes": ["active", "name.familyName"]},
        uris.DEACTIVATE: {},
    }


def test_put_is_told_from_patch_and_unsubscribed_changes_yield_no_set() -> None:
    claims = set_claims(_event("Updated", _user(title="x"), "PUT"), _user(), _aud(), BASE, 1)
    assert claims is not None and list(claims["events"]) == [uris.PREFIX + "put:full"]
    assert set_claims(_event("Updated", _user(title="y")), _user(), _aud(uris.DELETE), BASE, 1) is None


def test_delete_has_no_payload_and_no_variant() -> None:
    claims = set_claims(_event("Deleted", None, "DELETE", version=3), _user(), _aud(), BASE, 1)
    assert claims is not None
    assert claims["events"] == {uris.DELETE: {}}
    assert claims["sub_id"]["externalId"] == "ext-1"  # from the last state seen


def test_group_membership_change_is_reported_as_members() -> None:
    group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g", "displayName": "G"}
    event = _event("Updated", group, kind="Group", resource_id="g", members_added=("u1",))
    claims = set_claims(event, group, _aud(uris.PREFIX + "patch:notice"), BASE, 1)
    assert claims is not None
    assert claims["sub_id"]["uri"] == "/Groups/g"
    assert claims["events"][uris.PREFIX + "patch:notice"]["attributes"] == ["members"]


def test_changed_attributes_names_extension_attributes_with_their_urn() -> None:
    ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert changed_attributes({ext: {"department": "a"}}, {ext: {"department": "b"}}) == [f"{ext}:department"]
    assert changed_attributes({"emails": [1]}, {}) == ["emails"]


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_signed_set_verifies_against_the_jwks_by_kid(alg: str) -> None:
    old, new = generate(alg), generate(alg)
    token = new.sign({"iss": BASE, "aud": "urn:test:rcv", "iat": 1, "jti": "j", "events": {}})
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "secevent+jwt" and header["kid"] == new.kid and header["alg"] == alg
    published = json.loads(json.dumps(jwks([old, new])))  # over the wire as JSON
    assert all("d" not in k and "p" not in k for k in published["keys"]), "private parts never published"
    by_kid = {k["kid"]: PyJWK(k) for k in published["keys"]}
    claims = jwt.decode(token, by_kid[header["kid"]].key, algorithms=[alg], audience="urn:test:rcv")
    assert claims["jti"] == "j"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, by_kid[old.kid].key, algorithms=[alg], audience="urn:test:rcv")


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        generate("HS256")


def test_sealed_keys_open_only_with_the_same_secret_and_purpose() -> None:
    key = generate()
    sealer = Sealer("a-long-test-secret-0123456789")
    sealed = sealer.seal(key.private_pem, "key:" + key.kid)
    assert key.private_pem not in sealed
    assert (
        SigningKey(key.kid, key.alg, sealer.open(sealed, "key:" + key.kid)).public_jwk() == key.public_jwk()
    )
    with pytest.raises(KeyEncryptionError):
        sealer.open(sealed, "key:other")
    with pytest.raises(KeyEncryptionError):
        Sealer("another-long-secret-987654321").open(sealed, "key:" + key.kid)
