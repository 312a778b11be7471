"""Where a deployment runs: a taxonomy of places, each with what the law makes of it.

The same place is read differently by each law, so each type carries every reading:

- CN-FR-13 (Measures Art 13): private spaces where face recognition is banned outright
  (hotel rooms, public bathrooms, changing rooms, toilets "and other places that may infringe
  others' privacy"); a place type facegate does not know is treated as one of them, since it
  cannot be shown not to be.
- PIPL Art 26: public places, where image collection may serve public security only, within
  a defined area and with prominent signs.
- SPC 2021 Art 2: business places (hotels, malls, banks, stations, airports, stadiums,
  entertainment venues), where unlawful face recognition is an infringement.
- AI Act Art 3(44): publicly accessible spaces (any place open to an undetermined number of
  people, whoever owns it) — the ban on real-time remote identification for law enforcement.
- AI Act Art 5(1)(f): workplaces and education institutions — no emotion recognition. Every
  business place is somebody's workplace: its staff are in view of its cameras.
- ``physical``: a place where signs can be posted (not an online service or a personal device).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    name: str
    en: str
    zh: str
    banned: bool = False
    public: bool = False
    business: bool = False
    publicly_accessible: bool = False
    workplace: bool = False
    education: bool = False
    physical: bool = True


def _banned(name: str, en: str, zh: str) -> Place:
    return Place(name, en, zh, banned=True)


def _public(name: str, en: str, zh: str) -> Place:
    return Place(name, en, zh, public=True, publicly_accessible=True)


def _business(name: str, en: str, zh: str) -> Place:
    return Place(name, en, zh, business=True, publicly_accessible=True, workplace=True)


PLACES: dict[str, Place] = {
    p.name: p
    for p in (
        # CN-FR-13: banned outright
        _banned("hotel_room", "hotel room", "宾馆客房"),
        _banned("bathroom", "public bathroom", "公共浴室"),
        _banned("toilet", "toilet", "公共卫生间"),
        _banned("changing_room", "changing room", "更衣室"),
        _banned("fitting_room", "fitting room", "试衣间"),
        _banned("shower_room", "shower room", "淋浴间"),
        _banned("dormitory_room", "dormitory room", "宿舍房间"),
        # PIPL Art 26: public places
        _public("public_place", "public place", "公共场所"),
        _public("street", "street", "街道"),
        _public("public_square", "public square", "广场"),
        _public("park", "park", "公园"),
        _public("transport_hub", "station or airport", "车站或机场"),
        # SPC 2021 Art 2: business places (publicly accessible, staffed)
        _business("shop", "shop", "商店"),
        _business("mall", "shopping mall", "商场"),
        _business("bank", "bank branch", "银行网点"),
        _business("hotel_lobby", "hotel lobby", "宾馆大堂"),
        _business("restaurant", "restaurant", "餐馆"),
        _business("venue", "stadium, theatre or entertainment venue", "体育场馆或娱乐场所"),
        _business("gym", "gym", "健身房"),
        # publicly accessible and staffed, not a business place
        Place("hospital", "hospital", "医院", publicly_accessible=True, workplace=True),
        # workplaces not open to the public
        Place("office", "office", "办公场所", workplace=True),
        Place("workplace", "workplace", "工作场所", workplace=True),
        Place("factory", "factory", "工厂", workplace=True),
        # education institutions (staffed too)
        Place("school", "school", "学校", workplace=True, education=True),
        Place("university", "university", "高等院校", workplace=True, education=True),
        Place("kindergarten", "kindergarten", "幼儿园", workplace=True, education=True),
        # private, access-controlled residential space
        Place("residential_compound", "residential compound", "住宅小区"),
        # no place to post signs: the person uses their own device or an online service
        Place("device", "personal device", "个人设备", physical=False),
        Place("online", "online service", "线上服务", physical=False),
    )
}


def place(name: str) -> Place | None:
    """The place type called ``name``; None when facegate does not know it."""
    return PLACES.get(name)


def place_names() -> list[str]:
    return sorted(PLACES)
