"""The embedded reference server: a real ASGI implementation of the Close SMS API.

>>> server = ReferenceServer(clock=VirtualClock())
>>> server.client().post("activity/sms/", json={...})
"""

from conformance.refserver.faults import FAULTS, Fault
from conformance.refserver.seed import OrgCredentials
from conformance.refserver.server import ReferenceServer, create_app

__all__ = ["FAULTS", "Fault", "OrgCredentials", "ReferenceServer", "create_app"]
