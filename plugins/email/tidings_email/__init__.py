"""tidings-email: the e-mail channel of tidings (SMTP, plain text + HTML).

The channel itself is registered by :mod:`tidings_email.plugin`; this package exports the
pieces a host or a test may want on their own.
"""

from __future__ import annotations

from tidings_email.addresses import Mailbox, email_addresses
from tidings_email.config import EmailConfig
from tidings_email.mime import build_message, describe, message_id

__all__ = ["EmailConfig", "Mailbox", "build_message", "describe", "email_addresses", "message_id"]
