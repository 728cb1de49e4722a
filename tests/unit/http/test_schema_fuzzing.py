"""Schemathesis against the app in-process: every operation, positive and negative cases.

The test user owns a loan and a line, so generated requests reach real records as well
as missing ones. Every answer must be a documented status, of the documented content
type and schema, and never a server error.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from deployment import LINES_OPENED, Deployment
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.schemas import APIOperation

from loc_entrypoints.http import create_app
from loc_entrypoints.http.auth import mint_token

Case = schemathesis.Case[APIOperation[Any, Any, Any, Any]]
"""A generated request of one operation."""
EXAMPLES = 30
"""Examples per operation and generation mode."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _world() -> Deployment:
    """The fuzzer owns a loan with a payment and a line with a draw."""
    world = Deployment.build(now=LINES_OPENED, seed=5)
    world.pay_loan(world.open_loan("fuzzer"), 1_000)
    world.draw(world.open_line("fuzzer"), 5_000)
    return world


def _schema(mode: GenerationMode) -> schemathesis.BaseSchema:
    config = schemathesis.Config()
    config.projects.default.generation.update(modes=[mode])
    return schemathesis.openapi.from_asgi("/schema/openapi.json", APP, config=config)


APP = create_app(bus=_world().bus)
positive = _schema(GenerationMode.POSITIVE)
negative = _schema(GenerationMode.NEGATIVE)


def _call(case: Case, *, service: bool) -> None:
    token = mint_token("fuzzer", service=service)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@positive.parametrize()
@FUZZ
def test_valid_requests_of_a_borrower(case: Case) -> None:
    _call(case, service=False)


@negative.parametrize()
@FUZZ
def test_invalid_requests_of_a_borrower(case: Case) -> None:
    _call(case, service=False)


@positive.include(tag="operations").parametrize()
@FUZZ
def test_valid_requests_of_a_service(case: Case) -> None:
    _call(case, service=True)


@negative.include(tag="operations").parametrize()
@FUZZ
def test_invalid_requests_of_a_service(case: Case) -> None:
    _call(case, service=True)
