"""The OpenAPI description of a request Struct: query parameters for GET/HEAD, a JSON body for POST.

Handlers decode their request Struct themselves (`service/api/decoding.py`), so Litestar does not see
the parameters in the signature; `operation(kind)` is the `operation_class` that documents them from
msgspec's own JSON schema of the Struct (bounds, enums, defaults, descriptions: one definition).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler, route
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Operation

from service.request_types import EXACTLY_ONE_OF, Request


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with every `$ref` into `$defs` replaced by its target (the Structs are small)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


@cache
def struct_schema(kind: type[Request]) -> dict[str, Any]:
    full = msgspec.json.schema(kind)
    defs = full.get("$defs", {})
    for name, fields in EXACTLY_ONE_OF.items():
        if name in defs:
            defs[name]["oneOf"] = [{"required": [field]} for field in fields]
    return _inline(full, defs)  # type: ignore[no-any-return]


def _query_parameter(name: str, schema: dict[str, Any], required: bool) -> dict[str, Any] | None:
    options = [o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"]
    if len(options) != 1:
        return None
    item = dict(options[0])
    if item.get("type") == "array" and item.get("items", {}).get("type") not in ("string", None):
        return None  # a vector or a batch: only a body can carry it
    if item.get("type") == "object":
        return None
    description = item.pop("description", None) or schema.get("description")
    if schema.get("default") is not None:
        item["default"] = schema["default"]
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": required, "schema": item}
    if description:
        parameter["description"] = description
    if item.get("type") == "array":
        parameter.update(style="form", explode=False)  # comma-separated; repeating the name works too
        parameter["description"] = (description or name) + " (comma-separated)"
    return parameter


@cache
def query_parameters(kind: type[Request]) -> list[dict[str, Any]]:
    schema = struct_schema(kind)
    required = set(schema.get("required", []))
    found = [
        _query_parameter(name, prop, name in required) for name, prop in schema.get("properties", {}).items()
    ]
    return [p for p in found if p is not None]


def get_route(
    path: str, summary: str, kind: type[Request], responses: dict[int, ResponseSpec]
) -> HTTPRouteHandler:
    """A GET (and HEAD) route whose query parameters are `kind`'s fields."""
    return route(
        path,
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        summary=summary,
        description=described(kind),
        responses=responses,
        operation_class=operation(kind),
    )


def described(kind: type[Request]) -> str | None:
    """The Struct's docstring (its cross-field rules), for the operation's description."""
    return inspect.cleandoc(kind.__doc__) if kind.__doc__ and kind is not Request else None


@cache
def operation(
    kind: type[Request],
    body: bool = False,
    also: tuple[str, ...] = (),
    headers: tuple[tuple[str, str], ...] = (),
) -> type[Operation]:
    """An Operation class documenting `kind` as query parameters, or (`body`) as the JSON body;
    `also`: more media types the 200 answer may have (the same schema); `headers`: (name,
    description) of the 200 answer's headers (a documented 200 ResponseSpec carries none)."""

    @dataclass
    class Documented(Operation):
        def to_schema(self) -> dict[str, Any]:
            out = super().to_schema()
            path_params = [p for p in out.get("parameters", []) if p.get("in") != "query"]
            out["parameters"] = path_params + ([] if body else query_parameters(kind))
            if not out["parameters"]:
                del out["parameters"]
            ok = out.get("responses", {}).get("200", {})
            content = ok.get("content", {})
            for media in also:
                content[media] = next(iter(content.values()), {"schema": {}})
            if headers and ok:
                described = {"deprecated": False, "required": False}
                ok["headers"] = {name: {**described, "description": text} for name, text in headers}
            if body:
                out["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": struct_schema(kind)}},
                }
            return out

    Documented.__name__ = Documented.__qualname__ = f"{kind.__name__}Operation"
    return Documented
