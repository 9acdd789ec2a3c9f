"""An IdP-like SCIM client for fault tests: it retries what it cannot know the outcome of, and counts.

Every write is retried until it gets a definitive answer, the way Okta turns failures into retried tasks
(idp-clients §1.10). An attempt that ends in a dropped connection, a timeout or a 5xx has an unknown
outcome: it may or may not have committed. Retries are therefore written to be idempotent, and the model
of the directory only changes on a definitive (2xx, or an expected 4xx) answer.

While retrying it checks what a client relies on during an outage: a 503 or 429 carries an RFC 7644 §3.12
body as `application/scim+json` and a `Retry-After`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

SCIM_JSON = "application/scim+json"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
RETRY_CAP_S = 0.5  # the test honours Retry-After only up to this, to keep runs short


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any
    uncertain: bool = False  # an earlier attempt of this call had an unknown outcome

    @property
    def version(self) -> int:
        tag = str(self.headers.get("ETag", "")).removeprefix("W/").strip('"')
        return int(tag) if tag.isdigit() else 0


class GaveUp(AssertionError):
    """No definitive answer within the deadline: the system did not recover by itself."""


@dataclass
class Client:
    session: aiohttp.ClientSession
    bases: list[str]
    token: str
    deadline_s: float = 120.0
    stats: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    _rr: itertools.count[int] = field(default_factory=itertools.count)

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        accept: frozenset[int] = frozenset(),
    ) -> Reply:
        """Send until the answer is 2xx or one of `accept`; anything else is retried (it is counted)."""
        started = time.monotonic()
        attempt = 0
        uncertain = False
        edge = next(self._rr) % len(self.bases)
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": SCIM_JSON,
            "User-Agent": "Okta SCIM Client 1.0.0",
        }
        data = None
        if body is not None:
            headers["Content-Type"] = f"{SCIM_JSON}; charset=utf-8"
            data = json.dumps(body).encode()
        while True:
            if time.monotonic() - started > self.deadline_s:
                raise GaveUp(f"{method} {path}: no definitive answer in {self.deadline_s}s; {self.stats}")
            attempt += 1
            self.stats["requests"] += 1
            wait = min(0.05 * 2**attempt, RETRY_CAP_S)
            try:
                async with self.session.request(
                    method,
                    self.bases[edge] + path,
                    data=data,
                    headers=headers,
                    params=params,
                    timeout=aiohttp.ClientTimeout(total=20),
                ) as resp:
                    raw = await resp.read()
                    status, rheaders = resp.status, resp.headers
            except (aiohttp.ClientError, TimeoutError):
                # Connection refused or dropped mid-request: the outcome is unknown. Try the next edge.
                self.stats["unknown_outcome"] += 1
                self.stats["connection_errors"] += 1
                uncertain = True
                edge = (edge + 1) % len(self.bases)
                await asyncio.sleep(wait)
                continue
            parsed = self._check(method, path, status, rheaders, raw)
            if 200 <= status < 300 or status in accept:
                return Reply(status, parsed, rheaders, uncertain)
            self.stats[f"status_{status}"] += 1
            if status in (429, 503):
                self.stats["unknown_outcome" if status == 503 else "throttled"] += 1
                uncertain = uncertain or status == 503
                retry_after = rheaders.get("Retry-After", "")
                await asyncio.sleep(min(float(retry_after) if retry_after.isdigit() else wait, RETRY_CAP_S))
                edge = (edge + 1) % len(self.bases)
                continue
            if status >= 500:
                self.stats["unknown_outcome"] += 1
                uncertain = True
                self.problems.append(f"{method} {path} -> {status} {raw[:300]!r}")
                await asyncio.sleep(wait)
                continue
            raise AssertionError(f"{method} {path} -> unexpected {status}: {raw[:500]!r}")

    def _check(self, method: str, path: str, status: int, headers: Any, raw: bytes) -> Any:
        if status == 204 or not raw:
            return None
        ctype = str(headers.get("Content-Type", ""))
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if status >= 400:
            ok_body = (
                isinstance(parsed, dict)
                and parsed.get("schemas") == [ERROR_URN]
                and parsed.get("status") == str(status)
            )
            if not ctype.startswith(SCIM_JSON) or not ok_body:
                self.problems.append(f"{method} {path} -> {status} without a SCIM error body: {raw[:200]!r}")
            if status in (429, 503) and not str(headers.get("Retry-After", "")).isdigit():
                self.problems.append(f"{method} {path} -> {status} without Retry-After")
        return parsed
