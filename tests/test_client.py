"""The client's hard bounds and its noise handling (conformance.client).

Answers come from ``httpx.MockTransport`` on a virtual clock (so waits for 429s and the
backoff between retries cost nothing), except where a real socket matters: the deadline,
against a loopback server that drips its body a byte at a time.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from conformance.client import (
    DEFAULT_DEADLINE,
    DELETED_BY_AN_EARLIER_TRY,
    MAX_MISSED_DEADLINES,
    AnswerTooLarge,
    ApiClient,
    Credentials,
    MalformedAnswer,
    NestedTooDeep,
    RateLimitedTooLong,
    RunAborted,
    TargetTooSlow,
    TimeBudgetExhausted,
    TooManyTransientErrors,
    decode_body,
    decode_body_checked,
    parse_ratelimit,
)
from conformance.clock import VirtualClock
from conformance.transport import SyncASGITransport

Handler = Callable[[httpx.Request], httpx.Response]
MB = 1 << 20


def client_over(handler: Handler, **options) -> ApiClient:
    """A client of ``https://target.test/api/v1`` answered by ``handler``, on a virtual clock."""
    http = httpx.Client(
        transport=httpx.MockTransport(handler), base_url="https://target.test/api/v1/"
    )
    return ApiClient(http, Credentials("key"), VirtualClock(), **options)


def answers(*responses: httpx.Response | Exception) -> Handler:
    """A handler giving ``responses`` in turn (the last one from then on); the requests it
    saw are in its ``seen``."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        handler.seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    handler.seen = []
    return handler


def ok() -> httpx.Response:
    return httpx.Response(200, json={"id": "acti_1"})


def rate_limited(retry_after: str | None = "60") -> httpx.Response:
    headers = {} if retry_after is None else {"retry-after": retry_after.encode("latin-1")}
    return httpx.Response(429, headers=headers, json={"error": "slow down"})


def streamed(body: bytes, **headers: str) -> httpx.Response:
    """An answer whose body arrives as a stream, still encoded, as over the network."""
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    return httpx.Response(
        200, content=iter(chunks), headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


# -- bodies: decoded here, within the bound ----------------------------------------------------


def test_a_stacked_gzip_bomb_is_read_no_further_than_the_bound_and_stops_the_run():
    bomb = gzip.compress(gzip.compress(bytes(MB)) * 1024)  # 1 GB of zeros in a few KB
    api = client_over(lambda request: streamed(bomb, content_encoding="gzip, gzip"))
    tracemalloc.start()
    try:
        with pytest.raises(AnswerTooLarge, match="the bound was hit"):
            api.send("GET", "activity/sms/acti_1/")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MB  # the 1 MB bound and a little; 1 GB without it


def test_a_gzipped_answer_is_decoded_and_judged_as_json():
    body = gzip.compress(b'{"id": "acti_1"}')
    api = client_over(lambda request: streamed(body, content_encoding="gzip"))
    exchange, _ = api.send("GET", "activity/sms/acti_1/")
    assert exchange.response.body == {"id": "acti_1"}


def test_the_client_asks_only_for_the_codings_it_decodes():
    handler = answers(ok())
    client_over(handler).send("GET", "activity/sms/")
    assert handler.seen[0].headers["accept-encoding"] == "gzip, deflate"


def test_an_answer_in_a_coding_nobody_asked_for_is_no_answer_not_a_crash():
    api = client_over(lambda request: streamed(b"\x1b\x00\x00brotli", content_encoding="br"))
    exchange, _ = api.send("POST", "activity/sms/", json_body={"text": "x"})
    assert exchange.response is None
    assert "could not be decoded" in exchange.error
    assert "'br'" in exchange.error
    assert api.transient == 1


def test_an_answer_longer_than_the_bound_stops_the_run_naming_the_request_and_the_bound():
    pulled = []

    def chunks():
        for _ in range(100):
            pulled.append(1)
            yield b"x" * 1000

    api = client_over(
        lambda request: httpx.Response(200, content=chunks()), max_body_bytes=1_000_000 // 500
    )
    with pytest.raises(AnswerTooLarge) as stopped:
        api.send("GET", "activity/sms/acti_1/")
    assert str(stopped.value).startswith(
        "GET activity/sms/acti_1/ answered more than 2,000 bytes (decoded); the bound was hit"
    )
    assert isinstance(stopped.value, RunAborted)
    assert len(pulled) <= 3  # read up to the bound, no further


def test_an_answer_built_in_memory_longer_than_the_bound_stops_the_run_too():
    api = client_over(lambda request: httpx.Response(200, content=b"x" * 5000), max_body_bytes=100)
    with pytest.raises(AnswerTooLarge, match="more than 100 bytes"):
        api.send("GET", "activity/sms/", params={"lead_id": "lead_1"})


def test_an_answer_exactly_at_the_bound_is_judged():
    api = client_over(lambda request: streamed(b"x" * 100), max_body_bytes=100)
    exchange, _ = api.send("GET", "activity/sms/acti_1/")
    assert exchange.response.body == "x" * 100
    assert exchange.error is None


def test_a_clean_up_delete_answered_past_the_bound_keeps_its_status_and_says_why():
    api = client_over(lambda request: streamed(b"x" * 5000), max_body_bytes=100)
    exchange, _ = api.send("DELETE", "lead/lead_1/")
    assert exchange.response.status_code == 200  # deleted: clean-up goes by the status
    assert "answered more than 100 bytes (decoded); the bound was hit" in exchange.error


# -- answers that must not crash the client ----------------------------------------------------


def test_a_ratelimit_header_with_a_malformed_number_is_ignored():
    assert parse_ratelimit("limit=1, remaining=0, reset=1.2.3") is None
    assert parse_ratelimit("limit=., remaining=0, reset=1") is None
    assert parse_ratelimit("limit=10, remaining=0, reset=2") == {
        "limit": 10.0,
        "remaining": 0.0,
        "reset": 2.0,
    }


NESTED = [
    pytest.param(b"[" * 100_000, id="unclosed"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="closed"),
]


@pytest.mark.parametrize("body", NESTED)
def test_json_nested_deeper_than_python_goes_is_kept_as_cut_text(body):
    assert decode_body(body) == "[" * 4000


@pytest.mark.parametrize("body", NESTED)
def test_json_nested_deeper_than_python_goes_is_told_apart_by_the_checked_decoder(body):
    with pytest.raises(NestedTooDeep):
        decode_body_checked(body)
    assert decode_body_checked(b"[[1]]") == [[1]]
    assert decode_body_checked(b"[[1") == "[[1"  # malformed, not too deep: text
    assert decode_body_checked(b"") is None


@pytest.mark.parametrize("body", NESTED)
def test_a_deeply_nested_answer_stops_the_run_naming_the_request(body):
    api = client_over(lambda request: httpx.Response(200, content=body))
    with pytest.raises(MalformedAnswer) as stopped:
        api.send("GET", "activity/sms/", params={"lead_id": "lead_1"})
    assert str(stopped.value).startswith("GET activity/sms/?lead_id=lead_1 answered JSON nested")


def test_a_deeply_nested_answer_to_a_clean_up_delete_is_noise_not_an_abort():
    api = client_over(lambda request: httpx.Response(200, content=b"[" * 100_000))
    exchange, _ = api.send("DELETE", "lead/lead_1/")
    assert exchange.response.status_code == 200
    assert exchange.response.body == "[" * 4000
    assert "nested deeper than the suite can parse" in exchange.error


HOSTILE_RETRY_AFTER = [
    "abc", "", "-5", "nan", "inf", "-inf", "1e999", "9" * 5000, "5, 10",
    "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT",
    "Mon, 99 Foo 2015 07:28:00 GMT", "\u00e9t\u00e9",
]  # fmt: skip


@pytest.mark.parametrize("retry_after", HOSTILE_RETRY_AFTER)
def test_any_retry_after_waits_between_nothing_and_a_minute(retry_after):
    api = client_over(answers(rate_limited(retry_after), ok()))
    before = api.clock.now()
    exchange, _ = api.send("GET", "activity/sms/")
    waited = (api.clock.now() - before).total_seconds()
    assert exchange.response.status_code == 200
    assert 0 <= waited <= 60 + 0.001
    assert api.rate_limit_waited == pytest.approx(waited, abs=0.01)


@pytest.mark.parametrize(
    "ratelimit",
    ["limit=1, remaining=0, reset=1.2.3", "limit=1, remaining=0, reset=" + "9" * 400, "garbage",
     "limit=1;remaining=0;reset=0"],
)  # fmt: skip
def test_any_ratelimit_header_on_an_answer_is_survived(ratelimit):
    api = client_over(lambda request: httpx.Response(200, headers={"ratelimit": ratelimit}))
    api.send("GET", "activity/sms/")
    before = api.clock.now()
    api.send("GET", "activity/sms/")
    assert 0 <= (api.clock.now() - before).total_seconds() <= 60


def test_a_redirect_to_a_huge_location_names_only_its_start():
    from conformance.client import TargetRedirected

    location = "https://evil.test/" + "a" * 20_000
    api = client_over(lambda request: httpx.Response(307, headers={"location": location}))
    with pytest.raises(TargetRedirected) as stopped:
        api.send("GET", "activity/sms/")
    assert len(str(stopped.value)) < 600


# -- 429s -----------------------------------------------------------------------------------------


def test_a_429_that_outlasts_the_waits_is_noise_not_the_answer():
    api = client_over(answers(rate_limited("1")), max_rate_limit_waits=5)
    exchange, _ = api.send("GET", "activity/sms/")
    assert exchange.response is None
    assert exchange.error.startswith("still rate limited after 5 waits")
    assert len(api.last_throttled) == 6  # every 429 seen, for the throttling rules
    assert api.transient >= 1


def test_waiting_for_429s_stops_the_run_at_the_total_bound():
    api = client_over(answers(rate_limited("60")), max_rate_limit_wait_total=300)
    started = api.clock.now()
    exchange, _ = api.send("GET", "activity/sms/")  # five waits of 60 s: the whole allowance
    assert exchange.response is None
    with pytest.raises(RateLimitedTooLong, match="300 s waited") as stopped:
        api.send("GET", "activity/sms/")
    assert "bound of 300 s" in str(stopped.value)
    assert (api.clock.now() - started).total_seconds() <= 300


def test_a_remote_client_bounds_its_waits_for_the_rate_limit_by_default():
    api = client_over(answers(rate_limited("60")))
    assert api.max_rate_limit_wait_total == 300
    with pytest.raises(RateLimitedTooLong):
        for _ in range(10):
            api.send("GET", "activity/sms/")
    assert api.rate_limit_waited <= 300


def test_a_clean_up_delete_past_the_wait_bound_is_noise_not_an_abort():
    api = client_over(answers(rate_limited("60")), max_rate_limit_wait_total=30)
    exchange, _ = api.send("DELETE", "lead/lead_1/")
    assert exchange.response is None
    assert "still rate limited" in exchange.error


def test_429s_count_towards_the_noise_limit_when_the_client_paces_itself():
    api = client_over(answers(rate_limited("0")), max_transient=3, max_rate_limit_waits=100)
    with pytest.raises(TooManyTransientErrors, match="429"):
        api.send("GET", "activity/sms/")
    assert api.transient == 4


def test_the_embedded_target_provokes_429s_without_counting_them_as_noise():
    api = client_over(answers(rate_limited("1"), ok()), pace=False)
    exchange, _ = api.send("GET", "activity/sms/")
    assert exchange.response.status_code == 200
    assert [throttled.response.status_code for throttled in api.last_throttled] == [429]
    assert api.transient == 0
    assert api.rate_limited == 1


def test_waiting_for_a_ratelimit_reset_counts_towards_the_wait_bound():
    paced = httpx.Response(200, headers={"ratelimit": "limit=10, remaining=0, reset=50"})
    api = client_over(answers(paced), max_rate_limit_wait_total=120)
    api.send("GET", "activity/sms/")
    api.send("GET", "activity/sms/")  # waited 50 s first
    api.send("GET", "activity/sms/")  # and 50 more
    with pytest.raises(RateLimitedTooLong):
        api.send("GET", "activity/sms/")
    assert api.rate_limit_waited == 100


# -- the run's time ---------------------------------------------------------------------------


def test_past_the_runs_time_bound_the_next_request_stops_the_run_but_clean_up_goes_on():
    api = client_over(answers(ok()), max_seconds=600)
    api.send("GET", "activity/sms/")
    api.clock.sleep(601)
    with pytest.raises(TimeBudgetExhausted, match="600 s"):
        api.send("GET", "activity/sms/")
    exchange, _ = api.send("DELETE", "lead/lead_1/")
    assert exchange.response.status_code == 200


def test_without_a_time_bound_a_run_may_take_as_long_as_it_takes():
    api = client_over(answers(ok()))
    api.send("GET", "activity/sms/")
    api.clock.sleep(10**7)
    api.send("GET", "activity/sms/")


# -- DELETE is retried, like GET --------------------------------------------------------------


def test_a_delete_answered_503_is_retried_until_it_goes_through():
    handler = answers(httpx.Response(503), httpx.Response(503), httpx.Response(204))
    api = client_over(handler)
    exchange, _ = api.send("DELETE", "lead/lead_1/")
    assert exchange.response.status_code == 204
    assert exchange.error is None
    assert len(handler.seen) == 3
    assert api.transient == 2


def test_a_delete_that_timed_out_is_retried():
    handler = answers(httpx.ReadTimeout("slow"), httpx.Response(204))
    exchange, _ = client_over(handler).send("DELETE", "lead/lead_1/")
    assert exchange.response.status_code == 204


def test_a_retried_delete_answered_404_was_deleted_by_the_earlier_try():
    handler = answers(httpx.Response(503), httpx.Response(404))
    exchange, _ = client_over(handler).send("DELETE", "activity/sms/acti_1/")
    assert exchange.response.status_code == 404
    assert exchange.error.startswith(DELETED_BY_AN_EARLIER_TRY)
    assert "503" in exchange.error


def test_a_delete_answered_404_at_once_is_just_a_404():
    exchange, _ = client_over(answers(httpx.Response(404))).send("DELETE", "lead/lead_1/")
    assert exchange.response.status_code == 404
    assert exchange.error is None


def test_a_post_is_never_retried():
    handler = answers(httpx.Response(503), ok())
    exchange, _ = client_over(handler).send("POST", "activity/sms/", json_body={"text": "x"})
    assert exchange.response.status_code == 503
    assert len(handler.seen) == 1


# -- the deadline ---------------------------------------------------------------------------------


class Drip:
    """What a test gets from :func:`drip_server`: its URL, and whether a client hung up."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.hung_up = threading.Event()


@contextmanager
def drip_server(
    *, every: float = 0.2, content_length: int = 1000, whole: tuple[str, ...] = ()
) -> Iterator[Drip]:
    """A loopback HTTP server whose answers send their headers at once, then one byte of
    body every ``every`` seconds; requests with a method in ``whole`` are answered at once."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()
    drip = Drip(f"http://127.0.0.1:{server.getsockname()[1]}/api/v1/")

    def answer(conn: socket.socket) -> None:
        with conn:
            method = conn.recv(65536).split(b" ", 1)[0].decode()
            if method in whole:
                conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                return
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {content_length}\r\n\r\n"
            try:
                conn.sendall(head.encode())
                while not stop.is_set():
                    conn.sendall(b"x")
                    time.sleep(every)
            except OSError:
                drip.hung_up.set()  # the client hung up, as it should

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield drip
    finally:
        stop.set()
        thread.join(2)
        server.close()


def real_client(base_url: str, **options) -> ApiClient:
    http = httpx.Client(base_url=base_url, timeout=5.0)  # each read well within 5 s
    return ApiClient(http, Credentials("key"), VirtualClock(), **options)


def test_a_body_dripped_a_byte_at_a_time_ends_at_the_deadline():
    with drip_server() as drip:
        api = real_client(drip.base_url, deadline=1.0)
        started = time.monotonic()
        exchange, _ = api.send("POST", "activity/sms/", json_body={"text": "x"})
        took = time.monotonic() - started
        assert drip.hung_up.wait(2), "the abandoned answer was never closed"
    assert exchange.response is None
    assert exchange.error == "no answer (deadline of 1 s passed)"
    assert api.transient == 1
    assert took < 1.5


def test_a_clean_up_delete_to_a_drip_fed_body_is_retried_once_and_then_given_up():
    with drip_server() as drip:
        api = real_client(drip.base_url, deadline=0.3)
        started = time.monotonic()
        exchange, _ = api.send("DELETE", "lead/lead_1/")
        took = time.monotonic() - started
    assert exchange.response is None
    assert "deadline of 0.3 s passed" in exchange.error
    assert api.requests == 2  # its deadline passed twice: not asked a third time
    assert took < 1.5


def test_a_get_whose_deadline_passed_twice_is_not_retried_again():
    with drip_server() as drip:
        api = real_client(drip.base_url, deadline=0.2)
        exchange, _ = api.send("GET", "activity/sms/acti_1/")
    assert exchange.response is None
    assert api.requests == 2
    assert api.missed_deadlines == 2


def test_after_three_missed_deadlines_the_run_stops_but_clean_up_deletes_still_go_out():
    with drip_server(whole=("DELETE",)) as drip:
        api = real_client(drip.base_url, deadline=0.2)
        started = time.monotonic()
        api.send("GET", "activity/sms/acti_1/")  # two tries, two deadlines
        api.send("POST", "activity/sms/", json_body={"text": "x"})  # one more
        assert api.missed_deadlines == MAX_MISSED_DEADLINES
        with pytest.raises(TargetTooSlow) as stopped:
            api.send("GET", "activity/sms/acti_2/")
        assert api.requests == 3  # stopped before sending it
        message = str(stopped.value)
        assert "3 requests missed their deadline of 0.2 s" in message
        assert "POST activity/sms/" in message  # the last one that missed
        exchange, _ = api.send("DELETE", "lead/lead_1/")  # clean-up: still sent
        assert exchange.response.status_code == 204
        with pytest.raises(TargetTooSlow):
            api.send("PUT", "activity/sms/acti_1/", json_body={"text": "y"})
        took = time.monotonic() - started
    assert isinstance(stopped.value, RunAborted)
    assert took < 3


def test_a_get_retried_after_missed_deadlines_stops_once_the_bound_is_reached():
    with drip_server() as drip:
        api = real_client(drip.base_url, deadline=0.2)
        api.send("POST", "activity/sms/", json_body={"text": "x"})
        api.send("POST", "activity/sms/", json_body={"text": "x"})
        with pytest.raises(TargetTooSlow):
            api.send("GET", "activity/sms/acti_1/")  # its first try is the third miss
    assert api.requests == 3


def test_a_remote_client_has_a_deadline_by_default():
    assert real_client("http://127.0.0.1:9/api/v1/").deadline == DEFAULT_DEADLINE == 20


def test_the_in_process_transport_answers_on_the_calling_thread_without_a_deadline():
    threads = []

    async def app(scope, receive, send):
        threads.append(threading.get_ident())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    http = httpx.Client(transport=SyncASGITransport(app), base_url="http://ref/api/v1/")
    api = ApiClient(http, Credentials("key"), VirtualClock(), pace=False)
    assert api.deadline is None
    assert api.max_rate_limit_wait_total is None
    exchange, _ = api.send("GET", "activity/sms/")
    assert exchange.response.body == {}
    assert threads == [threading.get_ident()]


# -- timing of each exchange -------------------------------------------------------------------


def test_each_exchange_carries_its_real_elapsed_time_even_on_a_virtual_clock():
    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)
        return ok()

    client = client_over(slow)
    exchange, window = client.send("GET", "activity/sms/acti_1/")
    assert window.start == window.end  # the run's clock did not move
    assert 0.05 <= exchange.elapsed < 5
    assert exchange.sent_at == window.start.isoformat()


def test_an_exchange_over_http_carries_its_measured_elapsed_time(reference_over_http):
    from conformance.clock import SystemClock

    with reference_over_http() as base_url:
        http = httpx.Client(base_url=base_url + "/")
        client = ApiClient(http, Credentials("ref-key-org-a"), SystemClock())
        try:
            exchange, _ = client.send("GET", "me/")
        finally:
            http.close()
    assert exchange.response is not None and exchange.response.status_code == 200
    assert 0 < exchange.elapsed < 5
