"""What a run needs to know about its target before it can create an SMS.

Discovered through the documented endpoints (``/me/``, ``/phone_number/``, ``/lead/``,
``/sms_template/``) or given by the user; plain data, shared by the model, the
strategies and the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Fixtures", "Foreign"]


@dataclass(frozen=True, slots=True)
class Foreign:
    """What another organisation holds, read (never written) with ``--second-api-key``:
    its internal numbers, a template, a lead with a contact. One organisation never reaches
    another's data, so an SMS body of the run that names any of them must be refused (or,
    for an internal number on a draft, which the docs leave open, not judged)."""

    internal_phones: tuple[str, ...] = ()
    template_id: str | None = None
    lead: tuple[str, str] | None = None  # (lead id, contact id)

    @property
    def anything(self) -> bool:
        return bool(self.internal_phones or self.template_id or self.lead)


@dataclass(frozen=True, slots=True)
class Fixtures:
    """The target's prerequisites for creating SMS activities.

    ``internal_phones`` are E.164 numbers of Phone Numbers of type ``internal`` (valid
    ``local_phone`` values); ``external_phones`` are numbers of type ``external`` (which
    the docs say cannot be a ``local_phone``). ``leads`` pairs each lead id with the id of
    one of its contacts; the first lead's contact has ``contact_first_name``.
    ``template_id`` names an SMS template whose text renders to ``rendered_template``
    for that contact. ``remote_phones`` are recipients safe to address.

    On a target that lacks some fixture endpoints (a mock of the SMS endpoints only), what
    the run could not learn is None: ``organization_id`` and ``user_id`` without
    ``GET /me/`` (or ``--user-id``), ``contact_first_name`` without ``GET /lead/{id}/``,
    the template's three fields without a usable template. The rules that need them are
    then not run (:attr:`conformance.target.Target.lacking` says why).
    """

    organization_id: str | None
    user_id: str | None
    internal_phones: tuple[str, ...]
    external_phones: tuple[str, ...]
    leads: tuple[tuple[str, str], ...]
    contact_first_name: str | None
    template_id: str | None
    template_text: str | None
    rendered_template: str | None
    remote_phones: tuple[str, ...] = ("+12015550123", "+12015550124")  # as FICTIONAL_RECIPIENTS
    foreign: Foreign | None = None  # what the second organisation holds (--second-api-key)

    def __post_init__(self) -> None:
        if not self.internal_phones:
            raise ValueError("Fixtures need at least one internal phone number (local_phone)")
        if not self.leads:
            raise ValueError("Fixtures need at least one lead with a contact")

    @property
    def lead_id(self) -> str:
        return self.leads[0][0]

    @property
    def contact_id(self) -> str:
        return self.leads[0][1]
