"""`EmfMetrics`: the `Metrics` port as CloudWatch embedded-metric-format lines.

Each tag ``key:value`` becomes a dimension ``key=value`` (a tag without a colon becomes
``tag=<it>``); each distinct set of tags is one EMF object, with powertools' ``service``
dimension added. Counters are summed, gauges keep their last value and timings keep every
value (CloudWatch aggregates them), until `flush` writes them as JSON lines, one per tag
set unless it holds more than 99 metrics or a timing more than 99 values (EMF's limit is
100), and empties the buffer. The buffer flushes by
itself once it holds `max_series` series, so a long-lived process cannot grow it without
bound; a Lambda handler flushes at the end of every invocation.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from typing import IO

import attrs
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

__all__ = ["EmfMetrics"]

_PER_OBJECT = 99
"""Metrics one EMF object carries, and values one metric carries in it: EMF allows 100,
and powertools flushes by itself (to standard output) when an object reaches 100."""

Tags = tuple[str, ...]


@attrs.define
class EmfMetrics:
    """`Metrics` written as EMF JSON lines (see the module)."""

    namespace: str
    service: str = "loc"
    stream: IO[str] = attrs.field(factory=lambda: sys.stdout, repr=False)
    max_series: int = 500
    _counters: dict[Tags, dict[str, float]] = attrs.field(
        factory=lambda: defaultdict(dict), init=False
    )
    _gauges: dict[Tags, dict[str, float]] = attrs.field(
        factory=lambda: defaultdict(dict), init=False
    )
    _timings: dict[Tags, dict[str, list[float]]] = attrs.field(
        factory=lambda: defaultdict(dict), init=False
    )

    def increment(self, name: str, value: int = 1, *, tags: Sequence[str] = ()) -> None:
        """Add `value` to a counter."""
        series = self._counters[_key(tags)]
        series[name] = series.get(name, 0) + value
        self._bound()

    def gauge(self, name: str, value: int, *, tags: Sequence[str] = ()) -> None:
        """Set a gauge to `value`."""
        self._gauges[_key(tags)][name] = value
        self._bound()

    def timing(self, name: str, milliseconds: float, *, tags: Sequence[str] = ()) -> None:
        """Record how long something took."""
        self._timings[_key(tags)].setdefault(name, []).append(float(milliseconds))
        self._bound()

    @property
    def series(self) -> int:
        """Metric series buffered (a name under one tag set)."""
        return sum(
            len(by_name)
            for table in (self._counters, self._gauges, self._timings)
            for by_name in table.values()
        )

    def flush(self) -> int:
        """Write the buffer as EMF lines and empty it; returns the lines written."""
        lines = 0
        for tags in sorted({*self._counters, *self._gauges, *self._timings}):
            metrics: list[tuple[str, MetricUnit, list[float]]] = [
                (name, MetricUnit.Count, [value])
                for name, value in self._counters.get(tags, {}).items()
            ]
            metrics += [
                (name, MetricUnit.Count, [value])
                for name, value in self._gauges.get(tags, {}).items()
            ]
            metrics += [
                (name, MetricUnit.Milliseconds, values)
                for name, values in self._timings.get(tags, {}).items()
            ]
            rounds: dict[int, list[tuple[str, MetricUnit, list[float]]]] = defaultdict(list)
            for name, unit, values in metrics:
                for start in range(0, len(values), _PER_OBJECT):
                    rounds[start].append((name, unit, values[start : start + _PER_OBJECT]))
            for _, chunk in sorted(rounds.items()):
                for start in range(0, len(chunk), _PER_OBJECT):
                    self._write(tags, chunk[start : start + _PER_OBJECT])
                    lines += 1
        self._counters.clear()
        self._gauges.clear()
        self._timings.clear()
        return lines

    def _write(self, tags: Tags, metrics: list[tuple[str, MetricUnit, list[float]]]) -> None:
        emf = EphemeralMetrics(namespace=self.namespace, service=self.service)
        for tag in tags:
            dimension, _, value = tag.partition(":")
            emf.add_dimension(name=dimension if value else "tag", value=value or dimension)
        for name, unit, values in metrics:
            for number in values:
                emf.add_metric(name=name, unit=unit, value=number)
        self.stream.write(json.dumps(emf.serialize_metric_set(), separators=(",", ":")) + "\n")
        self.stream.flush()

    def _bound(self) -> None:
        if self.series >= self.max_series:
            self.flush()


def _key(tags: Sequence[str]) -> Tags:
    return tuple(sorted(tags))
