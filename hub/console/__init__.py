"""The ops console at ``/console``: operators (config ``operators:``) see each municipality's
destinations and dead letters, inspect a letter with personal data masked, and replay.

``sessions`` holds logins, session cookies and CSRF tokens; ``readings`` what a page shows from
Kafka and the delivery engine; ``views`` the pages; ``templates`` their HTML.
"""

from hub.console.sessions import Operators
from hub.console.views import mount_console

__all__ = ["Operators", "mount_console"]
