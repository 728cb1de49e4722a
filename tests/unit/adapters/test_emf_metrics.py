"""`EmfMetrics`: the metrics port as CloudWatch embedded-metric-format lines."""

import io
import json

import pytest

from loc_core.ports import Metrics

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")

from loc_adapters.emf import EmfMetrics


def emitted(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_counters_sum_and_each_tag_set_is_one_emf_object_with_its_dimensions() -> None:
    stream = io.StringIO()
    metrics: Metrics = EmfMetrics("loc-test", service="collections", stream=stream)
    metrics.increment("loc.command.MakePayment", tags=("outcome:ok",))
    metrics.increment("loc.command.MakePayment", 2, tags=("outcome:ok",))
    metrics.increment("loc.command.MakePayment", tags=("outcome:error",))
    metrics.timing("loc.handler.duration", 12.5, tags=("outcome:ok",))
    metrics.gauge("loc.queue.depth", 7)
    assert isinstance(metrics, EmfMetrics)
    assert metrics.flush() == 3
    by_outcome = {str(line.get("outcome", "")): line for line in emitted(stream)}
    ok = by_outcome["ok"]
    assert ok["loc.command.MakePayment"] == [3.0]
    assert ok["loc.handler.duration"] == [12.5]
    (directive,) = ok["_aws"]["CloudWatchMetrics"]  # type: ignore[index]  # EMF's shape
    assert directive["Namespace"] == "loc-test"
    assert directive["Dimensions"] == [["outcome", "service"]]
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units == {"loc.command.MakePayment": "Count", "loc.handler.duration": "Milliseconds"}
    assert by_outcome["error"]["loc.command.MakePayment"] == [1.0]
    assert by_outcome[""]["loc.queue.depth"] == [7.0]
    assert by_outcome[""]["service"] == "collections"


def test_flush_empties_the_buffer_and_an_empty_flush_writes_nothing() -> None:
    stream = io.StringIO()
    metrics = EmfMetrics("loc-test", stream=stream)
    metrics.increment("loc.x")
    metrics.flush()
    assert metrics.flush() == 0
    assert len(emitted(stream)) == 1


def test_more_than_a_hundred_metrics_of_one_tag_set_split_across_objects() -> None:
    stream = io.StringIO()
    metrics = EmfMetrics("loc-test", stream=stream)
    for n in range(150):
        metrics.increment(f"loc.metric.{n}")
    assert metrics.flush() == 2
    names = [
        len(line["_aws"]["CloudWatchMetrics"][0]["Metrics"])  # type: ignore[index]  # EMF's shape
        for line in emitted(stream)
    ]
    assert names == [99, 51]


def test_a_full_buffer_flushes_itself() -> None:
    stream = io.StringIO()
    metrics = EmfMetrics("loc-test", stream=stream, max_series=10)
    for n in range(25):
        metrics.increment(f"loc.metric.{n}")
    assert len(emitted(stream)) == 2
    assert metrics.series == 5


def test_a_timing_with_many_values_is_split_and_keeps_every_value() -> None:
    stream = io.StringIO()
    metrics = EmfMetrics("loc-test", stream=stream)
    for n in range(250):
        metrics.timing("loc.handler.duration", float(n))
    assert metrics.flush() == 3
    values = [value for line in emitted(stream) for value in line["loc.handler.duration"]]  # type: ignore[attr-defined]  # a list in EMF
    assert sorted(values) == [float(n) for n in range(250)]
