"""The recovery job after a billing run died, on DynamoDB, SQS and S3 (the moto server).

A billing run that dies between its commit and its announcement leaves the statement's
``loc_statement_ready`` event in the outbox; the recovery job publishes it again, and its
first handler files the statement's PDF in the documents bucket. So the deployed
recovery function must be allowed to write there, or that run only alerts and queues the
document for the worker (docs/deploy.md, IAM).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode.cfn_yaml import load
from fakes import CrashingNotifier, line_offer, opened_line
from scheduled_events import scheduled_event

from loc_adapters.memory import InMemoryUsers, ManualClock, RecordingNotifier
from loc_core.ports import Clock, Notifier, UnitOfWork, Users, statement_key
from loc_core.services.commands import BillClosedCycles
from loc_entrypoints.bootstrap import Settings, bootstrap
from loc_entrypoints.lambdas._runtime import Runtime
from loc_entrypoints.lambdas.catalog import by_module

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")
pytest.importorskip("fpdf", reason="the documents extra is not installed")

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
OPENED = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)
BILLED = dt.datetime(2026, 2, 5, 8, tzinfo=dt.UTC)


def granted(logical_id: str) -> list[dict[str, Any]]:
    """The statements of the template's inline policies of one function."""
    template = json.loads(json.dumps(load(str(TEMPLATE))))
    policies = template["Resources"][logical_id]["Properties"]["Policies"]
    return [statement for policy in policies for statement in policy["Statement"]]


def test_a_statement_announced_again_by_the_recovery_job_is_filed_where_it_may_write(
    lambda_env: dict[str, str], s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env(lambda_env)
    users = InMemoryUsers()
    users.add("user-1")
    died = CrashingNotifier(RecordingNotifier())
    billing = bootstrap(
        settings, overrides={Clock: ManualClock(BILLED), Users: users, Notifier: died}
    )
    with billing.get(UnitOfWork) as uow:
        uow.lines.add(opened_line(line_offer(OPENED), cycle_day=5))
        uow.commit(actor="test", request_id="line")
    billing.handle(BillClosedCycles())
    assert died.crashed  # the run died announcing what it committed
    key = statement_key("user-1", "line-1", BILLED.date())
    bucket = lambda_env["LOC_S3_DOCUMENTS_BUCKET"]
    s3.delete_object(Bucket=bucket, Key=key)  # and before it filed the PDF

    module = importlib.import_module("loc_entrypoints.lambdas.recovery_job")
    runtime = Runtime("recovery_job", environ=lambda_env)
    runtime.use(bootstrap(settings, overrides={Users: users}))
    monkeypatch.setattr(module, "RUNTIME", runtime)
    summary = module.handler(scheduled_event(dt.datetime.now(dt.UTC)), None)

    assert summary["republished"] >= 1
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    function = by_module("recovery_job")
    assert function.documents
    writes = [
        statement
        for statement in granted(function.name)
        if "s3:PutObject" in statement["Action"]
        and statement["Resource"] == {"Fn::Sub": "${DocumentsBucket.Arn}/*"}
    ]
    assert writes, "the recovery function writes statements it is not allowed to write"
