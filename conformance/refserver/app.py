"""The Starlette application: routes under ``/api/v1`` and the request pipeline.

Every API request goes through :func:`_endpoint`: authenticate (401), count it against the
rate limit (429), check the body's media type (415) and parse it (400), read
``x-tz-offset`` (400), run the sender with the clock's now, then the handler, all under the
server's lock so the sender never races a PUT. Handlers raise :class:`ApiError` for 4xx
answers. Unknown paths are 404 and unsupported methods on known paths 405, both JSON (a 404
is an HTML page under the ``not-found-body=html`` reading). Any other exception is a bug and
answers 500 ``{"error": ...}``.

A body without a ``Content-Type`` is parsed as JSON (the official client omits the header
when it sends no data); the routing answers 404/405 before authentication.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route, Router

from conformance.refserver.auth import authenticate
from conformance.refserver.context import RequestContext
from conformance.refserver.dates import at_precision, parse_tz_offset
from conformance.refserver.errors import (
    ApiError,
    NotFound,
    ValidationFailed,
    error_message_body,
)
from conformance.refserver.listing import page, sms_list, trim_fields
from conformance.refserver.seed import phone_number_documents, user_document

if TYPE_CHECKING:
    from conformance.refserver.server import ReferenceServer

__all__ = ["JSONResponse", "build_app"]

logger = logging.getLogger(__name__)

Handler = Callable[[RequestContext, Request, Any], Response | dict[str, Any]]


class JSONResponse(Response):
    """``application/json``; falls back to ASCII escapes for text UTF-8 cannot encode
    (lone surrogates sent as ``\\ud800`` escapes round-trip unchanged)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


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


# The 404 answer under the not-found-body=html reading (the docs leave the 404 body open).
NOT_FOUND_PAGE = "<html><body><h1>404 Not Found</h1></body></html>"

OPENAPI_ROUTE = "/openapi.json"  # the OpenAPI document, beside (not under) /api/v1

# fault -> (status asked for on create, status stored instead; None: refused)
STATUS_MIX_UPS = {
    "inbox-stored-as-sent": ("inbox", "sent"),
    "draft-create-refused": ("draft", None),
    "scheduled-stored-as-draft": ("scheduled", "draft"),
    "outbox-create-refused": ("outbox", None),
    "sent-stored-as-inbox": ("sent", "inbox"),
}


def build_app(server: ReferenceServer) -> Starlette:
    """Return the ASGI app serving ``server``'s API under ``/api/v1``."""

    def _endpoint(handler: Handler, *, with_body: bool = False) -> Callable[..., Awaitable]:
        async def run(request: Request) -> Response:
            headers: dict[str, str] = {}
            try:
                org = authenticate(request.headers.get("authorization"), server.orgs, server.faults)
                if org is None:
                    message = (
                        "Authentication required: send an API key (HTTP Basic "
                        "username, empty password) or an OAuth Bearer token."
                    )
                    key = "detail" if "unauthorized-without-error" in server.faults else "error"
                    return JSONResponse(
                        {key: message},
                        status_code=401,
                        headers={"WWW-Authenticate": 'Basic realm="api"'},
                    )
                decision = server.limiter.hit(org.api_key, server.clock.now())
                headers = decision.headers(server.faults)
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
                with server.lock:
                    now = server.clock.now()
                    server.run_sender(now)
                    ctx = RequestContext(
                        org=org,
                        # The time the request's writes are stamped with, at the precision
                        # the server keeps times (the time-precision reading).
                        now=at_precision(now, server.readings["time-precision"]),
                        tz=tz,
                        faults=server.faults,
                        new_id=server.new_id,
                        readings=server.readings,
                        settle=server.settle,
                    )
                    result = handler(ctx, request, body)
                if isinstance(result, Response):
                    result.headers.update(headers)
                    return result
                return JSONResponse(result, headers=headers)
            except ApiError as error:
                if error.status == 404 and server.readings["not-found-body"] == "html":
                    return HTMLResponse(NOT_FOUND_PAGE, status_code=404, headers=headers)
                body = error.body
                refusal = isinstance(error, ValidationFailed) and error.refusal
                if refusal and server.readings["error-body-shape"] == "error-message":
                    body = error_message_body(body)
                if error.status == 400 and "error-body-detail" in server.faults:
                    body = {"detail": error_message_body(error.body)["error"]}
                return JSONResponse(body, status_code=error.status, headers=headers)
            except Exception:  # a bug: report it as a 5xx, as a real server would
                # With faults switched on a 500 is the point, not news: keep it quiet.
                log = logger.debug if server.faults else logger.exception
                log("reference server bug on %s %s", request.method, request.url, exc_info=True)
                return JSONResponse({"error": "Internal server error"}, status_code=500)

        return run

    sms, crm = server.sms, server.crm

    def path_id(request: Request) -> str:
        return request.path_params["id"]

    def fields(request: Request) -> str | None:
        return request.query_params.get("_fields")

    # -- SMS --------------------------------------------------------------------------

    def list_sms(ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
        page = sms_list(server.storage, ctx, request.query_params)
        if "has-more-as-string" in ctx.faults:
            page["has_more"] = str(page["has_more"]).lower()
        return page

    def create_sms(ctx: RequestContext, request: Request, body: Any) -> Response | dict[str, Any]:
        status = body.get("status") if isinstance(body, dict) else None
        for fault, (original, stored) in STATUS_MIX_UPS.items():
            if fault in ctx.faults and status == original:
                if stored is None:
                    raise ValidationFailed("status", f"Cannot create an SMS with status {status}.")
                body = {**body, "status": stored}
        if "create-answers-201" in ctx.faults:
            return JSONResponse(sms.create(ctx, body), status_code=201)
        return sms.create(ctx, body)

    def get_sms(ctx: RequestContext, request: Request, _: Any) -> Response | dict[str, Any]:
        if "get-unknown-id-400" in ctx.faults:
            _known_or_400(ctx, path_id(request))
        doc = sms.get(ctx, path_id(request), leak="isolation-get-leak", read=True)
        if "get-wraps-object" in ctx.faults:
            return {"data": trim_fields(doc, fields(request))}
        if "get-answers-203" in ctx.faults:
            return JSONResponse(trim_fields(doc, fields(request)), status_code=203)
        if "get-served-as-html" in ctx.faults:  # the framework's default media type
            return HTMLResponse(JSONResponse(trim_fields(doc, fields(request))).body)
        if "fields-ignored-on-get" in ctx.faults:
            return doc
        return trim_fields(doc, fields(request))

    def update_sms(ctx: RequestContext, request: Request, body: Any) -> dict[str, Any]:
        if "put-unknown-id-400" in ctx.faults:
            _known_or_400(ctx, path_id(request))
        return sms.update(ctx, path_id(request), body)

    def _known_or_400(ctx: RequestContext, sms_id: str) -> None:
        """The bug: an unknown id treated as bad input (400) instead of not found (404)."""
        try:
            sms.get(ctx, sms_id)
        except NotFound:
            raise ValidationFailed("id", "Unknown SMS id.") from None

    def delete_sms(ctx: RequestContext, request: Request, _: Any) -> Response | dict[str, Any]:
        if "delete-returns-object" in ctx.faults:
            doc = sms.get(ctx, path_id(request))
            sms.delete(ctx, path_id(request))
            return doc
        sms.delete(ctx, path_id(request))
        if "delete-answers-204" in ctx.faults:
            return Response(status_code=204)
        return {}

    # -- me and phone numbers ---------------------------------------------------------

    def me(ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
        numbers = [
            {"id": n["id"], "number": n["number"], "type": n["type"]}
            for n in phone_number_documents(ctx.org)
        ]
        return trim_fields({**user_document(ctx.org), "phone_numbers": numbers}, fields(request))

    def list_phone_numbers(ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
        skip, limit = page(request.query_params)
        numbers = phone_number_documents(ctx.org)
        wanted = request.query_params.get("number")
        if wanted is not None:
            numbers = [n for n in numbers if n["number"] == wanted.strip()]
        chosen = numbers[skip : skip + limit]
        return {
            "data": [trim_fields(n, fields(request)) for n in chosen],
            "has_more": len(numbers) > skip + limit,
        }

    def get_phone_number(ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
        for number in phone_number_documents(ctx.org):
            if number["id"] == path_id(request):
                return trim_fields(number, fields(request))
        raise NotFound()

    # -- leads, contacts, templates ---------------------------------------------------

    def create_lead(ctx: RequestContext, request: Request, body: Any) -> dict[str, Any]:
        return crm.create_lead(ctx, body)

    def list_leads(ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
        skip, limit = page(request.query_params)
        return crm.list_leads(ctx, skip, limit)

    def get_lead(ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
        return trim_fields(crm.get_lead(ctx, path_id(request)), fields(request))

    def delete_lead(ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
        crm.delete_lead(ctx, path_id(request))
        return {}

    def get_contact(ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
        contact = crm.get_contact(ctx, path_id(request))
        if contact is None:
            raise NotFound()
        return trim_fields(contact, fields(request))

    def create_template(ctx: RequestContext, request: Request, body: Any) -> Response:
        return JSONResponse(crm.create_template(ctx, body), status_code=201)

    def list_templates(ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
        skip, limit = page(request.query_params)
        return crm.list_templates(ctx, skip, limit)

    def get_template(ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
        return trim_fields(crm.get_template(ctx, path_id(request)), fields(request))

    def update_template(ctx: RequestContext, request: Request, body: Any) -> dict[str, Any]:
        return crm.update_template(ctx, path_id(request), body)

    def delete_template(ctx: RequestContext, request: Request, _: Any) -> Response:
        crm.delete_template(ctx, path_id(request))
        return Response(status_code=204)

    def route(path: str, **methods: Handler) -> Route:
        handlers = {
            method.upper(): _endpoint(fn, with_body=method in ("post", "put"))
            for method, fn in methods.items()
        }

        async def dispatch(request: Request) -> Response:
            return await handlers[request.method if request.method != "HEAD" else "GET"](request)

        return Route(path, dispatch, methods=list(handlers))

    api = Router(
        routes=[
            route("/activity/sms/", get=list_sms, post=create_sms),
            route("/activity/sms/{id}/", get=get_sms, put=update_sms, delete=delete_sms),
            route("/me/", get=me),
            route("/phone_number/", get=list_phone_numbers),
            route("/phone_number/{id}/", get=get_phone_number),
            route("/lead/", get=list_leads, post=create_lead),
            route("/lead/{id}/", get=get_lead, delete=delete_lead),
            route("/contact/{id}/", get=get_contact),
            route("/sms_template/", get=list_templates, post=create_template),
            route(
                "/sms_template/{id}/",
                get=get_template,
                put=update_template,
                delete=delete_template,
            ),
        ],
        redirect_slashes=False,
    )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if (
            exc.status_code == 405
            and request.method == "PATCH"
            and "patch-answers-404" in server.faults
        ):
            return JSONResponse({"error": "Not found"}, status_code=404)
        if exc.status_code == 404 and server.readings["not-found-body"] == "html":
            return HTMLResponse(NOT_FOUND_PAGE, status_code=404, headers=exc.headers)
        message = "Not found" if exc.status_code == 404 else exc.detail
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "Internal server error"}, status_code=500)

    async def openapi(request: Request) -> Response:
        """The project's OpenAPI document for these endpoints, unauthenticated."""
        from conformance.openapi import load_openapi

        return JSONResponse(load_openapi())

    app = Starlette(
        routes=[Route(OPENAPI_ROUTE, openapi, methods=["GET"]), Mount("/api/v1", app=api)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.router.redirect_slashes = False
    return app
