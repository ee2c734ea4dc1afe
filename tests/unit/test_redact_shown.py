"""What an operator is shown of a dead letter's payload (``knooppunt dlq show``, the console):
a form's free-form values lose whatever looks like personal data, in any spelling a form uses,
and e-mail addresses, phone numbers and IBANs inside any text (a new user's trial found a
voornaam, an e-mailadres, a telefoonnummer and an IBAN shown in clear)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

from hub.delivery.dead_letters import DeadLetterRecord
from hub.observability.redaction import REDACTED, redact_shown

VALUES = {
    "toelichting": (
        "Bel mij op 06-12345678 of mail jan.jansen@example.nl, rekening NL91ABNA0417164300"
    ),
    "voornaam": "Jan",
    "achternaam": "Jansen",
    "emailadres": "jan@example.nl",
    "e-mailadres": "jan@example.nl",
    "telefoonnummer": "0612345678",
    "geboortedatum": "1980-01-01",
    "iban": "NL91ABNA0417164300",
    "Postcode": "1012 AB",
    "aantal_bezoekers": 250,
    "evenement": "Buurtfeest",
}


def test_personal_data_in_free_form_values_is_not_shown() -> None:
    shown = redact_shown({"values": VALUES, "reference": "OF-7TZ2QX"})
    values = shown["values"]
    for key in ("voornaam", "achternaam", "emailadres", "e-mailadres", "telefoonnummer"):
        assert values[key] == REDACTED, key
    for key in ("geboortedatum", "iban", "Postcode"):
        assert values[key] == REDACTED, key
    text = values["toelichting"]
    for hidden in ("06-12345678", "jan.jansen@example.nl", "NL91ABNA0417164300"):
        assert hidden not in text
    assert text.startswith("Bel mij op ")
    assert (values["aantal_bezoekers"], values["evenement"]) == (250, "Buurtfeest")
    assert shown["reference"] == "OF-7TZ2QX"


def test_dlq_show_shows_none_of_it() -> None:
    letter = DeadLetterRecord(
        "knooppunt.dlq.0363",
        0,
        1,
        datetime(2026, 11, 30, tzinfo=UTC),
        b"k",
        orjson.dumps({"values": VALUES}),
        (("ce_type", b"nl.gemeente.formulier.ingediend"),),
    )
    shown = orjson.dumps(letter.shown()).decode()
    for value in ("Jansen", "jan@example.nl", "0612345678", "NL91ABNA0417164300", "1980-01-01"):
        assert value not in shown, value


@given(st.emails())
def test_any_e_mail_address_in_text_is_replaced(address: str) -> None:
    assert address not in redact_shown(f"mail {address} graag")
