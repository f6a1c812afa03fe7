"""What a Cloud API refusal means: Meta's error code first, the HTTP status only for codes tidings does not know."""

from __future__ import annotations

import pytest

from tidings_whatsapp.codes import classify, details_of

from .conftest import meta_error


@pytest.mark.parametrize(("code", "status", "reason"), [
    (130429, 400, "rate_limited"),        # throughput: Meta answers 400, and a later attempt goes through
    (131048, 400, "rate_limited"),
    (131056, 400, "rate_limited"),
    (80007, 400, "rate_limited"),
    (131000, 500, "provider_unavailable"),
    (131016, 503, "provider_unavailable"),
])
def test_meta_throttling_and_outages_are_transient_whatever_the_status(code: int, status: int, reason: str) -> None:
    failure = classify(status, meta_error(code, "x"))
    assert failure.transient and failure.reason == reason


@pytest.mark.parametrize(("code", "status", "reason"), [
    (190, 401, "provider_auth"),
    (0, 401, "provider_auth"),
    (10, 403, "provider_auth"),
    (200, 403, "provider_auth"),
    (131026, 400, "undeliverable"),
    (131047, 400, "reengagement_required"),
    (131030, 400, "recipient_not_allowed"),
    (131021, 400, "invalid_address"),
    (131050, 400, "recipient_opted_out"),
    (132000, 400, "template_params_mismatch"),
    (132001, 404, "template_not_found"),
    (132012, 400, "template_params_format"),
    (132015, 400, "template_paused"),
    (132016, 400, "template_disabled"),
    (132999, 400, "template_error"),
    (131026, 500, "undeliverable"),       # the code decides, not a status that says "try again"
])
def test_refusals_no_retry_changes_are_permanent_with_their_reasons(code: int, status: int, reason: str) -> None:
    failure = classify(status, meta_error(code, "x"))
    assert not failure.transient and failure.reason == reason


@pytest.mark.parametrize(("status", "answer", "transient", "reason"), [
    (502, {}, True, "provider_unavailable"),            # a proxy's HTML page: no JSON at all
    (429, {}, True, "rate_limited"),
    (400, meta_error(100, "Invalid parameter"), False, "provider_rejected"),
    (401, {}, False, "provider_auth"),
])
def test_an_unknown_or_missing_code_is_read_by_the_http_status(
        status: int, answer: dict[str, object], transient: bool, reason: str) -> None:
    failure = classify(status, answer)
    assert (failure.transient, failure.reason) == (transient, reason)


def test_a_transient_code_keeps_the_seconds_of_a_retry_after_header() -> None:
    assert classify(400, meta_error(130429, "Rate limit hit"), "30").retry_after == 30.0
    assert classify(400, meta_error(130429, "Rate limit hit")).retry_after is None


def test_details_keep_the_code_title_details_and_trace_id() -> None:
    answer = meta_error(131047, "Re-engagement message", details="More than 24 hours have passed since the customer "
                                                                 "last replied to this number.")
    assert details_of(400, answer) == {"provider": "whatsapp", "status": 400, "code": 131047,
                                       "message": "(#131047) Re-engagement message",
                                       "details": "More than 24 hours have passed since the customer last replied "
                                                  "to this number.", "fbtrace_id": "AbCdEf123"}
