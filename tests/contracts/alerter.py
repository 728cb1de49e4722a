"""The `Alerter` contract: every alerter, seen from the channel that shows the alerts.

Fixtures: `alerter`, the adapter under test; `shown`, everything the channel shows once
the alerter has had the time to send what it holds (one string per message); `break_down`,
making the channel fail whatever comes next.
"""

from collections.abc import Callable

from loc_core.ports import Alert, Alerter, Severity

Shown = Callable[[], list[str]]


def storm(size: int = 100, critical_at: int = 37) -> list[Alert]:
    """`size` alerts, one of them critical."""
    return [
        Alert(
            Severity.CRITICAL if n == critical_at else Severity.WARNING,
            f"money moved but not booked on loan-{n}" if n == critical_at else f"job {n} slow",
            {"loan_id": f"loan-{n}"},
        )
        for n in range(size)
    ]


class AlerterContract:
    def test_an_alert_is_shown_with_its_title(self, alerter: Alerter, shown: Shown) -> None:
        alerter.alert(Alert(Severity.WARNING, "statement job late", {"line_id": "line-1"}))
        assert any("statement job late" in text for text in shown())

    def test_a_critical_alert_survives_a_storm_of_100(self, alerter: Alerter, shown: Shown) -> None:
        for alert in storm():
            alerter.alert(alert)
        assert any("money moved but not booked on loan-37" in text for text in shown())

    def test_alerting_never_raises_while_the_channel_is_down(
        self, alerter: Alerter, break_down: Callable[[], None]
    ) -> None:
        break_down()
        for alert in storm(10, critical_at=3):
            alerter.alert(alert)
