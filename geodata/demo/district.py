"""The demo's district: its real boundary (from ``cnmaps``), its region code, a metric frame.

``cnmaps`` ships China's administrative boundaries offline; its 高德 (AMap) data is converted
from GCJ-02 to WGS-84 when asked (``wgs84=True``), so boundaries here are WGS-84 lon/lat.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry import MultiPolygon

from geodata.errors import InvalidInput, NotFound

DEFAULT_DISTRICT = "上海市/宝山区"

#: Real 6-digit region codes (GB/T 2260) of the districts we are sure of: Shanghai and Beijing.
REAL_CODES: dict[tuple[str, str], str] = {
    ("上海市", "黄浦区"): "310101", ("上海市", "徐汇区"): "310104", ("上海市", "长宁区"): "310105",
    ("上海市", "静安区"): "310106", ("上海市", "普陀区"): "310107", ("上海市", "虹口区"): "310109",
    ("上海市", "杨浦区"): "310110", ("上海市", "闵行区"): "310112", ("上海市", "宝山区"): "310113",
    ("上海市", "嘉定区"): "310114", ("上海市", "浦东新区"): "310115", ("上海市", "金山区"): "310116",
    ("上海市", "松江区"): "310117", ("上海市", "青浦区"): "310118", ("上海市", "奉贤区"): "310120",
    ("上海市", "崇明区"): "310151",
    ("北京市", "东城区"): "110101", ("北京市", "西城区"): "110102", ("北京市", "朝阳区"): "110105",
    ("北京市", "丰台区"): "110106", ("北京市", "石景山区"): "110107", ("北京市", "海淀区"): "110108",
    ("北京市", "门头沟区"): "110109", ("北京市", "房山区"): "110111", ("北京市", "通州区"): "110112",
    ("北京市", "顺义区"): "110113", ("北京市", "昌平区"): "110114", ("北京市", "大兴区"): "110115",
    ("北京市", "怀柔区"): "110116", ("北京市", "平谷区"): "110117", ("北京市", "密云区"): "110118",
    ("北京市", "延庆区"): "110119",
}

#: 2-digit province codes (GB/T 2260).
PROVINCE_CODES: dict[str, str] = {
    "北京市": "11", "天津市": "12", "河北省": "13", "山西省": "14", "内蒙古自治区": "15",
    "辽宁省": "21", "吉林省": "22", "黑龙江省": "23", "上海市": "31", "江苏省": "32", "浙江省": "33",
    "安徽省": "34", "福建省": "35", "江西省": "36", "山东省": "37", "河南省": "41", "湖北省": "42",
    "湖南省": "43", "广东省": "44", "广西壮族自治区": "45", "海南省": "46", "重庆市": "50", "四川省": "51",
    "贵州省": "52", "云南省": "53", "西藏自治区": "54", "陕西省": "61", "甘肃省": "62", "青海省": "63",
    "宁夏回族自治区": "64", "新疆维吾尔自治区": "65", "台湾省": "71", "香港特别行政区": "81",
    "澳门特别行政区": "82",
}

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class District:
    """A county-level district of China with its real boundary.

    Attributes
    ----------
    province, city, name : str
        Names as ``cnmaps`` spells them (for a municipality, ``city == province``).
    code : str
        6-digit region code; real when ``code_is_real``, otherwise synthetic (see :func:`region_code`).
    boundary : shapely.MultiPolygon
        WGS-84, lon/lat degrees.
    """

    province: str
    city: str
    name: str
    code: str
    code_is_real: bool
    boundary: MultiPolygon

    @property
    def label(self) -> str:
        return f"{self.province}/{self.city}/{self.name}"

    @property
    def address_prefix(self) -> str:
        """What standard addresses start with, e.g. ``上海市宝山区`` or ``黑龙江省双鸭山市宝山区``."""
        city = "" if self.city == self.province else self.city
        return f"{self.province}{city}{self.name}"


def region_code(province: str, city: str, district: str) -> tuple[str, bool]:
    """The district's 6-digit region code and whether it is the real one.

    Real codes come from :data:`REAL_CODES`. Any other district gets a **synthetic** code: its
    province's real 2-digit prefix (:data:`PROVINCE_CODES`) plus 4 digits derived from a SHA-256
    of the names (city part 01–70, district part 01–89), stable across runs and machines but
    not the official code.
    """
    real = REAL_CODES.get((province, district))
    if real:
        return real, True
    prefix = PROVINCE_CODES.get(province, "99")
    h = int.from_bytes(hashlib.sha256(f"{province}/{city}/{district}".encode()).digest()[:8], "big")
    return f"{prefix}{1 + h % 70:02d}{1 + (h // 70) % 89:02d}", False


def _matches(given: str, actual: str) -> bool:
    """``上海`` matches ``上海市``; ``黑龙江`` matches ``黑龙江省``."""
    return actual == given or actual.startswith(given)


def _parse(spec: str) -> list[str]:
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInput("district must be a name like 上海市/宝山区, 宝山区 or 黑龙江省/双鸭山市/宝山区")
    parts = [p.strip() for p in spec.replace("／", "/").split("/") if p.strip()]
    if not 1 <= len(parts) <= 3:
        raise InvalidInput(f"district {spec!r}: use 区, 市/区 or 省/市/区")
    return parts


def _records(name: str) -> list[dict]:
    from cnmaps import get_adm_maps
    from cnmaps.maps import MapNotFoundError

    names = [name] if name.endswith(("区", "县", "市", "旗")) else [name, name + "区", name + "县"]
    out: list[dict] = []
    for candidate in names:
        try:
            out.extend(get_adm_maps(district=candidate, level="区县", wgs84=True))
        except MapNotFoundError:
            continue
    return out


@lru_cache(maxsize=16)
def resolve_district(spec: str = DEFAULT_DISTRICT) -> District:
    """Find one district by ``区``, ``市/区`` or ``省/市/区`` name.

    Raises
    ------
    NotFound
        No district of that name (in that province/city).
    InvalidInput
        The name is ambiguous; the message lists the candidates as ``省/市/区``.
    """
    parts = _parse(spec)
    *above, name = parts
    found = _records(name)
    if above:
        found = [
            r for r in found
            if (len(above) == 1 and (_matches(above[0], r["city"]) or _matches(above[0], r["province"])))
            or (len(above) == 2 and _matches(above[0], r["province"]) and _matches(above[1], r["city"]))
        ]
    unique: dict[tuple[str, str, str], dict] = {}
    for r in found:
        unique.setdefault((r["province"], r["city"], r["district"]), r)
    if not unique:
        raise NotFound(f"unknown district {spec!r}: no such 区/县 in cnmaps (try e.g. 上海市/宝山区)")
    if len(unique) > 1:
        listed = ", ".join("/".join(k) for k in sorted(unique))
        raise InvalidInput(f"district {spec!r} is ambiguous: {listed}; name the city too, e.g. 市/区")
    (province, city, dname), rec = next(iter(unique.items()))
    geom = shapely.from_wkb(rec["geometry"].wkb)  # plain shapely, not cnmaps' subclass
    if geom.geom_type == "Polygon":
        geom = MultiPolygon([geom])
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        geom = MultiPolygon([g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon"])
    code, real = region_code(province, city, dname)
    return District(province, city, dname, code, real, geom)


class LocalFrame:
    """A local equirectangular frame in metres around ``(lon0, lat0)``.

    ``x = (lon - lon0) · R · cos(lat0) · π/180``, ``y = (lat - lat0) · R · π/180``. It is affine,
    so straight edges stay straight and shared vertices map to identical coordinates both
    ways; over a district (< 100 km) its scale error is well under 1 %, enough for synthesis.
    """

    def __init__(self, lon0: float, lat0: float):
        self.lon0, self.lat0 = lon0, lat0
        self.ky = EARTH_RADIUS_M * math.pi / 180.0
        self.kx = self.ky * math.cos(math.radians(lat0))

    def to_xy(self, geom):
        """Lon/lat degrees → local metres (geometry or array of geometries)."""
        return shapely.transform(geom, lambda c: (c - [self.lon0, self.lat0]) * [self.kx, self.ky])

    def to_lonlat(self, geom):
        """Local metres → lon/lat degrees (geometry or array of geometries)."""
        return shapely.transform(geom, lambda c: c / [self.kx, self.ky] + [self.lon0, self.lat0])

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * self.ky

    def lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(x) / self.kx + self.lon0, np.asarray(y) / self.ky + self.lat0
