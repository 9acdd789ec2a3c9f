"""security-events splits a fetched batch into side-by-side groups only when each gets enough events to be
worth its own transaction, and never splits a resource's chain."""

from __future__ import annotations

from security_events.adapters.nats.consumer import MIN_EVENTS_PER_GROUP, split_into_groups


def _chains(*sizes: int) -> list[list[str]]:
    return [[f"r{i}v{v}" for v in range(size)] for i, size in enumerate(sizes)]


def test_a_small_batch_is_one_group_in_chain_order() -> None:
    chains = _chains(2, 1, 3)
    assert split_into_groups(chains, 5) == [[m for chain in chains for m in chain]]


def test_a_large_batch_is_dealt_by_whole_chains_up_to_the_limit() -> None:
    chains = _chains(*([4] * 20))  # 80 events
    groups = split_into_groups(chains, 5)
    assert len(groups) == min(5, 80 // MIN_EVENTS_PER_GROUP)
    assert all(len(g) >= MIN_EVENTS_PER_GROUP for g in groups)
    assert sorted(m for g in groups for m in g) == sorted(m for c in chains for m in c)
    for chain in chains:  # each chain whole, in version order, in one group
        (home,) = [g for g in groups if chain[0] in g]
        assert [m for m in home if m in chain] == chain


def test_never_more_groups_than_chains_or_allowed() -> None:
    assert len(split_into_groups(_chains(100), 5)) == 1
    assert len(split_into_groups(_chains(*([20] * 10)), 3)) == 3
    assert split_into_groups([], 5) == []
