"""From a submission to an object's ``record.data``: the declarative field mapping, as plain
functions (no I/O). The submission is read as JSON values in the v2 shape (v1 events upcast)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from connectors.objects_api.config import Constant

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connectors.objects_api.config import Source

__all__ = ["GEOMETRY_TYPES", "is_geometry", "map_data", "pick", "put", "start_date"]

DUTCH_TIME = ZoneInfo("Europe/Amsterdam")
# GeoJSON geometry types (RFC 7946 §1.4), as the Objects API's GeoJSONGeometry has them.
GEOMETRY_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)


def pick(document: Any, path: str) -> Any:
    """The value at dotted ``path`` in ``document`` (a name per object level, a decimal index
    per list level), or None when any step is missing."""
    value = document
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdecimal() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set dotted ``path`` in ``data`` to ``value``, making the objects on the way."""
    *parents, last = path.split(".")
    place = data
    for part in parents:
        place = place.setdefault(part, {})
    place[last] = value


def map_data(mapping: Mapping[str, Source], submission: Mapping[str, Any]) -> dict[str, Any]:
    """``record.data`` for ``submission`` (JSON values): each target path gets its constant or
    the value at its source path; a source that is absent or null leaves the target out (the
    schema then says whether that is allowed)."""
    data: dict[str, Any] = {}
    for target, source in mapping.items():
        value = source.constant if isinstance(source, Constant) else pick(submission, source)
        if value is not None:
            put(data, target, value)
    return data


def start_date(submitted_at: str) -> str:
    """``record.startAt`` (Objects API: "legal start date of the object record", a date): the
    day the submitter pressed send (an RFC 3339 time with offset), in Dutch time, ISO 8601."""
    moment = datetime.fromisoformat(submitted_at)
    day: date = moment.astimezone(DUTCH_TIME).date()
    return day.isoformat()


def is_geometry(value: Any) -> bool:
    """Whether ``value`` looks like a GeoJSON geometry (RFC 7946 §3.1): a known ``type`` with
    ``coordinates`` (a list), or a GeometryCollection with ``geometries`` (a list)."""
    if not isinstance(value, dict) or value.get("type") not in GEOMETRY_TYPES:
        return False
    member = "geometries" if value["type"] == "GeometryCollection" else "coordinates"
    return isinstance(value.get(member), list)
