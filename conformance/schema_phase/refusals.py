"""Which refusals the docs demand: a request that breaks a documented type, enum or
required field as sent (protocol/invalid-input-rejected), and nothing else."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema_rs

from conformance.model import without_loose_values
from conformance.openapi import SMS_PATHS, load_openapi

#: The keywords a refusal may rest on: protocol/invalid-input-rejected names "a wrong type, a
#: value outside an enum, a missing required field". Formats, patterns, lengths and bounds
#: are not refusals the docs demand (the catalogue leaves a negative send_in, send_in off
#: outbox and how dates are parsed open), so a request breaking only those is not judged.
REFUSAL_KEYWORDS = frozenset(
    {"type", "enum", "required", "properties", "items", "anyOf", "oneOf", "allOf", "$ref"}
)
# Query parameters are strings on the wire: only an integer one (_limit, _skip) can be of a
# wrong type. How boolean flags (send_to_inbox) are parsed is not documented, so none is.
_INTEGER = re.compile(r"-?[0-9]+")


def _refusal_schema(node: Any) -> Any:
    """``node`` with only the keywords a documented refusal rests on."""
    if isinstance(node, list):
        return [_refusal_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    kept: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            kept[key] = {name: _refusal_schema(sub) for name, sub in value.items()}
        elif key in REFUSAL_KEYWORDS:
            kept[key] = _refusal_schema(value)
    return kept


class _Refusals:
    """The request schemas of the SMS operations, reduced to what a refusal may rest on."""

    def __init__(self) -> None:
        document = load_openapi()
        schemas = document["components"]["schemas"]
        self.components = {"schemas": {name: _refusal_schema(s) for name, s in schemas.items()}}
        self.bodies: dict[tuple[str, str], Any] = {}
        self.integers: dict[tuple[str, str], set[str]] = {}
        parameters = document["components"]["parameters"]
        for path in SMS_PATHS:
            for method, operation in document["paths"][path].items():
                if method == "parameters":
                    continue
                key = (method.upper(), path)
                content = (operation.get("requestBody") or {}).get("content", {})
                schema = content.get("application/json", {}).get("schema")
                if schema is not None:
                    self.bodies[key] = jsonschema_rs.validator_for(
                        {**_refusal_schema(schema), "components": self.components}
                    )
                names = set()
                for parameter in operation.get("parameters", []):
                    if "$ref" in parameter:
                        parameter = parameters[parameter["$ref"].rsplit("/", 1)[-1]]
                    if parameter.get("schema", {}).get("type") == "integer":
                        names.add(parameter["name"])
                self.integers[key] = names

    def broken(self, method: str, path: str, query: str, body: bytes | str | None) -> bool:
        """True when the request as sent breaks a documented type, enum or required field."""
        key = (method.upper(), path)
        integers = self.integers.get(key, set())
        for name, values in parse_qs(query, keep_blank_values=True).items():
            if name in integers and any(not _INTEGER.fullmatch(v) for v in values):
                return True
        validator = self.bodies.get(key)
        if validator is None:
            return False
        if not body:
            return not validator.is_valid({})  # no body: no status on a create
        try:
            decoded = json.loads(body)
        except ValueError:
            return False  # not JSON: what it gets is unspecified (protocol/unsupported-format)
        # A number where a string is typed, "" for an enum, "5" as send_in: a server may read
        # those (the model's loose values), so only the rest must be refused.
        return not validator.is_valid(without_loose_values(decoded))


_REFUSALS: list[_Refusals] = []


def _breaks_documented_schema(response: Any, case: Any) -> bool:
    """True when the request ``case`` sent (as the server got it, after the run bent it)
    breaks a documented type, enum or required field: only then must it be refused."""
    if not _REFUSALS:
        _REFUSALS.append(_Refusals())
    request = response.request
    query = urlsplit(str(request.url)).query
    return _REFUSALS[0].broken(case.method, case.operation.path, query, request.body)
