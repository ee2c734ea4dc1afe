"""What the sink asks Notify to send for one ``nl.gemeente.bericht.verzoek-aangemaakt``: a pure
decision, from the request and the config to the Notify request (or why there is none).

Source: GOV.UK Notify API documentation, "Send an email" (``POST /v2/notifications/email``:
``email_address``, ``template_id``, optional ``personalisation``, ``reference``,
``email_reply_to_id``) and "Send a text message" (``POST /v2/notifications/sms``:
``phone_number``, ``template_id``, optional ``personalisation``, ``reference``,
``sms_sender_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from contracts.bericht.v1 import BerichtVerzoekAangemaakt, Kanaal

if TYPE_CHECKING:
    from connectors.notifynl.config import NotifyNlConfig

__all__ = ["NotifyRequest", "notify_request"]

NotificationType = Literal["email", "sms"]


@dataclass(frozen=True)
class NotifyRequest:
    """One Notify request: ``type`` (``email`` or ``sms``, the path's last part) and the JSON
    ``body``, which holds the recipient and personalisation: never log it."""

    type: NotificationType
    body: dict[str, Any]

    @property
    def path(self) -> str:
        return f"v2/notifications/{self.type}"


def _template_id(
    verzoek: BerichtVerzoekAangemaakt, kind: NotificationType, config: NotifyNlConfig
) -> UUID | str:
    """The Notify template's id, or a sentence saying why there is none."""
    named = config.templates.get(verzoek.template_id)
    if named is not None:
        found = named.email if kind == "email" else named.sms
        if found is None:
            return f"template {verzoek.template_id!r} has no {kind} template id in templates"
        return found
    if config.event_template_ids:
        try:
            return UUID(verzoek.template_id)
        except ValueError:
            pass
    return f"template {verzoek.template_id!r} is not in templates"


def notify_request(
    verzoek: BerichtVerzoekAangemaakt, reference: str, config: NotifyNlConfig
) -> NotifyRequest | str:
    """The request that sends ``verzoek`` over its kanaal, with ``reference`` (free of
    personal data: the sink passes the delivery's idempotency key) as Notify's reference; or,
    when it cannot be sent, a sentence saying why, naming fields but never their values.

    Kanaal ``email`` needs ``ontvanger.email`` and ``sms`` needs ``ontvanger.telefoon`` (this
    sink does not look an address up by BSN); ``brief`` and ``berichtenbox`` are not Notify's
    to send here. The template comes from ``config.templates`` by the event's ``template_id``,
    or is the event's ``template_id`` itself when ``config.event_template_ids`` allows a UUID.
    """
    if verzoek.kanaal not in (Kanaal.EMAIL, Kanaal.SMS):
        return f"kanaal {verzoek.kanaal.value!r}: this sink sends email and sms only"
    kind: NotificationType = "email" if verzoek.kanaal == Kanaal.EMAIL else "sms"
    recipient = verzoek.ontvanger.email if kind == "email" else verzoek.ontvanger.telefoon
    if recipient is None:
        field = "email" if kind == "email" else "telefoon"
        return f"kanaal {kind!r} needs ontvanger.{field}; this sink does not look it up by BSN"
    template = _template_id(verzoek, kind, config)
    if isinstance(template, str):
        return template
    body: dict[str, Any] = {
        "template_id": str(template),
        "email_address" if kind == "email" else "phone_number": recipient,
        "personalisation": dict(verzoek.personalisatie),
        "reference": reference,
    }
    if kind == "email" and config.email_reply_to_id is not None:
        body["email_reply_to_id"] = str(config.email_reply_to_id)
    if kind == "sms" and config.sms_sender_id is not None:
        body["sms_sender_id"] = str(config.sms_sender_id)
    return NotifyRequest(kind, body)
