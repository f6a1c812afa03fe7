"""The kit's local HTTP service: what it records, how it answers, and that it keeps connections alive."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tidings.testing import LocalHttpService, Reply, Request


class Echo(LocalHttpService):
    """Answers 201 with the path and how many requests came so far."""

    def respond(self, request: Request) -> Reply:
        return Reply(201, {"path": request.path, "n": len(self.requests)})


StartService = Callable[[LocalHttpService], LocalHttpService]


def test_a_request_is_recorded_with_its_method_path_headers_form_and_basic_auth(start_service: StartService) -> None:
    service = start_service(Echo())
    with httpx.Client(base_url=service.url, auth=("AC123", "s3cret")) as client:
        response = client.post("/v1/messages?x=1", data={"To": "+48600100200", "Body": "Hi"}, headers={"X-Key": "k-1"})

    assert response.status_code == 201 and response.json() == {"path": "/v1/messages?x=1", "n": 1}
    [request] = service.requests
    assert (request.method, request.path) == ("POST", "/v1/messages?x=1")
    assert request.headers["x-key"] == "k-1"                        # names lower-cased
    assert request.form == {"To": "+48600100200", "Body": "Hi"}
    assert request.auth == ("AC123", "s3cret")


def test_a_json_body_is_read_as_json_and_a_request_without_auth_has_none(start_service: StartService) -> None:
    service = start_service(Echo())
    httpx.put(f"{service.url}/hook", json={"parts": {"text": "Zażółć"}}).raise_for_status()
    [request] = service.requests
    assert request.json == {"parts": {"text": "Zażółć"}} and request.auth is None


def test_a_kept_alive_client_sends_every_request_on_one_connection(start_service: StartService) -> None:
    service = start_service(Echo())
    with httpx.Client(base_url=service.url) as client:
        for _ in range(3):
            client.get("/ping").raise_for_status()
    assert len(service.requests) == 3 and len(service.connections()) == 1


def test_scripted_answers_come_first_once_each_then_the_protocol_answers(start_service: StartService) -> None:
    # Given a service told to be busy, then to limit the rate
    service = start_service(Echo())
    service.then(503, {"error": "busy"}, headers={"Retry-After": "7"})
    service.then(429, "slow down")

    # When three requests come
    with httpx.Client(base_url=service.url) as client:
        answers = [client.post("/m", content=b"x") for _ in range(3)]

    # Then each scripted answer is given once, in order, and the third is the protocol's own
    assert [a.status_code for a in answers] == [503, 429, 201]
    assert answers[0].headers["retry-after"] == "7" and answers[0].json() == {"error": "busy"}
    assert answers[1].text == "slow down" and answers[1].headers["content-type"].startswith("text/plain")
    assert service.accepted() == [service.requests[2]]


def test_a_hung_answer_outlasts_the_clients_timeout_and_the_next_request_is_answered(start_service: StartService) -> None:
    service = start_service(Echo())
    service.then(201, hang=True)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{service.url}/m", timeout=0.3)
    assert httpx.post(f"{service.url}/m", timeout=5).status_code == 201


def test_a_service_that_is_not_started_says_how_to_start_it() -> None:
    with pytest.raises(RuntimeError, match=r"Echo is not started: call start\(\) or use it in a with block"):
        Echo().url


def test_a_service_used_as_a_context_manager_stops_on_the_way_out() -> None:
    with Echo() as service:
        url = service.url
        assert httpx.get(url).status_code == 201
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


@pytest.mark.parametrize(("body", "payload", "kind"), [
    (None, b"", None),
    (b"\x00\x01", b"\x00\x01", "application/octet-stream"),
    ("Zażółć", "Zażółć".encode(), "text/plain; charset=utf-8"),
    ({"id": "m-1"}, b'{"id": "m-1"}', "application/json"),
])
def test_a_reply_body_is_sent_by_its_type_with_its_length(body: object, payload: bytes, kind: str | None) -> None:
    encoded, headers = Reply(200, body).encoded()
    assert encoded == payload
    assert headers.get("Content-Type") == kind and headers["Content-Length"] == str(len(payload))


def test_a_reply_header_replaces_the_default_content_type() -> None:
    _, headers = Reply(200, {"a": 1}, headers={"Content-Type": "application/problem+json"}).encoded()
    assert headers["Content-Type"] == "application/problem+json"


def test_a_client_that_drops_its_connection_is_no_error_but_a_failing_handler_is(
        start_service: StartService, capsys: pytest.CaptureFixture[str]) -> None:
    service = start_service(Echo())
    assert service.server is not None
    try:
        raise ConnectionResetError(104, "Connection reset by peer")   # a killed worker's connection
    except ConnectionResetError:
        service.server.handle_error(None, ("127.0.0.1", 40000))
    assert capsys.readouterr().err == ""
    try:
        raise ValueError("the service's own bug")
    except ValueError:
        service.server.handle_error(None, ("127.0.0.1", 40000))
    assert "ValueError: the service's own bug" in capsys.readouterr().err
