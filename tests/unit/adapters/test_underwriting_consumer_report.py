"""Underwriting's consumer-report part: read strictly when present, refused when malformed."""

from __future__ import annotations

from typing import Any

import pytest
from adverse_actions import REASONS, REPORT

from loc_core.errors import ExternalServiceError
from loc_core.ports import LineDecision, LoanDecision

pytest.importorskip("httpx", reason="the people extra is not installed")

from loc_adapters.people import contract

SCORE = {
    "value": 512,
    "low": 300,
    "high": 850,
    "created_on": "2026-03-04",
    "source": "Example Scoring Company",
    "key_factors": ["Serious delinquency", "Number of recent inquiries"],
}
PART = {
    "agency_name": "Example Credit Bureau",
    "agency_address": "PO Box 0000, Anytown, ST 00000",
    "agency_phone": "1-800-555-0199",
    "score": SCORE,
}
REJECTING = {"approved": False, "adverse_actions": [{"code": "INCOME", "text": "Income"}]}


def test_a_rejection_reads_the_report_it_used_and_round_trips() -> None:
    decision = contract.loan_decision({**REJECTING, "consumer_report": PART})
    report = decision.consumer_report
    assert report is not None
    assert (report.agency_name, report.agency_phone) == (PART["agency_name"], "1-800-555-0199")
    assert report.score is not None
    assert (report.score.value, report.score.low, report.score.high) == (512, 300, 850)
    assert report.score.created_on.isoformat() == "2026-03-04"
    assert report.score.key_factors == ("Serious delinquency", "Number of recent inquiries")
    line = contract.line_decision({**REJECTING, "consumer_report": {**PART, "score": None}})
    assert line.consumer_report is not None
    assert line.consumer_report.score is None  # a report used without a score
    assert contract.line_decision(REJECTING).consumer_report is None  # absent: none used
    loan = LoanDecision(approved=False, adverse_actions=REASONS, consumer_report=REPORT)
    assert contract.loan_decision(contract.loan_decision_body(loan)) == loan
    line = LineDecision(approved=False, adverse_actions=REASONS, consumer_report=REPORT)
    assert contract.line_decision(contract.line_decision_body(line)) == line


@pytest.mark.parametrize(
    "part",
    [
        "Example Credit Bureau",
        {**PART, "agency_phone": None},
        {**PART, "agency_name": ""},
        {**PART, "score": {**SCORE, "value": "512"}},
        {**PART, "score": {**SCORE, "value": 900}},
        {**PART, "score": {**SCORE, "low": 850, "high": 300}},
        {**PART, "score": {**SCORE, "created_on": "04/03/2026"}},
        {**PART, "score": {**SCORE, "key_factors": "Serious delinquency"}},
        {**PART, "score": {**SCORE, "key_factors": [1]}},
        {**PART, "score": {**SCORE, "key_factors": ["a", "b", "c", "d", "e"]}},
    ],
)
def test_a_malformed_consumer_report_is_refused_as_outside_the_contract(part: Any) -> None:
    for read in (contract.loan_decision, contract.line_decision):
        with pytest.raises(ExternalServiceError, match="outside its contract"):
            read({**REJECTING, "consumer_report": part})
