"""Column names and values of imported files → OneGrid's canonical columns.

Real files name things their own way, in English or Chinese ("编码", "网格员", "户数"...), and
spell levels and kinds in words ("街道", "社区", "主干路"). This module maps both onto the
names and values the writers in :mod:`geodata.store` take. It never touches geometry.

Rules, in order: ``--map src=dst`` pairs first; then a file column whose name *is* a canonical
column; then aliases. Two file columns claiming the same canonical column is an error that
names both and suggests ``--map``. Columns that map to nothing are ignored and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from geodata.errors import InvalidInput, Problem
from geodata.store import LEVELS, ROAD_KINDS

#: CLI layer name → table.
LAYER_TABLES = {
    "admin-areas": "admin_area",
    "grids": "grid",
    "addresses": "address",
    "facilities": "facility",
    "roads": "road",
}
#: Layers ``onegrid import`` takes: the map layers plus historical cases (not exported here:
#: cases carry reporter data and have their own readers).
IMPORT_LAYERS = {**LAYER_TABLES, "cases": "cases", "residents": "resident"}

#: Canonical attribute columns per table (what the writers read).
TABLE_COLUMNS = {
    "admin_area": ("code", "name", "level", "parent_code", "population"),
    "grid": ("code", "name", "community_code", "supervisor", "households"),
    "address": ("code", "full_text", "road", "number", "building", "unit"),
    "facility": ("code", "kind", "name", "capacity", "address_id"),
    "road": ("name", "kind"),
    "resident": ("address_code", "birth_year", "sex", "tags", "household_code", "ref"),
    "cases": ("code", "category_code", "channel", "state", "description", "address_text", "source_ref",
              "department_code", "satisfaction", "reported_at", "registered_at", "dispatched_at", "started_at",
              "deadline_at", "fed_back_at", "closed_at", "evaluated_at"),
}

#: Columns a file must have (the writers derive or default the rest).
REQUIRED = {
    "admin_area": ("code", "name", "level"),
    "grid": ("code",),
    "address": ("full_text",),
    "facility": ("kind", "name"),
    "road": (),
    "cases": ("category_code", "channel", "reported_at"),
    "resident": ("address_code", "birth_year"),
}

#: Coordinate columns a CSV may carry; ``--map`` may target these too.
COORDINATE_COLUMNS = ("lon", "lat", "x", "y", "wkt")

_CODE = ("编码", "代码", "编号")
_NAME = ("名称", "名字")
# Keys are normalised with _norm (lower case, no spaces, underscores or hyphens).
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "admin_area": {
        "code": (*_CODE, "区划代码", "区划编码", "行政区划代码", "adcode", "areacode"),
        "name": (*_NAME, "区划名称", "行政区划名称", "areaname"),
        "level": ("级别", "层级", "行政级别", "区划级别", "adminlevel"),
        "parent_code": ("parent", "parentcode", "parentadcode", "上级编码", "上级代码", "上级区划代码",
                        "父级编码", "父级代码"),
        "population": ("pop", "人口", "人口数", "常住人口"),
    },
    "grid": {
        "code": (*_CODE, "gridcode", "网格编码", "网格代码", "网格编号"),
        "name": (*_NAME, "gridname", "网格名称", "网格名"),
        "community_code": ("community", "commcode", "社区编码", "社区代码", "所属社区编码", "所属社区"),
        "supervisor": ("网格员", "网格长", "负责人"),
        "households": ("户数", "住户数", "总户数"),
    },
    "address": {
        "code": (*_CODE, "addresscode", "addrcode", "地址编码", "地址代码"),
        "full_text": ("address", "addr", "fulladdress", "地址", "标准地址", "详细地址", "地址全称", "地址名称"),
        "road": ("roadname", "street", "道路", "路名", "街路巷", "道路名称", "街路巷名称"),
        "number": ("no", "housenumber", "门牌号", "门牌", "门牌号码", "号"),
        "building": ("bldg", "楼栋", "楼栋号", "栋", "幢", "楼号"),
        "unit": ("单元", "单元号"),
    },
    "facility": {
        "code": (*_CODE, "facilitycode", "设施编码", "设施代码"),
        "kind": ("type", "category", "类型", "类别", "设施类型", "种类"),
        "name": (*_NAME, "facilityname", "设施名称"),
        "capacity": ("容量", "规模", "床位数", "学位数"),
        "address_id": ("addressid", "地址id"),
    },
    "road": {
        "name": (*_NAME, "roadname", "道路名称", "路名"),
        "kind": ("type", "class", "fclass", "highway", "等级", "道路等级", "类型", "道路类型"),
    },
    "resident": {
        "address_code": ("address", "addresscode", "addrcode", "地址编码", "地址代码", "标准地址编码", "住址编码"),
        "birth_year": ("birthyear", "born", "yearofbirth", "出生年份", "出生年", "出生年度"),
        "sex": ("gender", "性别"),
        "tags": ("tag", "groups", "category", "标签", "人群类别", "重点人群", "人员类别", "人群标签"),
        "household_code": ("household", "hhcode", "户编号", "户号", "家庭编号"),
        "ref": ("reference", "externalid", "personid", "人员编号", "外部编号", "证件号码", "身份证号"),
    },
    "cases": {
        "code": ("casecode", "caseno", "案卷编号", "案件编号", "编号"),
        "category_code": ("category", "servicecode", "type", "类别", "案件类别", "问题类型", "类型", "小类"),
        "channel": ("source", "来源", "渠道", "上报渠道", "案件来源"),
        "state": ("status", "状态", "案件状态"),
        "description": ("desc", "问题描述", "描述", "案件描述", "内容"),
        "address_text": ("address", "addr", "地址", "发生地址", "位置描述"),
        "source_ref": ("sourceref", "设备编号", "工单号"),
        "department_code": ("department", "dept", "处置部门", "责任部门", "部门"),
        "satisfaction": ("rating", "满意度", "评价"),
        "reported_at": ("reported", "requesteddatetime", "上报时间", "发现时间", "报告时间"),
        "registered_at": ("registered", "立案时间"),
        "dispatched_at": ("dispatched", "派遣时间"),
        "started_at": ("started", "处理时间", "开始处理时间"),
        "deadline_at": ("deadline", "处置时限", "截止时间"),
        "fed_back_at": ("fedback", "反馈时间"),
        "closed_at": ("closed", "结案时间"),
        "evaluated_at": ("evaluated", "评价时间"),
    },
}

#: CSV coordinate column aliases (normalised).
COORDINATE_ALIASES = {
    "lon": ("lon", "lng", "long", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "x": ("x", "x坐标", "easting"),
    "y": ("y", "y坐标", "northing"),
    "wkt": ("wkt", "geometry", "geom", "thegeom", "几何"),
}

#: Words for admin levels (normalised) → level.
LEVEL_WORDS = {
    "district": ("district", "county", "区", "县", "区县", "县级市", "市辖区", "旗"),
    "street": ("street", "town", "township", "subdistrict", "街道", "镇", "乡", "街道办事处", "街镇", "苏木"),
    "community": ("community", "village", "neighbourhood", "neighborhood", "社区", "村", "居委会", "村委会",
                  "居民委员会", "村民委员会", "居委", "嘎查"),
}

#: Words for road kinds (normalised; OSM highway values and Chinese road classes) → kind.
ROAD_WORDS = {
    "expressway": ("expressway", "motorway", "motorwaylink", "快速路", "高速", "高速公路", "高速路"),
    "trunk": ("trunk", "trunklink", "国道", "干线"),
    "primary": ("primary", "primarylink", "主干路", "主干道", "主路", "省道"),
    "secondary": ("secondary", "secondarylink", "tertiary", "tertiarylink", "次干路", "次干道", "县道"),
    "local": ("local", "residential", "unclassified", "service", "livingstreet", "支路", "街巷", "小区路",
              "乡道"),
    "path": ("path", "footway", "pedestrian", "cycleway", "steps", "track", "步行道", "人行道", "小路", "绿道"),
}


def _norm(name) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


@dataclass
class ColumnPlan:
    """How one file's columns map onto a table: ``rename`` (file → canonical) and what was left."""

    table: str
    rename: dict[str, str]
    ignored: list[str] = field(default_factory=list)


def parse_map(pairs: list[str] | None) -> dict[str, str]:
    """Parse ``--map src=dst`` arguments into ``{src: dst}``."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        src, sep, dst = str(pair).partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise InvalidInput(f"--map takes SRC=DST (a file column = a OneGrid column), got {pair!r}")
        out[src.strip()] = dst.strip()
    return out


def check_targets(mapping: dict[str, str]) -> None:
    """Refuse ``--map`` pairs that feed one OneGrid column from two file columns."""
    targets: dict[str, str] = {}
    for src, dst in mapping.items():
        if dst in targets:
            raise InvalidInput(f"--map {targets[dst]}={dst} and --map {src}={dst}: one column each, please")
        targets[dst] = src


def check_map(table: str, mapping: dict[str, str], found: list[str]) -> None:
    """Refuse ``--map`` pairs whose source is not in the file or whose target is unknown."""
    allowed = (*TABLE_COLUMNS[table], *COORDINATE_COLUMNS)
    for src, dst in mapping.items():
        if src not in found:
            raise InvalidInput(f"--map {src}={dst}: the file has no column {src!r}; columns found: "
                               f"{', '.join(map(str, found)) or '(none)'}")
        if dst not in allowed:
            raise InvalidInput(f"--map {src}={dst}: {dst!r} is not a column of {table}; "
                               f"use one of {', '.join(allowed)}")


def plan_columns(table: str, found: list[str], mapping: dict[str, str] | None = None) -> ColumnPlan:
    """Decide which file column feeds which canonical column of ``table``.

    Raises
    ------
    InvalidInput
        Two file columns claim one canonical column, or a required column is missing (the
        message lists the columns found and suggests ``--map``).
    """
    mapping = mapping or {}
    canonical = TABLE_COLUMNS[table]
    aliases = {c: {_norm(a) for a in ALIASES[table].get(c, ())} for c in canonical}
    chosen: dict[str, str] = {dst: src for src, dst in mapping.items() if dst in canonical}
    exact = {c: col for col in found for c in canonical if _norm(col) == _norm(c) and col not in mapping}
    for c, col in exact.items():
        chosen.setdefault(c, col)
    for c in canonical:
        if c in chosen:
            continue
        hits = [col for col in found if col not in mapping and _norm(col) in aliases[c]]
        if len(hits) > 1:
            raise InvalidInput(f"columns {', '.join(map(repr, hits))} all look like {c!r}; "
                               f"pick one with --map {hits[0]}={c}")
        if hits:
            chosen[c] = hits[0]
    missing = [c for c in REQUIRED[table] if c not in chosen]
    if missing:
        raise InvalidInput(
            f"missing required column(s) {', '.join(missing)} for {table}; columns found: "
            f"{', '.join(map(str, found)) or '(none)'}; name yours with --map, e.g. --map "
            + " --map ".join(f"SRC={c}" for c in missing))
    used = set(chosen.values()) | set(mapping)
    ignored = [str(col) for col in found if col not in used]
    return ColumnPlan(table, {src: dst for dst, src in chosen.items()}, ignored)


def _lookup(words: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_norm(w): value for value, ws in words.items() for w in ws}


_LEVELS = _lookup(LEVEL_WORDS)
_ROADS = _lookup(ROAD_WORDS)


def _translate(series: pd.Series, table: dict[str, str], where: pd.Series, what: str,
               accepted: str, problems: list[Problem]) -> pd.Series:
    out = []
    for value, w in zip(series.tolist(), where.tolist(), strict=True):
        text = None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()
        if not text:
            out.append(None)
            continue
        hit = table.get(_norm(text))
        if hit is None:
            problems.append(Problem(w, f"unknown {what} {text!r} (accepted: {accepted})"))
        out.append(hit)
    return pd.Series(out, index=series.index, dtype=object)


def normalise_values(table: str, frame: pd.DataFrame, kind_words: dict[str, str] | None = None) -> list[Problem]:
    """Translate level / kind words in place to the values the schema takes.

    ``kind_words`` maps normalised facility-kind words (codes, Chinese and English names) to
    codes; unknown facility kinds are left as written so the writer lists them with the known
    codes. Returns problems for unknown levels and road kinds.
    """
    problems: list[Problem] = []
    where = frame["_where"]
    if table == "admin_area" and "level" in frame:
        accepted = "; ".join(f"{lvl} ({'/'.join(LEVEL_WORDS[lvl][1:5])})" for lvl in LEVELS)
        frame["level"] = _translate(frame["level"], _LEVELS, where, "level", accepted, problems)
    if table == "road" and "kind" in frame:
        accepted = ", ".join(ROAD_KINDS) + " (or OSM highway values / 快速路, 主干路, 次干路, 支路)"
        frame["kind"] = _translate(frame["kind"], _ROADS, where, "road kind", accepted, problems)
    if table == "facility" and "kind" in frame and kind_words:
        frame["kind"] = [kind_words.get(_norm(v), v) if isinstance(v, str) else v for v in frame["kind"]]
    return problems


def facility_kind_words(rows: list[tuple[str, str, str]]) -> dict[str, str]:
    """``[(code, name_zh, name_en), ...]`` → normalised word → code."""
    return {_norm(word): code for code, zh, en in rows for word in (code, zh, en) if word}


def coordinate_columns(found: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Which CSV columns hold lon/lat, x/y or WKT: ``{"lon": "经度", ...}``."""
    out = {dst: src for src, dst in mapping.items() if dst in COORDINATE_COLUMNS}
    for role, words in COORDINATE_ALIASES.items():
        if role in out:
            continue
        normed = {_norm(w) for w in words}
        hits = [col for col in found if col not in mapping and _norm(col) in normed]
        if len(hits) > 1:
            raise InvalidInput(f"columns {', '.join(map(repr, hits))} all look like {role!r}; "
                               f"pick one with --map {hits[0]}={role}")
        if hits:
            out[role] = hits[0]
    return out
