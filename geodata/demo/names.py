"""Chinese names for the synthetic demo district: places, roads, people.

Everything here is drawn from a :class:`numpy.random.Generator` passed in by the caller, so a
seed fixes every name. The fragments are ordinary words used in Chinese place and road names;
the people are invented (surname + given name), never real residents.
"""

from __future__ import annotations

import numpy as np

#: Common surnames (roughly by frequency), for invented supervisor names.
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲红建国文辉鹏飞燕萍晨宇浩然欣怡佳琪婷雪梅兰峰")

#: Fragments for place names (communities, estates, generated streets/towns).
PLACE = [
    "宝林", "海滨", "泰和", "通河", "乾溪", "罗阳", "美兰", "馨佳", "共富", "永乐", "长江", "淞滨", "盘古",
    "丹霞", "春华", "秋实", "东林", "西园", "南苑", "北塘", "翠竹", "银杏", "紫薇", "玉兰", "桂花", "梅林",
    "和平", "友谊", "团结", "新华", "红旗", "建设", "胜利", "幸福", "安康", "富锦", "锦秋", "华灵", "陈行",
    "塘湾", "杨盛", "草庙", "沈巷", "潘桥", "三官", "花园", "金星", "联合", "高境", "逸仙", "三门", "殷行",
    "庙头", "白鹤", "朱家", "张家", "王家", "李家", "钱家", "施家", "沙浦", "石洞", "练祁", "蕰藻", "新川",
    "樱花", "临江", "听涛", "望海", "观澜", "映月", "晨曦", "星河", "明珠", "锦绣", "嘉苑", "兴业", "瑞和",
    "泗塘", "行知", "陶行", "宝钢", "盛桥", "月浦", "杨泰", "聚源", "秀浦", "顾泾", "菊泉", "镜泊", "牡丹",
]
URBAN_SUFFIX = ["一村", "二村", "三村", "五村", "七村", "新村", "苑", "花园", "公寓", "社区", "新城", "家园"]

#: Fragments for road names; many Shanghai roads are named after provinces and cities.
ROAD = [
    "牡丹江", "友谊", "同济", "水产", "共和新", "沪太", "泰和", "长江", "殷高", "江杨", "蕰川", "月罗",
    "逸仙", "淞滨", "宝杨", "海江", "盘古", "丹霞山", "陆翔", "联谊", "镜泊湖", "呼玛", "爱辉", "漠河",
    "松花江", "黑龙江", "吉林", "长白山", "延吉", "富锦", "抚远", "绥化", "嫩江", "双城", "兰州", "西宁",
    "昆明", "贵阳", "南宁", "桂林", "柳州", "福州", "厦门", "泉州", "漳州", "赣州", "九江", "南昌", "宜春",
    "安庆", "芜湖", "合肥", "淮南", "徐州", "扬州", "镇江", "常州", "无锡", "苏州", "嘉兴", "湖州", "绍兴",
    "宁波", "温州", "台州", "金华", "衢州", "丽水", "济南", "青岛", "烟台", "威海", "潍坊", "临沂", "开封",
    "洛阳", "郑州", "信阳", "襄阳", "荆州", "宜昌", "岳阳", "衡阳", "株洲", "湘潭", "韶关", "佛山", "惠州",
    "汕头", "湛江", "海口", "三亚", "成都", "绵阳", "乐山", "宜宾", "泸州", "达州", "遵义", "曲靖", "大理",
    "拉萨", "日喀则", "银川", "石嘴山", "乌鲁木齐", "喀什", "伊犁", "太原", "大同", "呼和浩特", "包头",
    "石家庄", "保定", "承德", "唐山", "沈阳", "大连", "鞍山", "丹东", "锦州", "营口", "抚顺", "本溪",
    "新二", "新沪", "环镇", "场中", "场联", "锦秋", "菊联", "美丹", "通南", "纪蕴", "綦安", "罗北", "潘泾",
]
ROAD_SUFFIX = {
    "expressway": ["高速", "快速路"],
    "trunk": ["公路", "大道"],
    "primary": ["路", "大道"],
    "secondary": ["路", "街"],
    "local": ["路", "街", "支路"],
    "path": ["弄"],
}

#: Digits for ordinal grid names (第N网格 uses Arabic numerals, names of streets use these).
CN_DIGITS = "零一二三四五六七八九十"


def supervisor_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` invented names: a surname and a one- or two-character given name."""
    sur = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.6
    return [
        SURNAMES[s] + GIVEN[a] + (GIVEN[b] if t else "")
        for s, a, b, t in zip(sur.tolist(), g1.tolist(), g2.tolist(), two.tolist(), strict=True)
    ]


class UniqueNamer:
    """Draws names from fragments without repeating one (within this namer).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; the sequence of names depends only on it.
    fragments : list of str
        Word stems to draw from; when every stem is used once, stems are combined in pairs.
    """

    def __init__(self, rng: np.random.Generator, fragments: list[str]):
        self._rng = rng
        self._fragments = list(fragments)
        self._used: dict[str, None] = {}  # an insertion-ordered set, so iteration never depends on hashing

    def take(self, suffixes: list[str]) -> str:
        """A fresh ``fragment + suffix`` name (suffix chosen at random from ``suffixes``)."""
        for attempt in range(200):
            stem = self._fragments[int(self._rng.integers(len(self._fragments)))]
            if attempt >= 40:  # stems used up: combine two, e.g. 宝林 + 东 → 宝林东
                stem += self._fragments[int(self._rng.integers(len(self._fragments)))][:1]
            name = stem + suffixes[int(self._rng.integers(len(suffixes)))]
            if name not in self._used:
                self._used[name] = None
                return name
        # 200 draws without a fresh name only happens for huge counts: number the stem.
        name = f"{stem}{len(self._used) + 1}{suffixes[0]}"
        self._used[name] = None
        return name

    def reserve(self, name: str) -> None:
        """Mark ``name`` as used (e.g. a real name placed by hand)."""
        self._used[name] = None


def place_namer(rng: np.random.Generator) -> UniqueNamer:
    return UniqueNamer(rng, PLACE)


def community_names(namer: UniqueNamer, rural: list[bool]) -> list[tuple[str, str]]:
    """Names of communities: ``(short, official)`` pairs.

    Urban ones are residents' committees, e.g. ``("宝林八村", "宝林八村居委会")``; rural ones
    villagers' committees, e.g. ``("塘湾村", "塘湾村村委会")``.
    """
    out = []
    for is_rural in rural:
        if is_rural:
            short = namer.take(["村"])
            out.append((short, short + "村委会"))
        else:
            short = namer.take(URBAN_SUFFIX)
            out.append((short, short + "居委会"))
    return out


ROAD_MIDDLE = ["", "东", "西", "南", "北", "中", "一", "二", "三"]


class RoadNamer:
    """Unique road names: ``stem + (direction/ordinal) + suffix``, e.g. 牡丹江路, 长江西路, 泰和一支路.

    Plain ``stem + suffix`` names come first; names with a direction or ordinal follow once
    the plain ones are used, as Chinese road names do (长江西路, 共和新路).
    """

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._used: dict[str, None] = {}
        self._order = [ROAD[i] for i in rng.permutation(len(ROAD))]
        self._cursor: dict[str, int] = {}

    def take(self, kind: str) -> str:
        suffixes = ROAD_SUFFIX[kind]
        for _ in range(len(ROAD) * len(ROAD_MIDDLE) * len(suffixes)):
            i = self._cursor.get(kind, int(self._rng.integers(len(self._order))))
            self._cursor[kind] = i + 1
            stem = self._order[i % len(self._order)]
            middle = ROAD_MIDDLE[(i // len(self._order)) % len(ROAD_MIDDLE)]
            suffix = suffixes[int(self._rng.integers(len(suffixes)))]
            name = stem + middle + suffix
            if name not in self._used:
                self._used[name] = None
                return name
        name = f"{self._order[0]}{len(self._used) + 1}号{suffixes[0]}"
        self._used[name] = None
        return name
