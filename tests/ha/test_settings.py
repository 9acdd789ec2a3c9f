"""The HA settings: a NATS_URL naming several servers, and the stream replica count, each refused at start-up
with a clear message when malformed."""

from __future__ import annotations

import pytest
from directory.config import load_settings as directory_settings
from portal_actions.config import load_settings as portal_settings
from suite_common.nats_connect import parse_servers
from suite_common.settings import SettingsError


def test_several_servers_are_split_and_trimmed() -> None:
    assert parse_servers("nats://a:4222, nats://b:4222 ,nats://c:4222") == [
        "nats://a:4222",
        "nats://b:4222",
        "nats://c:4222",
    ]
    assert parse_servers("tls://nats.prod:4222") == ["tls://nats.prod:4222"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty entry"),
        ("nats://a:4222,,nats://b:4222", "empty entry"),
        ("nats://a:4222,", "empty entry"),
        ("http://a:4222", "must look like nats://host:port"),
        ("nats://a", "must look like nats://host:port"),
        ("a:4222", "must look like nats://host:port"),
        ("nats://a:99999", "invalid port"),
        ("nats://a:4222,tls://b:4222", "mixes"),
    ],
)
def test_malformed_server_lists_are_refused(url: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_servers(url)


@pytest.mark.parametrize("load", [directory_settings, portal_settings])
def test_services_read_the_server_list_and_replicas(load: object) -> None:
    settings = load({"NATS_URL": "nats://a:1, nats://b:2", "EVENTS_STREAM_REPLICAS": "3"})  # type: ignore[operator]
    assert settings.nats_url == "nats://a:1,nats://b:2"
    assert settings.stream_replicas == 3
    defaults = load({})  # type: ignore[operator]
    assert defaults.stream_replicas == 1, "make run has one NATS server: one replica"


@pytest.mark.parametrize("load", [directory_settings, portal_settings])
@pytest.mark.parametrize("replicas", ["0", "6", "-1", "three"])
def test_impossible_replica_counts_are_refused(load: object, replicas: str) -> None:
    with pytest.raises(SettingsError, match="EVENTS_STREAM_REPLICAS"):
        load({"EVENTS_STREAM_REPLICAS": replicas})  # type: ignore[operator]


@pytest.mark.parametrize("load", [directory_settings, portal_settings])
def test_a_malformed_nats_url_stops_start_up(load: object) -> None:
    with pytest.raises(SettingsError, match="NATS_URL"):
        load({"NATS_URL": "nats://a:4222;nats://b:4222"})  # type: ignore[operator]
