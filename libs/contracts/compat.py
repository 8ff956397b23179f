"""Which changes to a published event schema break its consumers.

A consumer written against a published schema must keep working: so a property may
be added (optional), but not removed, renamed, retyped or newly required, and an
enumeration may gain values but not lose them. Anything else needs a new version.
"""

from __future__ import annotations

from typing import Any

_IGNORED = {"description", "title", "examples", "default", "$id", "x-stream"}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
    return schema


def _shape(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """The part of a schema that decides what values are valid, without its prose."""
    schema = _resolve(schema, root)
    shape: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _IGNORED or key in {"properties", "required", "enum"}:
            continue
        if key in {"anyOf", "oneOf", "allOf"}:
            shape[key] = sorted(repr(_shape(v, root)) for v in value)
        elif key == "items" and isinstance(value, dict):
            shape[key] = _shape(value, root)
        else:
            shape[key] = value
    return shape


def breaking_changes(published: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Every way ``current`` breaks a consumer of ``published``; empty when compatible."""
    return _compare(published, current, published, current, "data", [])


def _compare(old: dict[str, Any], new: dict[str, Any], old_root: dict[str, Any], new_root: dict[str, Any],
             where: str, problems: list[str]) -> list[str]:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"{where}.{name}: property removed")
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(newly_required):
        problems.append(f"{where}.{name}: property became required")
    if "enum" in old:
        lost = [v for v in old["enum"] if v not in new.get("enum", old["enum"])]
        if lost:
            problems.append(f"{where}: enumeration lost {lost}")
    for name, old_prop in old_props.items():
        if name in new_props:
            _compare(old_prop, new_props[name], old_root, new_root, f"{where}.{name}", problems)
    if not old_props and not new_props and "enum" not in old and _shape(old, old_root) != _shape(new, new_root):
        problems.append(f"{where}: type changed from {_shape(old, old_root)} to {_shape(new, new_root)}")
    return problems
