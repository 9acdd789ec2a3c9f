"""Recognising the IdP behind a request and picking the profile it is answered with (issue 11)."""

from __future__ import annotations

from directory.domain.profiles import effective_profile, recognised
from scim_edge.scim import idp

ADSCIM = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def test_okta_is_recognised_by_its_documented_user_agents() -> None:
    assert idp.from_request({"User-Agent": "Okta SCIM Client 1.0.0"}, []) == idp.OKTA
    assert idp.from_request({"User-Agent": "OKTA SCIM Integration"}, []) == idp.OKTA


def test_entra_is_recognised_by_what_only_it_sends() -> None:
    assert idp.from_request({}, ["aadOptscim062020"]) == idp.ENTRA
    assert idp.from_request({}, ["AzureAdScimPatch2017"]) == idp.ENTRA
    assert idp.from_request({"ADSCIMVersion": "5.0"}, []) == idp.ENTRA
    assert idp.from_request({"User-Agent": "Microsoft Azure AD provisioning"}, []) == idp.ENTRA
    assert idp.from_body({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", ADSCIM]}) == idp.ENTRA


def test_nothing_telling_is_unknown_and_title_case_ops_prove_nothing() -> None:
    assert idp.from_request({}, []) == idp.UNKNOWN
    assert idp.from_request({"User-Agent": "Python/3.11 aiohttp/3.14"}, ["filter"]) == idp.UNKNOWN
    assert (
        idp.from_body({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}) == idp.UNKNOWN
    )
    assert idp.from_body(["not", "an", "object"]) == idp.UNKNOWN
    assert idp.refine(idp.OKTA, {"schemas": [ADSCIM]}) == idp.OKTA
    assert idp.refine(idp.UNKNOWN, {"schemas": [ADSCIM]}) == idp.ENTRA


def test_pinned_profile_wins_and_auto_falls_back_to_generic() -> None:
    assert effective_profile("generic", "entra", "entra") == "generic"
    assert effective_profile("entra", None, None) == "entra"
    assert effective_profile("auto", "okta", "entra") == "okta"
    assert effective_profile("auto", None, "entra") == "entra"
    assert effective_profile("auto", None, None) == "generic"


def test_only_known_idps_are_taken_from_the_edge() -> None:
    assert recognised(" Okta ") == "okta" and recognised("entra") == "entra"
    assert recognised("unknown") is None and recognised("'; drop table") is None
