"""What realistic case traffic looks like: category and channel mixes, the time-of-day and
weekday profile, descriptions and attribute answers. Pure Python (shared by the live
simulator and the demo history); no database.
"""

from __future__ import annotations

import random

#: Relative frequency of categories (city-management practice: street order and appearance
#: dominate; components and community-governance kinds follow).
CATEGORY_WEIGHTS = {
    "garbage": 18, "illegal_parking": 16, "street_vending": 11, "illegal_ads": 9, "road_damage": 7,
    "streetlight": 5, "greenery_damage": 4, "noise": 6, "construction_noise": 4, "manhole_cover": 3,
    "water_logging": 2, "safety_hazard": 4, "dispute": 4, "elderly_care": 3, "illegal_building": 2,
    "market_order": 2,
}
#: Channel mix, and the categories each automatic channel can see.
CHANNEL_WEIGHTS = {"supervisor": 45, "public": 25, "video": 18, "iot": 7, "assigned": 5}
CHANNEL_CATEGORIES = {
    "video": ("illegal_parking", "street_vending", "garbage", "illegal_ads", "water_logging"),
    "iot": ("manhole_cover", "water_logging", "streetlight", "safety_hazard"),
}
#: Reports per hour of the local day, relative (busy mornings and late afternoons, quiet nights).
HOUR_PROFILE = (0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.5, 1.0, 1.5, 1.7, 1.6, 1.4, 1.1, 1.2, 1.5, 1.6, 1.5,
                1.3, 1.1, 0.9, 0.7, 0.5, 0.35, 0.2)
#: Monday..Sunday, relative (supervisor patrols are thinner at weekends).
WEEKDAY_PROFILE = (1.1, 1.05, 1.0, 1.0, 1.05, 0.8, 0.7)

DESCRIPTIONS = {
    "garbage": ("路边垃圾堆积未清运", "垃圾桶满溢", "绿化带内有建筑垃圾"),
    "illegal_parking": ("机动车占用人行道停放", "非机动车乱停放堵塞盲道", "消防通道被车辆占用"),
    "street_vending": ("流动摊贩占道经营", "早餐摊点占用人行道", "夜市摊点油烟扰民"),
    "illegal_ads": ("电线杆张贴小广告", "墙面喷涂办证广告", "违规设置落地广告牌"),
    "road_damage": ("人行道地砖松动", "路面坑洼积水", "道路井周沉降"),
    "streetlight": ("路灯不亮", "路灯白天常亮", "灯杆倾斜"),
    "greenery_damage": ("行道树倒伏", "绿地被踩踏损坏", "树枝遮挡交通标志"),
    "noise": ("夜间广场舞噪声扰民", "商铺高音喇叭招揽顾客", "楼上装修噪声"),
    "construction_noise": ("夜间施工噪声", "工地未按时停工", "渣土车夜间作业"),
    "manhole_cover": ("井盖缺失", "井盖破损", "井盖松动有响声"),
    "water_logging": ("路口积水", "地下通道积水", "小区门口积水"),
    "safety_hazard": ("楼道堆放杂物堵塞消防通道", "电动车楼道内充电", "广告牌松动有坠落风险"),
    "dispute": ("邻里漏水纠纷", "停车位纠纷", "宠物扰民纠纷"),
    "elderly_care": ("独居老人需要助餐", "老人行动不便需要就医协助", "独居老人多日未出门"),
    "illegal_building": ("楼顶违法搭建", "底楼违规扩建", "绿地内搭建棚屋"),
    "market_order": ("菜场外占道经营", "商户跨门经营", "市场内秩序混乱"),
}


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def pick_report(rng: random.Random) -> tuple[str, str]:
    """(category_code, channel) of one report, channels seeing only what they can."""
    channel = pick(rng, CHANNEL_WEIGHTS)
    allowed = CHANNEL_CATEGORIES.get(channel)
    weights = {k: w for k, w in CATEGORY_WEIGHTS.items() if allowed is None or k in allowed}
    return pick(rng, weights), channel


def describe(rng: random.Random, category: str) -> str:
    return rng.choice(DESCRIPTIONS.get(category, ("现场发现问题",)))


def attributes_for(rng: random.Random, category: str) -> dict:
    """Answers to the category's questions (the seeded Open311 attributes)."""
    if category == "manhole_cover":
        return {"cover_state": rng.choice(("missing", "broken", "loose"))}
    if category == "water_logging":
        return {"depth_cm": rng.choice((5, 10, 15, 20, 30))}
    if category == "elderly_care":
        return {"need": rng.sample(["meal", "medical", "visit"], rng.randint(1, 2))}
    return {}


def day_factor(hour: int, weekday: int) -> float:
    """How busy an hour is relative to the average hour (mean over a week ≈ 1)."""
    mean_hour = sum(HOUR_PROFILE) / 24
    mean_day = sum(WEEKDAY_PROFILE) / 7
    return HOUR_PROFILE[hour] / mean_hour * WEEKDAY_PROFILE[weekday] / mean_day
