"""A `ContainerSpec` as plain JSON data: what ``dockaudit show`` prints.

Scripts and inspect output give the same schema, so the two can be held side
by side. `UNKNOWN` is printed as ``"<unknown>"``.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from dockaudit.model import UNKNOWN, ContainerSpec, Location

UNKNOWN_TEXT = "<unknown>"
_SKIP = {"locations", "origin", "loc", "lifecycle", "lifecycle_why", "image_origin"}


def to_data(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN_TEXT
    if isinstance(value, Location):
        return f"{value.path}:{value.line}:{value.column}"
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_data(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in _SKIP and not f.name.startswith("_")  # a private cache is no data
        }
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a record of the model (NamedTuple)
        return {name: to_data(getattr(value, name)) for name in value._fields if name not in _SKIP}
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): to_data(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    return value


def spec_to_dict(spec: ContainerSpec) -> dict[str, Any]:
    origin = spec.origin
    data = {
        "source": origin.source.value,
        "location": to_data(origin.loc) if origin.loc else None,
        "container": (
            {"id": origin.container.id, "name": origin.container.name} if origin.container else None
        ),
        "tool": origin.tool,
        "service": spec.is_service,
    }
    if spec.lifecycle is not None:  # decided from the whole file (dockaudit.intent)
        data["lifecycle"] = {"verdict": spec.lifecycle, "why": spec.lifecycle_why}
    if spec.image_origin is not None:
        data["image_origin"] = spec.image_origin
    body = to_data(spec)
    swarm = body.pop("service", None)  # the Swarm service a spec stands for, beside "service" above
    if swarm is not None:
        data["swarm_service"] = swarm
    data.update(body)
    return data
