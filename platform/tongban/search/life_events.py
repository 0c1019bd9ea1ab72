"""The life events (人生事件 / 企业生命周期) a service file may file itself under (`life_events:`).

A fixed catalogue, in the order a life (and a company's life) runs, after the national portal's
themes: the portal lists these, and a service names the ids of those it belongs to. Each event's
own words are searched too, so "落户" finds every service filed under settling.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LifeEvent:
    id: str
    name: dict[str, str]
    words: dict[str, tuple[str, ...]]  # other words people use for it, searched like keywords


def _event(id: str, zh: str, en: str, words_zh: tuple[str, ...] = (),
           words_en: tuple[str, ...] = ()) -> LifeEvent:
    return LifeEvent(id, {"zh": zh, "en": en}, {"zh": words_zh, "en": words_en})


LIFE_EVENTS: tuple[LifeEvent, ...] = (
    _event("birth", "出生", "Having a baby", ("生育", "新生儿", "生孩子", "出生登记"),
           ("birth", "newborn", "baby")),
    _event("schooling", "入学", "Starting school", ("上学", "入园", "教育", "升学"),
           ("school", "education", "enrolment")),
    _event("employment", "就业", "Work and jobs", ("工作", "找工作", "求职", "社保", "人才"),
           ("job", "jobs", "work", "employment")),
    _event("residence", "居住", "Living in the city", ("居住证", "租房", "积分"),
           ("residence", "residence permit", "housing")),
    _event("settling", "落户", "Household registration", ("户口", "户籍", "迁户口", "户口迁入"),
           ("hukou", "household registration", "settle")),
    _event("marriage", "婚育", "Marriage and family", ("结婚", "婚姻", "家庭"),
           ("marriage", "family")),
    _event("community", "城市生活", "City life and neighbourhood", ("市容", "投诉", "举报", "城管"),
           ("complaint", "report", "neighbourhood")),
    _event("retirement", "退休养老", "Retirement", ("退休", "养老", "养老金"),
           ("retirement", "pension")),
    _event("business-start", "开办企业", "Starting a business",
           ("开公司", "注册公司", "设立登记", "营业执照"),
           ("start a business", "company registration", "business licence")),
    _event("business-operation", "企业经营", "Running a business", ("经营", "变更", "信用", "纳税"),
           ("operation", "credit", "tax")),
    _event("business-closure", "企业注销", "Closing a business", ("注销", "歇业", "关闭公司"),
           ("closure", "deregistration")),
)

BY_ID: dict[str, LifeEvent] = {event.id: event for event in LIFE_EVENTS}
