"""Which country a time zone is in (``Europe/Kyiv`` → ``UA``), from the IANA data that tzdata ships."""

from __future__ import annotations

import functools
from importlib import resources

__all__ = ["zone_countries"]


@functools.cache
def zone_countries() -> dict[str, str]:
    """Time zone → ISO 3166 country, from the IANA data that the tzdata package ships.

    ``zone.tab`` names the country of every canonical zone; the legacy names that tzdata keeps as
    links (``Europe/Kiev``, ``Europe/Uzhgorod``, ``US/Eastern``, ``Poland``) are not in it, so each
    link of ``tzdata.zi`` takes the country of the zone it points to. A name that ``zone.tab``
    lists wins over its link (``Europe/Vaduz`` is a link to ``Europe/Zurich`` but is ``LI``).
    """
    try:
        zoneinfo = resources.files("tzdata").joinpath("zoneinfo")
        table = zoneinfo.joinpath("zone.tab").read_text(encoding="utf-8")
        compiled = zoneinfo.joinpath("tzdata.zi").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        return {}
    out: dict[str, str] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            country, _, zone = line.split("\t")[:3]
            out[zone] = country
    links: dict[str, str] = {}   # link name -> target, from "L TARGET NAME" lines
    for line in compiled.splitlines():
        if line.startswith("L "):
            _, target, name = line.split()[:3]
            links[name] = target
    for name, target in links.items():
        for _ in range(len(links)):   # tzdata's links point at zones, but zic allows chains: follow them
            if target not in links:
                break
            target = links[target]
        if name not in out and target in out:
            out[name] = out[target]
    return out
