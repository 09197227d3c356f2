"""The API's handlers, one module-level function per operation, and the route table.

A handler takes the server's :class:`~conformance.refserver.services.Services`, the
request's :class:`~conformance.refserver.context.RequestContext`, the Starlette request and
its parsed JSON body (``None`` for GET and DELETE), and returns a JSON-able ``dict`` (a 200)
or a :class:`~starlette.responses.Response`; it raises
:class:`~conformance.refserver.errors.ApiError` for 4xx answers. The pipeline around it
(authentication, rate limit, body, sender run, errors) is :mod:`conformance.refserver.app`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from conformance.refserver.context import RequestContext
from conformance.refserver.errors import NotFound, ValidationFailed
from conformance.refserver.listing import page, sms_list, trim_fields
from conformance.refserver.responses import JSONResponse
from conformance.refserver.seed import phone_number_documents, user_document
from conformance.refserver.services import Services

Handler = Callable[[Services, RequestContext, Request, Any], Response | dict[str, Any]]

# fault -> (status asked for on create, status stored instead; None: refused)
STATUS_MIX_UPS = {
    "inbox-stored-as-sent": ("inbox", "sent"),
    "draft-create-refused": ("draft", None),
    "scheduled-stored-as-draft": ("scheduled", "draft"),
    "outbox-create-refused": ("outbox", None),
    "sent-stored-as-inbox": ("sent", "inbox"),
}


def _path_id(request: Request) -> str:
    return request.path_params["id"]


def _fields(request: Request) -> str | None:
    return request.query_params.get("_fields")


# -- SMS ----------------------------------------------------------------------------------


def list_sms(services: Services, ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
    found = sms_list(services.storage, ctx, request.query_params)
    if "has-more-as-string" in ctx.faults:
        found["has_more"] = str(found["has_more"]).lower()
    return found


def create_sms(
    services: Services, ctx: RequestContext, request: Request, body: Any
) -> Response | dict[str, Any]:
    status = body.get("status") if isinstance(body, dict) else None
    for fault, (original, stored) in STATUS_MIX_UPS.items():
        if fault in ctx.faults and status == original:
            if stored is None:
                raise ValidationFailed("status", f"Cannot create an SMS with status {status}.")
            body = {**body, "status": stored}
    if "create-answers-201" in ctx.faults:
        return JSONResponse(services.sms.create(ctx, body), status_code=201)
    return services.sms.create(ctx, body)


def get_sms(
    services: Services, ctx: RequestContext, request: Request, _: Any
) -> Response | dict[str, Any]:
    if "get-unknown-id-400" in ctx.faults:
        _known_or_400(services, ctx, _path_id(request))
    doc = services.sms.get(ctx, _path_id(request), leak="isolation-get-leak", read=True)
    if "get-wraps-object" in ctx.faults:
        return {"data": trim_fields(doc, _fields(request))}
    if "get-answers-203" in ctx.faults:
        return JSONResponse(trim_fields(doc, _fields(request)), status_code=203)
    if "get-served-as-html" in ctx.faults:  # the framework's default media type
        return HTMLResponse(JSONResponse(trim_fields(doc, _fields(request))).body)
    if "fields-ignored-on-get" in ctx.faults:
        return doc
    return trim_fields(doc, _fields(request))


def update_sms(
    services: Services, ctx: RequestContext, request: Request, body: Any
) -> dict[str, Any]:
    if "put-unknown-id-400" in ctx.faults:
        _known_or_400(services, ctx, _path_id(request))
    return services.sms.update(ctx, _path_id(request), body)


def _known_or_400(services: Services, ctx: RequestContext, sms_id: str) -> None:
    """The bug: an unknown id treated as bad input (400) instead of not found (404)."""
    try:
        services.sms.get(ctx, sms_id)
    except NotFound:
        raise ValidationFailed("id", "Unknown SMS id.") from None


def delete_sms(
    services: Services, ctx: RequestContext, request: Request, _: Any
) -> Response | dict[str, Any]:
    if "delete-returns-object" in ctx.faults:
        doc = services.sms.get(ctx, _path_id(request))
        services.sms.delete(ctx, _path_id(request))
        return doc
    services.sms.delete(ctx, _path_id(request))
    if "delete-answers-204" in ctx.faults:
        return Response(status_code=204)
    return {}


# -- me and phone numbers -----------------------------------------------------------------


def me(services: Services, ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
    numbers = [
        {"id": n["id"], "number": n["number"], "type": n["type"]}
        for n in phone_number_documents(ctx.org)
    ]
    return trim_fields({**user_document(ctx.org), "phone_numbers": numbers}, _fields(request))


def list_phone_numbers(
    services: Services, ctx: RequestContext, request: Request, _: Any
) -> dict[str, Any]:
    skip, limit = page(request.query_params)
    numbers = phone_number_documents(ctx.org)
    wanted = request.query_params.get("number")
    if wanted is not None:
        numbers = [n for n in numbers if n["number"] == wanted.strip()]
    chosen = numbers[skip : skip + limit]
    return {
        "data": [trim_fields(n, _fields(request)) for n in chosen],
        "has_more": len(numbers) > skip + limit,
    }


def get_phone_number(
    services: Services, ctx: RequestContext, request: Request, _: Any
) -> dict[str, Any]:
    for number in phone_number_documents(ctx.org):
        if number["id"] == _path_id(request):
            return trim_fields(number, _fields(request))
    raise NotFound()


# -- leads, contacts, templates -----------------------------------------------------------


def create_lead(
    services: Services, ctx: RequestContext, request: Request, body: Any
) -> dict[str, Any]:
    return services.crm.create_lead(ctx, body)


def list_leads(services: Services, ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
    skip, limit = page(request.query_params)
    return services.crm.list_leads(ctx, skip, limit)


def get_lead(services: Services, ctx: RequestContext, request: Request, _: Any) -> dict[str, Any]:
    return trim_fields(services.crm.get_lead(ctx, _path_id(request)), _fields(request))


def delete_lead(
    services: Services, ctx: RequestContext, request: Request, _: Any
) -> dict[str, Any]:
    services.crm.delete_lead(ctx, _path_id(request))
    return {}


def get_contact(
    services: Services, ctx: RequestContext, request: Request, _: Any
) -> dict[str, Any]:
    contact = services.crm.get_contact(ctx, _path_id(request))
    if contact is None:
        raise NotFound()
    return trim_fields(contact, _fields(request))


def create_template(
    services: Services, ctx: RequestContext, request: Request, body: Any
) -> Response:
    return JSONResponse(services.crm.create_template(ctx, body), status_code=201)


def list_templates(
    services: Services, ctx: RequestContext, request: Request, _: Any
) -> dict[str, Any]:
    skip, limit = page(request.query_params)
    return services.crm.list_templates(ctx, skip, limit)


def get_template(
    services: Services, ctx: RequestContext, request: Request, _: Any
) -> dict[str, Any]:
    return trim_fields(services.crm.get_template(ctx, _path_id(request)), _fields(request))


def update_template(
    services: Services, ctx: RequestContext, request: Request, body: Any
) -> dict[str, Any]:
    return services.crm.update_template(ctx, _path_id(request), body)


def delete_template(services: Services, ctx: RequestContext, request: Request, _: Any) -> Response:
    services.crm.delete_template(ctx, _path_id(request))
    return Response(status_code=204)


# Path under /api/v1 -> HTTP method (lower case) -> handler. POST and PUT get a JSON body.
ROUTES: tuple[tuple[str, Mapping[str, Handler]], ...] = (
    ("/activity/sms/", {"get": list_sms, "post": create_sms}),
    ("/activity/sms/{id}/", {"get": get_sms, "put": update_sms, "delete": delete_sms}),
    ("/me/", {"get": me}),
    ("/phone_number/", {"get": list_phone_numbers}),
    ("/phone_number/{id}/", {"get": get_phone_number}),
    ("/lead/", {"get": list_leads, "post": create_lead}),
    ("/lead/{id}/", {"get": get_lead, "delete": delete_lead}),
    ("/contact/{id}/", {"get": get_contact}),
    ("/sms_template/", {"get": list_templates, "post": create_template}),
    (
        "/sms_template/{id}/",
        {"get": get_template, "put": update_template, "delete": delete_template},
    ),
)
