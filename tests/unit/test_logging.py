from __future__ import annotations

import logging

import orjson
import pytest
import structlog

from hub.observability.logs import configure_logging, get_logger
from hub.observability.redaction import REDACTED, redact
from tests.samples import OTHER_VALID_BSN, VALID_BSN


def test_redact_blanks_sensitive_keys_and_elfproef_numbers_at_any_depth() -> None:
    value = {
        "bsn": VALID_BSN,
        "note": f"BSN {OTHER_VALID_BSN} asked",
        "nested": [{"naam": "Jan"}, 999993653],
        "order": "123456789",  # fails the 11-proef: not a BSN, kept
    }
    assert redact(value) == {
        "bsn": REDACTED,
        "note": f"BSN {REDACTED} asked",
        "nested": [{"naam": REDACTED}, REDACTED],
        "order": "123456789",
    }


def test_no_bsn_reaches_a_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG")
    try:
        get_logger("hub.test").warning(
            "submission_refused", tenant="0363", detail=f"bsn {VALID_BSN}", payload={"bsn": "x"}
        )
        logging.getLogger("aiokafka").error("library says %s", OTHER_VALID_BSN)
        lines = capsys.readouterr().out.strip().splitlines()
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()
    ours, theirs = (orjson.loads(line) for line in lines)
    assert ours["event"] == "submission_refused"
    assert ours["tenant"] == "0363"
    assert ours["detail"] == f"bsn {REDACTED}"
    assert theirs["logger"] == "aiokafka"
    assert VALID_BSN not in "".join(lines)
    assert OTHER_VALID_BSN not in "".join(lines)
