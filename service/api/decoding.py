"""Decoding a request Struct from a query string or a JSON body, errors naming the field.

Query strings are converted by the Struct's own field types (looked up once per type): integers must
be written as integers (`k=1e3` is a 400), booleans as true/false/1/0, `list[str]` fields are
comma-separated or repeated; an unknown parameter, a scalar given twice, or a field that only a body
can carry (a vector, a batch) is a 400 naming it. The Struct's constraints are then checked by msgspec
in strict mode, exactly as for a JSON body.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import cache
from typing import Generic, TypeVar

import msgspec
import msgspec.inspect as mi

from service import request_types as wire
from service.errors import InvalidInput
from service.request_types import Request

R = TypeVar("R", bound=Request)
INTEGER = re.compile(r"-?[0-9]{1,20}")
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
PATH = re.compile(r" - at `\$((?:\.[A-Za-z_]+|\[\d+\])*)`")


def _scalar(info: mi.Type) -> mi.Type:
    """The non-None member of an optional type, without its documentation metadata."""
    if isinstance(info, mi.UnionType):
        members = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(members) == 1:
            info = members[0]
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.ListType):
        return mi.ListType(_scalar(info.item_type), info.min_length, info.max_length)
    return info


def field_of(exc: msgspec.ValidationError | msgspec.DecodeError, default: str = "body") -> str:
    """`queries[0].vector` from msgspec's "... - at `$.queries[0].vector`" (the body itself: `default`)."""
    found = PATH.search(str(exc))
    if not found or not found.group(1):
        unknown = re.search(r"unknown field `([^`]+)`", str(exc))
        return unknown.group(1) if unknown else default
    return found.group(1).lstrip(".")


def invalid(exc: msgspec.ValidationError | msgspec.DecodeError, default: str = "body") -> InvalidInput:
    message = PATH.sub("", str(exc))
    return InvalidInput(message, field=field_of(exc, default))


class Decoder(Generic[R]):
    """Decodes one request Struct type from a query string (GET) or a JSON body (POST)."""

    def __init__(self, kind: type[R]) -> None:
        self.kind = kind
        self.body = msgspec.json.Decoder(kind)
        info = mi.type_info(kind)
        assert isinstance(info, mi.StructType)
        self.fields = {f.encode_name: _scalar(f.type) for f in info.fields}

    def from_body(self, raw: bytes) -> R:
        try:
            return self.body.decode(raw).canonical()
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise invalid(exc) from exc

    def from_query(self, items: Iterable[tuple[str, str]]) -> R:
        values: dict[str, object] = {}
        for name, text in items:
            info = self.fields.get(name)
            if info is None:
                known = ", ".join(self.fields)
                raise InvalidInput(f"unknown query parameter {name!r}; known: {known or 'none'}", field=name)
            if isinstance(info, mi.ListType) and isinstance(info.item_type, mi.StrType | mi.LiteralType):
                if len(text) > wire.MAX_LIST_CHARS:
                    raise InvalidInput(f"{name} is longer than {wire.MAX_LIST_CHARS} characters", field=name)
                listed = values.setdefault(name, [])
                assert isinstance(listed, list)
                listed.extend(part.strip() for part in text.split(",") if part.strip())
                continue
            if name in values:
                raise InvalidInput(f"{name} is given more than once", field=name)
            values[name] = self._convert(name, info, text)
        values = {k: v for k, v in values.items() if v != []}
        try:
            return msgspec.convert(values, self.kind).canonical()
        except msgspec.ValidationError as exc:
            raise invalid(exc, "query") from exc

    @staticmethod
    def _convert(name: str, info: mi.Type, text: str) -> object:
        if isinstance(info, mi.IntType):
            if not INTEGER.fullmatch(text):
                raise InvalidInput(f"{name} must be an integer, got {text[:40]!r}", field=name)
            return int(text)
        if isinstance(info, mi.FloatType):
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise InvalidInput(f"{name} must be a finite number, got {text[:40]!r}", field=name)
            return number
        if isinstance(info, mi.BoolType):
            if text.lower() not in BOOLEANS:
                raise InvalidInput(f"{name} must be true or false, got {text[:40]!r}", field=name)
            return BOOLEANS[text.lower()]
        if isinstance(info, mi.StrType | mi.LiteralType):
            return text
        raise InvalidInput(f"{name} cannot be given in a query string: POST it in a JSON body", field=name)


@cache
def decoder(kind: type[R]) -> Decoder[R]:
    return Decoder(kind)
