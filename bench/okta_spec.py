"""Okta's SPEC test (idp-clients.md §1.11, 2024 export), timed step by step, idle and under load.

Okta fails any step slower than 600 ms. The steps run back to back (Okta pauses 5 s between them; the pause
only makes the test easier). "Under load" means an Entra-shaped mix runs at the same time against the same
server: lookups, GETs, creates and deactivations from 8 concurrent workers.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.clients import ENTRA, HttpTarget, Profile, json_of
from bench.dataset import user_id, user_name
from bench.load import Counter, RunResult, WrongAnswer, closed_loop

SPEC = Profile(
    "okta",
    {
        "User-Agent": "OKTA SCIM Integration",
        "Accept": "application/scim+json",
        "Accept-Charset": "utf-8",
        "Content-Type": "application/scim+json; charset=utf-8",
    },
)

STEPS = (
    "1 GET /Users?count=1&startIndex=1",
    "2 GET /Users/{id}",
    "3 GET filter=userName eq (invalid)",
    "4 GET /Users/{missing id} → 404",
    "5 GET filter=userName eq (random)",
    "6 POST /Users → 201",
    "7 GET /Users/{new id}",
    "8 POST same user → 409",
    "9 GET filter=userName eq (CAPS)",
    "10 GET with bad token → 401",
    "11 GET /Users/{missing id} → 404",
)


@dataclass
class SpecTimes:
    by_step: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    failures: list[str] = field(default_factory=list)

    def max_ms(self) -> float:
        return max((max(v) for v in self.by_step.values() if v), default=float("nan"))

    def to_json(self) -> dict[str, Any]:
        return {
            "max_ms_by_step": {s: max(v, default=float("nan")) for s, v in self.by_step.items()},
            "median_ms_by_step": {
                s: sorted(v)[len(v) // 2] if v else float("nan") for s, v in self.by_step.items()
            },
            "max_ms": self.max_ms(),
            "failures": self.failures[:10],
        }


async def _timed(times: SpecTimes, step: str, call: Callable[[], Awaitable[Any]]) -> Any:
    t0 = time.perf_counter()
    try:
        result = await call()
    except WrongAnswer as exc:
        times.failures.append(f"{step}: {exc}")
        result = None
    times.by_step[step].append((time.perf_counter() - t0) * 1000)
    return result


async def spec_once(t: HttpTarget, times: SpecTimes) -> None:
    missing = "010101001010101011001010101011"
    email = f"spec-{uuid.uuid4().hex[:10]}@bench.example"
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": "Spec", "familyName": "Test"},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": "Spec Test",
        "active": True,
    }
    json_ct = {"Content-Type": "application/json", "Accept": "application/scim+json; charset=utf-8"}

    first = await _timed(
        times, STEPS[0], lambda: t.call("GET", "/Users", SPEC, params={"count": "1", "startIndex": "1"})
    )
    some_id = json_of(first[1])["Resources"][0]["id"] if first else user_id(user_name(0))
    await _timed(times, STEPS[1], lambda: t.call("GET", f"/Users/{some_id}", SPEC))
    await _timed(
        times,
        STEPS[2],
        lambda: t.call("GET", "/Users", SPEC, params={"filter": 'userName eq "invalid@bench.invalid"'}),
    )
    await _timed(times, STEPS[3], lambda: t.call("GET", f"/Users/{missing}", SPEC, expect=(404,)))
    await _timed(
        times, STEPS[4], lambda: t.call("GET", "/Users", SPEC, params={"filter": f'userName eq "{email}"'})
    )
    created = await _timed(
        times, STEPS[5], lambda: t.call("POST", "/Users", SPEC, body=body, expect=(201,), headers=json_ct)
    )
    new_id = json_of(created[1])["id"] if created else missing
    await _timed(times, STEPS[6], lambda: t.call("GET", f"/Users/{new_id}", SPEC))
    await _timed(
        times, STEPS[7], lambda: t.call("POST", "/Users", SPEC, body=body, expect=(409,), headers=json_ct)
    )
    await _timed(
        times,
        STEPS[8],
        lambda: t.call("GET", "/Users", SPEC, params={"filter": f'userName eq "{email.upper()}"'}),
    )
    if t.name == "ours":
        await _timed(
            times,
            STEPS[9],
            lambda: t.call(
                "GET",
                "/Users",
                SPEC,
                params={"filter": f'userName eq "{email}"'},
                expect=(401,),
                headers={"Authorization": "non-token"},
            ),
        )
    await _timed(times, STEPS[10], lambda: t.call("GET", "/Users/00919288221112222", SPEC, expect=(404,)))


def entra_mix(t: HttpTarget, users: int) -> Callable[[int], Awaitable[None]]:
    """The background load: Entra's sync cycle in miniature (lookup, read, create, deactivate/reactivate)."""
    rng = random.Random(f"entra-mix/{t.name}")
    prefix = uuid.uuid4().hex[:8]

    async def act(k: int) -> None:
        roll = rng.random()
        i = rng.randrange(users)
        if roll < 0.5:
            await t.call("GET", "/Users", ENTRA, params=ENTRA.lookup_params(user_name(i)))
        elif roll < 0.7:
            await t.call("GET", f"/Users/{user_id(user_name(i))}", ENTRA)
        elif roll < 0.85:
            name = f"mix-{prefix}-{k}@bench.example"
            await t.call("POST", "/Users", ENTRA, body=ENTRA.create_body(name, k), expect=(201,))
        else:
            # Reactivate-only on dataset users keeps the dataset intact for later steps.
            await t.call(
                "PATCH",
                f"/Users/{user_id(user_name(i))}",
                ENTRA,
                body=ENTRA.set_active_body(True),
                expect=(200, 204),
            )

    return act


async def run_spec(
    t: HttpTarget, users: int, repeats: int, *, under_load: bool
) -> tuple[SpecTimes, RunResult | None]:
    times = SpecTimes()
    stop = asyncio.Event()
    background: asyncio.Task[RunResult] | None = None
    if under_load:
        background = asyncio.create_task(
            closed_loop(entra_mix(t, users), Counter(), concurrency=8, duration_s=3600.0, stop=stop)
        )
        await asyncio.sleep(1.0)  # let the background reach steady state before the first step
    for _ in range(repeats):
        await spec_once(t, times)
    stop.set()
    return times, (await background if background is not None else None)
