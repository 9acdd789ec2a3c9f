"""Per-call log lines: every failure and a sample of successes at INFO, for gRPC calls as for HTTP."""

from __future__ import annotations

import logging
from typing import Any

import grpc
import pytest
from suite_common.log_sampling import SuccessSampler, every_setting
from suite_common.metrics import GrpcServerMetrics, new_registry


def test_the_first_and_every_nth_success_per_kind_and_every_failure_are_info() -> None:
    sampler = SuccessSampler(3)
    levels = [sampler.level("a") for _ in range(7)]
    assert levels == [logging.INFO, logging.DEBUG, logging.DEBUG] * 2 + [logging.INFO]
    assert sampler.level("b") == logging.INFO  # kinds are counted apart
    assert sampler.level("a", failed=True) == logging.INFO
    assert sampler.fields() == {"sampled_every": 3} and sampler.fields(failed=True) == {}
    assert SuccessSampler(1).fields() == {} and SuccessSampler(0).every == 1


def test_the_setting_defaults_to_100_and_cannot_turn_logging_off() -> None:
    assert every_setting({}) == 100
    assert every_setting({"LOG_SUCCESS_EVERY": "1"}) == 1
    assert every_setting({"LOG_SUCCESS_EVERY": "0"}) == 1


class _Context:
    def __init__(self, code: grpc.StatusCode | None) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode | None:
        return self._code


async def test_grpc_calls_are_counted_every_time_and_logged_by_sample(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = new_registry()
    interceptor = GrpcServerMetrics(registry, log_every=4)

    async def behaviour(request: Any, context: Any) -> str:
        return "ok"

    handler = grpc.unary_unary_rpc_method_handler(behaviour)

    async def continuation(_: Any) -> Any:
        return handler

    class Details:
        method = "/scimsuite.directory.v1.DirectoryService/CreateResource"

    observed: Any = await interceptor.intercept_service(continuation, Details())  # type: ignore[arg-type]
    caplog.set_level(logging.DEBUG, logger="suite_common.metrics")
    for _ in range(9):
        await observed.unary_unary(None, _Context(None))
    await observed.unary_unary(None, _Context(grpc.StatusCode.NOT_FOUND))
    lines = [r for r in caplog.records if r.getMessage() == "rpc handled"]
    info = [r for r in lines if r.levelno == logging.INFO]
    assert [r.__dict__["grpc_code"] for r in info] == ["OK", "OK", "OK", "NOT_FOUND"]  # 1st, 5th, 9th
    assert len(lines) == 10
    handled = registry.get_sample_value(
        "grpc_server_handled_total",
        {
            "grpc_service": "scimsuite.directory.v1.DirectoryService",
            "grpc_method": "CreateResource",
            "grpc_code": "OK",
        },
    )
    assert handled == 9
