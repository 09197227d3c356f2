"""The fixture resources around SMS: leads with contacts, SMS templates, phone numbers.

Only what the suite needs to set up its fixtures: create/get/list/delete leads (contacts
nested), get a contact, and full CRUD on SMS templates. Deleting a lead deletes its
contacts and, as in Close, its activities (its SMS are deleted too, so never sent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.refserver.context import RequestContext
from conformance.refserver.dates import format_dt
from conformance.refserver.errors import NotFound, ValidationFailed
from conformance.refserver.phones import country_iso, format_phone
from conformance.refserver.storage import Storage
from conformance.refserver.validation import REQUIRED, Checker, string_value

__all__ = ["Crm"]

TEMPLATE_STATUSES = ("active", "archived")


def _owner(ctx: RequestContext, fault: str) -> str | None:
    """The organisation whose objects a request may name: its own; any (None) under
    ``fault``, a bug that looks an id up without its organisation."""
    return None if fault in ctx.faults else ctx.org.organization_id


def _require_object(body: object, field: str) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed(field, "Must be an object.")
    return body


class Crm:
    """Leads, contacts and SMS templates in one organisation-scoped store."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # -- leads and contacts -------------------------------------------------------------

    def create_lead(self, ctx: RequestContext, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a lead and its nested ``contacts``; return the lead with full contacts.

        Raises a 400 naming ``name`` or ``contacts`` for values of the wrong type.
        """
        checker = Checker()
        name = checker.run(lambda: string_value(body, "name"))
        contacts_in = body.get("contacts")
        if contacts_in is None:
            contacts_in = []
        if not isinstance(contacts_in, list):
            checker.fail("contacts", "Must be a list of contacts.")
            contacts_in = []
        contacts = []
        lead_id = ctx.new_id("lead")
        now = format_dt(ctx.now)
        for index, raw in enumerate(contacts_in):
            try:
                contacts.append(self._contact(ctx, lead_id, raw, index, now))
            except ValidationFailed as error:
                checker.fail("contacts", error.message)
        checker.raise_if_any()
        display_name = name or (contacts[0]["name"] if contacts else "") or ""
        lead = {
            "id": lead_id,
            "name": name,
            "display_name": display_name,
            "status_id": "stat_reference_potential",
            "status_label": "Potential",
            "contact_ids": [c["id"] for c in contacts],
            "organization_id": ctx.org.organization_id,
            "created_by": ctx.org.user_id,
            "updated_by": ctx.org.user_id,
            "date_created": now,
            "date_updated": now,
        }
        self.storage.insert("lead", lead)
        for contact in contacts:
            self.storage.insert("contact", contact)
        return self._with_contacts(ctx, lead)

    def _contact(
        self, ctx: RequestContext, lead_id: str, raw: object, index: int, now: str
    ) -> dict[str, Any]:
        field = "contacts"
        data = _require_object(raw, field)
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            raise ValidationFailed(field, f"Contact {index}: name must be a string.")
        phones = []
        for phone in data.get("phones") or []:
            if not isinstance(phone, dict) or not isinstance(phone.get("phone"), str):
                raise ValidationFailed(field, f"Contact {index}: each phone needs a phone string.")
            kind = phone.get("type", "office")
            if not isinstance(kind, str):
                raise ValidationFailed(field, f"Contact {index}: phone type must be a string.")
            number = phone["phone"]
            phones.append(
                {
                    "phone": number,
                    "phone_formatted": format_phone(number),
                    "type": kind,
                    "country": country_iso(number),
                    "outbound_sms_blocked": False,
                }
            )
        emails = data.get("emails") or []
        if not isinstance(emails, list) or not all(isinstance(e, dict) for e in emails):
            raise ValidationFailed(field, f"Contact {index}: emails must be a list of objects.")
        return {
            "id": ctx.new_id("cont"),
            "lead_id": lead_id,
            "name": name or "",
            "display_name": name or "",
            "title": None,
            "phones": phones,
            "emails": emails,
            "urls": [],
            "organization_id": ctx.org.organization_id,
            "created_by": ctx.org.user_id,
            "updated_by": ctx.org.user_id,
            "date_created": now,
            "date_updated": now,
        }

    def _with_contacts(self, ctx: RequestContext, lead: dict[str, Any]) -> dict[str, Any]:
        org = ctx.org.organization_id
        contacts = [self.storage.get("contact", org, cid) for cid in lead["contact_ids"]]
        return {**lead, "contacts": [c for c in contacts if c is not None]}

    def get_lead(self, ctx: RequestContext, lead_id: str) -> dict[str, Any]:
        """Return the lead with its contacts; 404 if unknown in this organisation."""
        lead = self.storage.get("lead", ctx.org.organization_id, lead_id)
        if lead is None:
            raise NotFound()
        return self._with_contacts(ctx, lead)

    def list_leads(self, ctx: RequestContext, skip: int, limit: int) -> dict[str, Any]:
        leads = self.storage.select("lead", ctx.org.organization_id, skip=skip, limit=limit + 1)
        data = [self._with_contacts(ctx, lead) for lead in leads[:limit]]
        return {"data": data, "has_more": len(leads) > limit}

    def delete_lead(self, ctx: RequestContext, lead_id: str) -> None:
        """Delete the lead, its contacts and its SMS; 404 if unknown."""
        org = ctx.org.organization_id
        if self.storage.get("lead", org, lead_id) is None:
            raise NotFound()
        self.storage.delete_where("contact", org, "lead_id", lead_id)
        self.storage.delete_where("sms", org, "lead_id", lead_id)
        self.storage.delete("lead", org, lead_id)

    def get_contact(self, ctx: RequestContext, contact_id: object) -> dict[str, Any] | None:
        """Return the contact or ``None`` if unknown in this organisation (in any, under
        the ``foreign-lead-accepted`` fault)."""
        return self.storage.get("contact", _owner(ctx, "foreign-lead-accepted"), contact_id)

    def find_lead(self, ctx: RequestContext, lead_id: object) -> dict[str, Any] | None:
        """Return the stored lead (without contacts) or ``None`` (a lead of any organisation
        under the ``foreign-lead-accepted`` fault)."""
        return self.storage.get("lead", _owner(ctx, "foreign-lead-accepted"), lead_id)

    # -- SMS templates --------------------------------------------------------------------

    def create_template(self, ctx: RequestContext, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create an SMS template: ``name`` required (non-empty string), ``text`` string,
        ``is_shared`` boolean. Raises a 400 naming the first bad field."""
        checker = Checker()
        name = checker.run(lambda: string_value(body, "name"))
        if not name and "name" not in checker.field_errors:
            checker.fail("name", REQUIRED)
        text = checker.run(lambda: string_value(body, "text"))
        is_shared = body.get("is_shared", False)
        if not isinstance(is_shared, bool):
            checker.fail("is_shared", "Must be a boolean.")
        checker.raise_if_any()
        now = format_dt(ctx.now)
        template = {
            "id": ctx.new_id("smstmpl"),
            "name": name,
            "text": text or "",
            "is_shared": is_shared,
            "status": "active",
            "attachments": [],
            "organization_id": ctx.org.organization_id,
            "owned_by": ctx.org.user_id,
            "created_by": ctx.org.user_id,
            "updated_by": ctx.org.user_id,
            "date_created": now,
            "date_updated": now,
        }
        self.storage.insert("sms_template", template)
        return template

    def get_template(self, ctx: RequestContext, template_id: object) -> dict[str, Any]:
        """Return the template; 404 if unknown in this organisation."""
        template = self.storage.get("sms_template", ctx.org.organization_id, template_id)
        if template is None:
            raise NotFound()
        return template

    def list_templates(self, ctx: RequestContext, skip: int, limit: int) -> dict[str, Any]:
        rows = self.storage.select(
            "sms_template", ctx.org.organization_id, skip=skip, limit=limit + 1
        )
        return {"data": rows[:limit], "has_more": len(rows) > limit}

    def update_template(
        self, ctx: RequestContext, template_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Partially update ``name``, ``text``, ``is_shared``, ``status`` (active|archived)."""
        template = self.get_template(ctx, template_id)
        checker = Checker()
        if "name" in body:
            name = checker.run(lambda: string_value(body, "name"))
            if not name:
                checker.fail("name", REQUIRED)
            else:
                template["name"] = name
        if "text" in body:
            text = checker.run(lambda: string_value(body, "text"))
            template["text"] = text or ""
        if "is_shared" in body:
            if isinstance(body["is_shared"], bool):
                template["is_shared"] = body["is_shared"]
            else:
                checker.fail("is_shared", "Must be a boolean.")
        if "status" in body:
            if body["status"] in TEMPLATE_STATUSES:
                template["status"] = body["status"]
            else:
                checker.fail("status", "Must be one of: active, archived.")
        checker.raise_if_any()
        template["updated_by"] = ctx.org.user_id
        template["date_updated"] = format_dt(ctx.now)
        self.storage.update("sms_template", template)
        return template

    def delete_template(self, ctx: RequestContext, template_id: str) -> None:
        if not self.storage.delete("sms_template", ctx.org.organization_id, template_id):
            raise NotFound()
