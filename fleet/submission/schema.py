"""The JSON Schema (draft 2020-12) of the submission, generated from the field list so the two cannot drift."""

from __future__ import annotations

from fleet.submission.fields import FIELDS, SCHEMA_ID, SCHEMA_VERSION, SECTIONS, get_path

_PY_TYPES = {
    "string": str,
    "number": (int, float),
    "integer": int,
    "array": list,
    "object": dict,
    "null": type(None),
}


def _type(json_type: str) -> str | list[str]:
    parts = json_type.split("|")
    return parts[0] if len(parts) == 1 else parts


def json_schema() -> dict[str, object]:
    """Nested object schema: every summary field required at its path, every section required at top level."""
    root: dict[str, object] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://evfleet.local/schemas/{SCHEMA_ID}/{SCHEMA_VERSION}.json",
        "title": "evfleet climate-finance submission",
        "description": "Avoided emissions of leased battery-electric trucks, traceable to metered data, a named "
        "methodology and sourced factors. Field list: fleet/submission/fields.py.",
        "type": "object",
        "required": ["schema", "schema_version", "report_id"],
        "properties": {
            "schema": {"const": SCHEMA_ID},
            "schema_version": {"const": SCHEMA_VERSION},
            "report_id": {"type": "string"},
        },
    }
    for field in FIELDS:
        node = root
        *parents, leaf = field.path.split(".")
        for part in parents:
            props = node.setdefault("properties", {})
            node.setdefault("required", [])
            if part not in node["required"]:
                node["required"].append(part)
            node = props.setdefault(part, {"type": "object"})
        node.setdefault("properties", {})[leaf] = {
            "type": _type(field.json_type),
            "title": field.label_en,
            "description": f"{field.label_zh}; unit: {field.unit or '-'}; origin: {field.origin}",
        }
        node.setdefault("required", [])
        if leaf not in node["required"]:
            node["required"].append(leaf)
    for key, json_type, content in SECTIONS:
        existing = root["properties"].setdefault(key, {"type": json_type})
        existing["description"] = content
        if key not in root["required"]:
            root["required"].append(key)
    return root


def validate(document: dict[str, object]) -> list[str]:
    """Problems with a document against the field list (empty when valid); no third-party validator needed."""
    problems = []
    if document.get("schema") != SCHEMA_ID or document.get("schema_version") != SCHEMA_VERSION:
        problems.append(f"schema/schema_version must be {SCHEMA_ID} {SCHEMA_VERSION}")
    for field in FIELDS:
        try:
            value = get_path(document, field.path)
        except KeyError as missing:
            problems.append(str(missing))
            continue
        allowed = tuple(
            t
            for part in field.json_type.split("|")
            for t in (_PY_TYPES[part] if isinstance(_PY_TYPES[part], tuple) else (_PY_TYPES[part],))
        )
        if not isinstance(value, allowed) or (isinstance(value, bool)):
            problems.append(f"{field.path}: expected {field.json_type}, got {type(value).__name__}")
    for key, json_type, _ in SECTIONS:
        if not isinstance(document.get(key), _PY_TYPES[json_type]):
            problems.append(f"{key}: expected {json_type}")
    return problems
