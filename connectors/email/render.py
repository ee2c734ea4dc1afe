"""What the e-mail says about a submission, as plain text and as HTML. Pure functions.

The message is for people in a back office: the form, its public reference, when it was sent,
how the submitter logged in (the method only: the BSN or KvK number is not written in mail),
the payment, the answers as a two-column table and the attachments (attached, or a link). Labels
are Dutch, the back offices' language. Every value from the submission is escaped in the HTML
part (``html.escape``), so an answer can never become markup or a link.

Answers (``values``) are rows in the form's own order. A nested answer becomes several rows named
by its path: ``adres.straat`` for an object's member, ``kinderen[1].naam`` for a list's first
item (counted from 1, as people count); a list of plain values is one row, joined by ", ".
``true``/``false`` read "ja"/"nee", ``null`` an empty cell.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.formulier.v1 import Attachment
    from contracts.formulier.v2 import FormulierIngediend

__all__ = [
    "MailContent",
    "RenderedAttachment",
    "format_size",
    "render_submission",
    "subject_for",
    "value_rows",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and line feed
_METHODS = {"digid": "DigiD", "eherkenning": "eHerkenning", "eidas": "eIDAS", "none": "niet"}
_KEY_WIDTH = 30  # the text table's first column; longer keys push their value right


@dataclass(frozen=True)
class MailContent:
    """The subject (one line) and the two renderings of one message's body."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class RenderedAttachment:
    """An attachment as the message mentions it: ``attached`` in the message, else linked."""

    attachment: Attachment
    attached: bool


def _clean(text: str) -> str:
    """Line ends as ``\\n``, control characters (but tab) as a space."""
    return _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    return _clean(str(value))


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _rows(path: str, value: Any, found: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        if not value:
            found.append((path, ""))
        for key, member in value.items():
            _rows(f"{path}.{_one_line(key)}" if path else _one_line(key), member, found)
    elif isinstance(value, list) and not all(_is_scalar(item) for item in value):
        for number, item in enumerate(value, start=1):
            _rows(f"{path}[{number}]", item, found)
    elif isinstance(value, list):
        found.append((path, ", ".join(_scalar(item) for item in value)))
    else:
        found.append((path, _scalar(value)))


def value_rows(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The answers as (name, text) rows, in the form's order; see the module docstring."""
    found: list[tuple[str, str]] = []
    _rows("", dict(values), found)
    return [] if found == [("", "")] else found


def subject_for(template: str, submission: FormulierIngediend, tenant: str) -> str:
    """``template`` (checked by connectors.email.config.check_subject) filled in, on one line."""
    fields = {
        "form_name": submission.form.name,
        "form_id": submission.form.id,
        "reference": submission.reference,
        "tenant": tenant,
    }
    return _one_line(template.format_map(fields))


def format_size(size: int) -> str:
    """Bytes for people: ``512 B``, ``178,9 KiB``, ``25,0 MiB`` (a decimal comma)."""
    if size < 1024:
        return f"{size} B"
    amount, unit = size / 1024, "KiB"
    for larger in ("MiB", "GiB"):
        if amount < 1024:
            break
        amount, unit = amount / 1024, larger
    return f"{amount:.1f} {unit}".replace(".", ",")


def _facts(submission: FormulierIngediend) -> list[tuple[str, str]]:
    sent = submission.submitted_at
    offset = sent.strftime("%z")
    facts = [
        ("Formulier", _one_line(submission.form.name)),
        ("Referentie", _one_line(submission.reference)),
        ("Ingediend", f"{sent:%d-%m-%Y %H:%M} (UTC{offset[:3]}:{offset[3:]})"),
        ("Ingelogd met", _METHODS.get(submission.authentication.method.value, "onbekend")),
    ]
    payment = submission.payment
    if payment is not None and payment.required:
        amount = "" if payment.amount is None else f"€ {payment.amount:.2f} ".replace(".", ",")
        facts.append(("Betaling", amount + ("betaald" if payment.completed else "niet betaald")))
    return facts


def _attachment_label(item: RenderedAttachment) -> str:
    found = item.attachment
    return f"{_one_line(found.name)} ({format_size(found.size)}, {found.content_type})"


def _text(
    submission: FormulierIngediend, rows: list[tuple[str, str]], files: Sequence[RenderedAttachment]
) -> str:
    lines = [f"{name}: {value}" for name, value in _facts(submission)]
    lines += ["", "Antwoorden", "----------"]
    width = min(_KEY_WIDTH, max((len(name) for name, _ in rows), default=0))
    for name, value in rows:
        first, *more = value.split("\n")
        lines.append(f"{name:<{width}}  {first}".rstrip())
        lines += [f"{'':<{width}}  {line}".rstrip() for line in more]
    if not rows:
        lines.append("(geen antwoorden)")
    if files:
        lines += ["", "Bijlagen", "--------"]
        for item in files:
            where = "bijgevoegd" if item.attached else str(item.attachment.url)
            lines.append(f"- {_attachment_label(item)}: {where}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return html.escape(text, quote=True).replace("\n", "<br>")


def _link(url: str) -> str:
    """An escaped link for http(s) URLs; any other scheme is shown as text, never followed."""
    escaped = html.escape(url, quote=True)
    if url.lower().startswith(("https://", "http://")):
        return f'<a href="{escaped}">{escaped}</a>'
    return escaped


def _table(rows: Sequence[tuple[str, str]]) -> list[str]:
    lines = ['<table border="1" cellpadding="4" cellspacing="0" style="border-collapse:collapse">']
    lines += [
        f'<tr><th scope="row" style="text-align:left;vertical-align:top">{_cell(name)}</th>'
        f"<td>{_cell(value)}</td></tr>"
        for name, value in rows
    ]
    return [*lines, "</table>"]


def _html(
    subject: str,
    submission: FormulierIngediend,
    rows: list[tuple[str, str]],
    files: Sequence[RenderedAttachment],
) -> str:
    lines = [
        "<!DOCTYPE html>",
        '<html lang="nl"><head><meta charset="utf-8">',
        f"<title>{_cell(subject)}</title></head><body>",
        f"<h1>{_cell(_one_line(submission.form.name))}</h1>",
        *_table(_facts(submission)),
        "<h2>Antwoorden</h2>",
        *(_table(rows) if rows else ["<p>(geen antwoorden)</p>"]),
    ]
    if files:
        lines += ["<h2>Bijlagen</h2>", "<ul>"]
        for item in files:
            where = "bijgevoegd" if item.attached else _link(str(item.attachment.url))
            lines.append(f"<li>{_cell(_attachment_label(item))}: {where}</li>")
        lines.append("</ul>")
    return "\n".join([*lines, "</body></html>"]) + "\n"


def render_submission(
    submission: FormulierIngediend,
    tenant: str,
    files: Sequence[RenderedAttachment],
    subject_template: str,
) -> MailContent:
    """The subject, text and HTML of the message about ``submission`` of ``tenant``;
    ``files`` says per attachment, in the submission's order, whether it is attached."""
    subject = subject_for(subject_template, submission, tenant)
    rows = value_rows(submission.values)
    return MailContent(
        subject, _text(submission, rows, files), _html(subject, submission, rows, files)
    )
