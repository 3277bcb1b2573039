"""Interface management: the departments and subscribers the platform talks to, seeded by ``flask setup``
with the simulator's address and overridable by settings (``INTEGRATIONS_BASE_URL`` for all of them,
``INTERFACE_<CODE>_URL`` for one)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.integrations.models import Interface


@dataclass(frozen=True)
class InterfaceDefault:
    code: str
    name: str
    topics: tuple[str, ...] = ()
    timeout_ms: int = 3000
    max_retries: int = 1


DEFAULTS = [
    InterfaceDefault("gongan", "公安身份核验"),
    InterfaceDefault("minzheng", "民政婚姻登记"),
    InterfaceDefault("shichang", "市场监管营业执照"),
    InterfaceDefault("jinrong", "金融监管金融许可证"),
    InterfaceDefault("zhujian", "住建网签备案", topics=("registration.result",)),
    InterfaceDefault("shuiwu", "税务征收", topics=("registration.result", "tax.case")),
    InterfaceDefault("fayuan", "法院文书"),
    InterfaceDefault("sifa", "司法公证"),
    InterfaceDefault("weijian", "卫健出生死亡证明"),
    InterfaceDefault("province", "省级不动产登记平台", topics=("case.progress", "registration.result")),
    InterfaceDefault("sms", "短信平台", topics=("case.progress",)),
    InterfaceDefault("zhengzhao", "电子证照库", topics=("certificate.issued", "certificate.status")),
    InterfaceDefault("face", "人脸核验"),
    InterfaceDefault("payment", "统一支付"),
    InterfaceDefault("express", "邮政快递"),
]


def ensure_interfaces(session: Session, settings: Settings) -> list[Interface]:
    """Create missing interface rows; an explicit ``INTERFACE_<CODE>_URL`` also updates an existing one."""
    existing = {i.code: i for i in session.execute(select(Interface)).scalars()}
    rows = []
    for d in DEFAULTS:
        override = os.environ.get(f"INTERFACE_{d.code.upper()}_URL")
        iface = existing.get(d.code)
        if iface is None:
            iface = Interface(code=d.code, name=d.name, base_url=override or settings.integrations_base_url,
                              timeout_ms=d.timeout_ms, max_retries=d.max_retries, topics=list(d.topics),
                              inbox_path=f"/{d.code}/inbox" if d.topics else None)
            iface.ensure_id()
            iface.credential = settings.integrations_api_key
            session.add(iface)
        elif override:
            iface.base_url = override
        rows.append(iface)
    session.flush()
    return rows
