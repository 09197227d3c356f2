"""Fixture endpoints: /me/, /phone_number/, /lead/, /contact/, /sms_template/ and rendering."""

from __future__ import annotations

import pytest


def test_me_names_the_user_org_membership_and_numbers(client):
    me = client.get("me/").json()
    assert (me["id"], me["first_name"], me["last_name"]) == ("user_reference_a", "Alice", "Anders")
    assert me["organizations"] == [{"id": "orga_reference_a", "name": "Reference Org A"}]
    assert me["memberships"][0]["organization_id"] == "orga_reference_a"
    assert {n["number"] for n in me["phone_numbers"]} >= {"+16503335550", "+16503335551"}


def test_phone_numbers_list_internal_and_external(client):
    page = client.get("phone_number/").json()
    assert page["has_more"] is False
    kinds = [(n["number"], n["type"]) for n in page["data"]]
    assert kinds == [
        ("+16503335550", "internal"),
        ("+16503335551", "internal"),
        ("+14151231230", "external"),
    ]
    first = page["data"][0]
    assert first["id"].startswith("phon_") and first["sms_enabled"] is True
    assert client.get(f"phone_number/{first['id']}/").json() == first
    assert (
        client.get("phone_number/", params={"number": "+14151231230"}).json()["data"][0]["type"]
        == "external"
    )
    assert client.get("phone_number/", params={"_limit": 1}).json()["has_more"] is True


def test_another_orgs_phone_number_is_404(client, other_client):
    number = other_client.get("phone_number/").json()["data"][0]
    assert client.get(f"phone_number/{number['id']}/").status_code == 404


def test_lead_create_get_list_delete(client, make_lead, make_sms):
    lead = make_lead("Acme", ("Ada Lovelace", "Bob"))
    assert lead["id"].startswith("lead_") and lead["display_name"] == "Acme"
    contact = lead["contacts"][0]
    assert contact["id"].startswith("cont_") and contact["lead_id"] == lead["id"]
    assert contact["phones"][0]["phone_formatted"] == "+1 650-555-0101"
    assert lead["contact_ids"] == [c["id"] for c in lead["contacts"]]
    assert client.get(f"lead/{lead['id']}/").json() == lead
    assert client.get(f"contact/{contact['id']}/").json() == contact
    assert [item["id"] for item in client.get("lead/").json()["data"]] == [lead["id"]]
    sms = make_sms(lead_id=lead["id"])
    response = client.delete(f"lead/{lead['id']}/")
    assert (response.status_code, response.json()) == (200, {})
    assert client.get(f"lead/{lead['id']}/").status_code == 404
    assert client.get(f"contact/{contact['id']}/").status_code == 404
    assert client.get(f"activity/sms/{sms['id']}/").status_code == 404  # deleted with the lead


@pytest.mark.parametrize("body", [{"name": 3}, {"contacts": "x"}, {"contacts": [{"phones": [1]}]}])
def test_invalid_leads_are_400(client, body):
    assert client.post("lead/", json=body).status_code == 400


def test_template_crud(client):
    created = client.post("sms_template/", json={"name": "Hello", "text": "Hi"})
    assert created.status_code == 201
    template = created.json()
    assert template["id"].startswith("smstmpl_")
    assert (template["status"], template["is_shared"]) == ("active", False)
    path = f"sms_template/{template['id']}/"
    assert client.get(path).json() == template
    updated = client.put(path, json={"status": "archived", "text": "Bye"}).json()
    assert (updated["status"], updated["text"], updated["name"]) == ("archived", "Bye", "Hello")
    assert client.get("sms_template/").json()["data"] == [updated]
    deleted = client.delete(path)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x", "is_shared": "yes"}])
def test_invalid_templates_are_400(client, field_errors, body):
    assert field_errors(client.post("sms_template/", json=body))


def test_template_renders_contact_lead_user_and_org(client, make_lead, make_sms):
    text = (
        "{{ contact.first_name }}|{{contact.last_name}}|{{ contact.name }}|{{ lead.name }}|"
        "{{ user.first_name }}|{{ user.full_name }}|{{ organization.name }}|{{ nope.x }}|{{ x"
    )
    template = client.post("sms_template/", json={"name": "t", "text": text}).json()
    lead = make_lead("Acme Inc", ("Ada King Lovelace", "Zed"))
    sms = make_sms(lead_id=lead["id"], template_id=template["id"], text="ignored")
    assert sms["text"] == (
        "Ada|King Lovelace|Ada King Lovelace|Acme Inc|Alice|Alice Anders|Reference Org A||{{ x"
    )
    assert sms["template_id"] == template["id"]
    second = make_sms(contact_id=lead["contacts"][1]["id"], template_id=template["id"])
    assert second["text"].startswith("Zed||Zed|")


def test_template_without_lead_renders_missing_values_empty(client, make_sms):
    template = client.post(
        "sms_template/", json={"name": "t", "text": "Hi {{contact.first_name}}!"}
    )
    assert make_sms(template_id=template.json()["id"])["text"] == "Hi !"


def test_another_orgs_template_is_rejected(client, other_client, field_errors):
    template = client.post("sms_template/", json={"name": "t", "text": "x"}).json()
    body = {"status": "draft", "local_phone": "+16503336660", "template_id": template["id"]}
    assert "template_id" in field_errors(other_client.post("activity/sms/", json=body))
