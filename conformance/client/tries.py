"""One try of a request: sent, read within its deadline and the body bound, recorded."""

from __future__ import annotations

import httpx

from conformance.client.bounds import _Bounds
from conformance.client.deadline import Deadline, DeadlinePassed, OpenAnswers, run_before_deadline
from conformance.client.errors import TargetRedirected
from conformance.client.recording import _Fetched, _record, _Try
from conformance.decoding import DecodedBody, UndecodableBody, read_decoded


class _Tries(_Bounds):
    """The one-try part of :class:`~conformance.client.ApiClient` (which sets ``http``)."""

    http: httpx.Client

    # -- one try ---------------------------------------------------------------------------

    def _exchange(self, request: httpx.Request) -> _Try:
        deadline = Deadline(self.deadline)
        held = OpenAnswers()
        try:
            if self.deadline is None:
                fetched = self._fetch(request, deadline, held)
            else:
                fetched = run_before_deadline(
                    lambda: self._fetch(request, deadline, held), deadline, abandon=held.abandon
                )
        except DeadlinePassed as error:
            return _Try(str(error), missed_deadline=True)
        response = fetched.response
        if response is None:
            return _Try(fetched.error, missed_deadline=fetched.missed_deadline)
        if response.is_redirect:
            location = response.headers.get("location", "(no Location)")[:300]
            raise TargetRedirected(
                f"the target redirects {request.method} {request.url.path} to "
                f"{location}; give the API's own URL "
                "as --base-url (redirects are never followed, so credentials stay put)"
            )
        self._pace(response.headers.get("ratelimit"))
        recorded, too_deep = _record(response, fetched.body)
        return _Try(None, recorded, cut=fetched.cut, too_deep=too_deep)

    def _fetch(self, request: httpx.Request, deadline: Deadline, held: OpenAnswers) -> _Fetched:
        """Send ``request`` and read its answer (on whatever thread: nothing here touches
        the client's counters)."""
        try:
            response = self.http.send(request, stream=True)
        except httpx.TimeoutException as error:
            return _Fetched(f"timeout ({type(error).__name__})")
        except httpx.TransportError as error:
            return _Fetched(f"no answer ({type(error).__name__})")
        held.hold(response)
        try:
            body = self._read(response, deadline)
        except DeadlinePassed as error:
            return _Fetched(str(error), missed_deadline=True)
        except UndecodableBody as error:
            return _Fetched(f"the answer could not be decoded ({error})")
        except httpx.HTTPError as error:
            return _Fetched(f"the answer broke off ({type(error).__name__})")
        finally:
            response.close()
        return _Fetched(None, response, body.content, cut=body.cut)

    def _read(self, response: httpx.Response, deadline: Deadline) -> DecodedBody:
        """The decoded body, at most ``max_body_bytes`` of it (read raw, decoded here).

        An answer built in memory (the in-process transport, test doubles built from
        bytes) comes already read, and decoded, by httpx: it is only cut, never decoded
        again here (whoever built it paid for its decoding). Over the network, and for
        streamed answers, nothing is decoded but by the bounded decoder."""
        if response.is_stream_consumed:
            try:
                content = response.content  # what httpx holds; reading it decodes nothing
            except httpx.ResponseNotRead:
                raise UndecodableBody("its body was consumed before the client read it") from None
            cut = len(content) > self.max_body_bytes
            return DecodedBody(content[: self.max_body_bytes], cut)
        encoding = response.headers.get("content-encoding")
        raw = deadline.watch(response.iter_raw())
        return read_decoded(raw, encoding, self.max_body_bytes)
