"""What a run needs to know about its target before it can create an SMS.

Discovered through the documented endpoints (``/me/``, ``/phone_number/``, ``/lead/``,
``/sms_template/``) or given by the user; plain data, shared by the model, the
strategies and the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Fixtures"]


@dataclass(frozen=True, slots=True)
class Fixtures:
    """The target's prerequisites for creating SMS activities.

    ``internal_phones`` are E.164 numbers of Phone Numbers of type ``internal`` (valid
    ``local_phone`` values); ``external_phones`` are numbers of type ``external`` (which
    the docs say cannot be a ``local_phone``). ``leads`` pairs each lead id with the id of
    one of its contacts; the first lead's contact has ``contact_first_name``.
    ``template_id`` names an SMS template whose text renders to ``rendered_template``
    for that contact. ``remote_phones`` are recipients safe to address.
    """

    organization_id: str
    user_id: str
    internal_phones: tuple[str, ...]
    external_phones: tuple[str, ...]
    leads: tuple[tuple[str, str], ...]
    contact_first_name: str
    template_id: str
    template_text: str
    rendered_template: str
    remote_phones: tuple[str, ...] = ("+12015550123", "+12015550124")  # as FICTIONAL_RECIPIENTS

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
