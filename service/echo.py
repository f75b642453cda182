"""Answers that repeat their request: every field an answer Struct shares with the request Struct is
taken from the request, so no use-case copies a request's options into its answer by hand."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

A = TypeVar("A", bound=msgspec.Struct)


def echoed(request: msgspec.Struct, answer: type[A], **fields: Any) -> A:
    """`answer(**fields)`, its other fields of the request's same-named fields."""
    wanted = set(answer.__struct_fields__) & set(request.__struct_fields__)
    shared = {name: getattr(request, name) for name in wanted if name not in fields}
    return answer(**shared, **fields)
