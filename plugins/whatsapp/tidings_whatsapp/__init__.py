"""tidings-whatsapp: the WhatsApp channel of tidings, through the WhatsApp Business Cloud API.

The channel itself is registered by :mod:`tidings_whatsapp.plugin`; this package exports the pieces
a host or a test may want on their own: the settings, the address of a contact, and `WINDOW_KEY`,
the key of a client's ``addresses`` where the host says until when the client's 24-hour
customer-service window is open.
"""

from __future__ import annotations

from tidings_whatsapp.addresses import whatsapp_addresses
from tidings_whatsapp.config import WhatsAppConfig, WhatsAppTemplate
from tidings_whatsapp.messages import WINDOW_KEY

__all__ = ["WINDOW_KEY", "WhatsAppConfig", "WhatsAppTemplate", "whatsapp_addresses"]
