"""sms-conformance: a property-based conformance suite for the Close SMS activity API.

The pure core (rule catalogue, model) has no I/O; the client, the reference server and
the CLI sit at the edges.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
