"""The Starlette application: routes under ``/api/v1`` and the request pipeline.

Every API request goes through :func:`_endpoint` around its handler (the module-level
functions of :mod:`~conformance.refserver.handlers`, over the server's
:class:`~conformance.refserver.services.Services`): authenticate (401), count it against the
rate limit (429), check the body's media type (415) and parse it (400), read
``x-tz-offset`` (400), run the sender with the clock's now, then the handler, all under the
services' lock so the sender never races a PUT. Handlers raise :class:`ApiError` for 4xx
answers. Unknown paths are 404 and unsupported methods on known paths 405, both JSON (a 404
is an HTML page under the ``not-found-body=html`` reading). Any other exception is a bug and
answers 500 ``{"error": ...}``.

A body without a ``Content-Type`` is parsed as JSON (the official client omits the header
when it sends no data); the routing answers 404/405 before authentication.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route, Router

from conformance.refserver.auth import authenticate
from conformance.refserver.dates import parse_tz_offset
from conformance.refserver.errors import ApiError, ValidationFailed, error_message_body
from conformance.refserver.handlers import ROUTES, Handler
from conformance.refserver.race_faults import RACE_FAULTS
from conformance.refserver.responses import NOT_FOUND_PAGE, JSONResponse
from conformance.refserver.services import Services

__all__ = ["JSONResponse", "build_app"]

logger = logging.getLogger(__name__)

OPENAPI_ROUTE = "/openapi.json"  # the OpenAPI document, beside (not under) /api/v1
UNAUTHORIZED = (
    "Authentication required: send an API key (HTTP Basic "
    "username, empty password) or an OAuth Bearer token."
)


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    content_type = request.headers.get("content-type")
    if raw and content_type is not None and not _is_json_media_type(content_type):
        raise ApiError(415, {"error": f"Unsupported media type {content_type!r}; send JSON."})
    if not raw.strip():
        raise ValidationFailed(None, "The request body must be a JSON object.")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ValidationFailed(None, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ValidationFailed(None, "The request body must be a JSON object.")
    return body


def _api_error(services: Services, error: ApiError, headers: dict[str, str]) -> Response:
    """The answer to a handler's 4xx, as the readings and faults shape it."""
    if error.status == 404 and services.readings["not-found-body"] == "html":
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404, headers=headers)
    body = error.body
    refusal = isinstance(error, ValidationFailed) and error.refusal
    if refusal and services.readings["error-body-shape"] == "error-message":
        body = error_message_body(body)
    if error.status == 400 and "error-body-detail" in services.faults:
        body = {"detail": error_message_body(error.body)["error"]}
    return JSONResponse(body, status_code=error.status, headers=headers)


def _endpoint(
    services: Services, handler: Handler, *, with_body: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """The request pipeline around ``handler``. With a race variant switched on
    (:data:`~conformance.refserver.race_faults.RACE_FAULTS`) the handler runs on a worker
    thread, so that its race window does not block the server's event loop."""
    racy = any(name in RACE_FAULTS for name in services.faults)

    async def run(request: Request) -> Response:
        headers: dict[str, str] = {}
        try:
            org = authenticate(request.headers.get("authorization"), services.orgs, services.faults)
            if org is None:
                key = "detail" if "unauthorized-without-error" in services.faults else "error"
                return JSONResponse(
                    {key: UNAUTHORIZED},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="api"'},
                )
            decision = services.limiter.hit(org.api_key, services.clock.now())
            headers = decision.headers(services.faults)
            if not decision.allowed:
                return JSONResponse(
                    {"error": "Rate limit exceeded; retry after the reset time."},
                    status_code=429,
                    headers=headers,
                )
            body = await _json_body(request) if with_body else None
            try:
                tz = parse_tz_offset(request.headers.get("x-tz-offset"))
            except ValueError as error:
                raise ValidationFailed("x-tz-offset", str(error)) from None

            def handle() -> Any:
                with services.lock:
                    now = services.clock.now()
                    services.run_sender(now)
                    return handler(services, services.context(org, now, tz), request, body)

            if racy:
                # A race variant lets go of the lock for a window mid-request: off the event
                # loop, so that other requests (over loopback HTTP, one loop) run inside it.
                result = await run_in_threadpool(handle)
            else:
                result = handle()
            if isinstance(result, Response):
                result.headers.update(headers)
                return result
            return JSONResponse(result, headers=headers)
        except ApiError as error:
            return _api_error(services, error, headers)
        except Exception:  # a bug: report it as a 5xx, as a real server would
            # With faults switched on a 500 is the point, not news: keep it quiet.
            log = logger.debug if services.faults else logger.exception
            log("reference server bug on %s %s", request.method, request.url, exc_info=True)
            return JSONResponse({"error": "Internal server error"}, status_code=500)

    return run


def _route(services: Services, path: str, methods: Mapping[str, Handler]) -> Route:
    handlers = {
        method.upper(): _endpoint(services, fn, with_body=method in ("post", "put"))
        for method, fn in methods.items()
    }

    async def dispatch(request: Request) -> Response:
        return await handlers[request.method if request.method != "HEAD" else "GET"](request)

    return Route(path, dispatch, methods=list(handlers))


async def _http_error(services: Services, request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if (
        exc.status_code == 405
        and request.method == "PATCH"
        and "patch-answers-404" in services.faults
    ):
        return JSONResponse({"error": "Not found"}, status_code=404)
    if exc.status_code == 404 and services.readings["not-found-body"] == "html":
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404, headers=exc.headers)
    message = "Not found" if exc.status_code == 404 else exc.detail
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "Internal server error"}, status_code=500)


async def _openapi(request: Request) -> Response:
    """The project's OpenAPI document for these endpoints, unauthenticated."""
    from conformance.openapi import load_openapi

    return JSONResponse(load_openapi())


def build_app(services: Services) -> Starlette:
    """Return the ASGI app serving the API over ``services`` under ``/api/v1``."""
    api = Router(
        routes=[_route(services, path, methods) for path, methods in ROUTES],
        redirect_slashes=False,
    )
    app = Starlette(
        routes=[Route(OPENAPI_ROUTE, _openapi, methods=["GET"]), Mount("/api/v1", app=api)],
        exception_handlers={
            HTTPException: partial(_http_error, services),
            Exception: _server_error,
        },
    )
    app.router.redirect_slashes = False
    return app
