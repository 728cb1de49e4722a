"""CloudWatch metrics as embedded-metric-format (EMF) lines, through aws-lambda-powertools.

`EmfMetrics` is the `Metrics` port for Lambda: it buffers counters, gauges and timings
in memory and `flush` writes them as EMF JSON lines on standard output, which CloudWatch
Logs turns into metrics with no API call. Needs the ``lambda`` extra.
"""

from loc_adapters.emf.metrics import EmfMetrics

__all__ = ["EmfMetrics"]
