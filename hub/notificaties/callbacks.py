"""The check of an abonnement's callback when it is created or changed, as Open Notificaties
does it (``nrc.api.validators.CallbackURLValidator``): one test notificatie POSTed to the
``callbackUrl`` with the abonnement's ``auth`` as ``Authorization``; only a 2xx answer accepts
the abonnement. Redirects are not followed, and the check gives up after ``CHECK_TIMEOUT_S``.
"""

from __future__ import annotations

import aiohttp

from hub.observability.logs import get_logger

__all__ = ["CHECK_TIMEOUT_S", "TEST_NOTIFICATIE", "callback_refusal"]

CHECK_TIMEOUT_S = 5.0
# Open Notificaties' own test notificatie, so a receiver that recognises it keeps doing so.
TEST_NOTIFICATIE = {
    "kanaal": "test",
    "hoofdObject": "http://some.hoofdobject.nl/",
    "resource": "some_resource",
    "resourceUrl": "http://some.resource.nl/",
    "actie": "create",
    "aanmaakdatum": "2019-01-01T12:00:00Z",
    "kenmerken": {},
}
log = get_logger(__name__)


async def callback_refusal(
    callback_url: str, auth: str, timeout_s: float = CHECK_TIMEOUT_S
) -> str | None:
    """None when ``callback_url`` answers the test notificatie with 2xx; else why not, in words
    (the status it answered, or that it could not be reached). Never raises for the receiver's
    sake: the caller answers 400 naming ``callbackUrl``."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout, trust_env=False) as session,
            session.post(
                callback_url,
                json=TEST_NOTIFICATIE,
                headers={"Authorization": auth},
                allow_redirects=False,
            ) as answer,
        ):
            status = answer.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.info("abonnement_callback_refused", reason=type(exc).__name__)
        return f"the callback URL could not be reached ({type(exc).__name__})"
    if 200 <= status < 300:
        return None
    log.info("abonnement_callback_refused", reason=f"status {status}")
    return f"the callback URL answered the test notificatie with {status}, not 2xx"
