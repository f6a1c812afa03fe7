"""tidings-sms: the SMS channel of tidings (Twilio-style form API or a generic JSON API).

The channel itself is registered by :mod:`tidings_sms.plugin`; this package exports the pieces
a host or a test may want on their own.
"""

from __future__ import annotations

from tidings_sms.addresses import sms_addresses
from tidings_sms.config import SmsConfig
from tidings_sms.segments import SegmentInfo, describe, segment_info

__all__ = ["SegmentInfo", "SmsConfig", "describe", "segment_info", "sms_addresses"]
