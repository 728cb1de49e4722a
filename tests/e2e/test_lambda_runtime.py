"""The Lambda runtime every handler shares, on the moto server: one bus per container,
built on first use from the settings, the request id on every line, metrics per
invocation written as EMF before the container freezes."""

import json

import attrs
import pytest
import structlog
from structlog.testing import capture_logs

from loc_core.services.commands import RecoverTransfers
from loc_entrypoints.lambdas._runtime import Runtime

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")


@attrs.frozen
class Context:
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_the_bus_is_built_once_on_first_use_and_each_invocation_is_logged_and_measured(
    lambda_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = Runtime("recovery_job", environ={**lambda_env, "LOC_METRICS_NAMESPACE": "Loc/E2E"})
    assert runtime._bus is None  # nothing built at import or construction
    runtime.bus()  # configures the process's logs first, so the capture below sees them
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        with runtime.invocation(Context("req-1")) as run:
            report = run.bus.handle(RecoverTransfers())
            run.processed += report.examined
            first = run.bus
        with runtime.invocation(Context("req-2")) as run:
            assert run.bus is first  # reused by the warm container
    assert {line["request_id"] for line in lines if "request_id" in line} == {"req-1", "req-2"}
    finished = [line for line in lines if line["event"] == "invocation finished"]
    assert [line["function"] for line in finished] == ["recovery_job", "recovery_job"]
    out = capsys.readouterr().out
    emf = [json.loads(text) for text in out.splitlines() if "_aws" in text]
    per_function = [line for line in emf if line.get("function") == "recovery_job"]
    assert len(per_function) == 2  # one flush per invocation
    assert [line["loc.command.RecoverTransfers"] for line in emf if "outcome" in line] == [[1.0]]
    assert all(line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Loc/E2E" for line in emf)
    assert structlog.contextvars.get_contextvars() == {}
