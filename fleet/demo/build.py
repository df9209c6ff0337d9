"""Build the Shenzhen demo data set (CSV files in `data/demo/`) deterministically from a seed.

Run `python -m fleet.demo.build` to regenerate; the files are committed so a fresh install needs nothing else,
and `tests/test_demo_data.py` checks that a rebuild reproduces them byte for byte.

Every planning number names its source in `data/reference/vehicles.csv` / `tariffs.json` (row id), or is marked
as an assumption here. The companies are fictitious; depot coordinates are real industrial areas of Shenzhen
and delivery points are sampled around real district centres.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy_financial as npf

from evfleet_data import DEMO_DIR
from routing.matrix import haversine_pairs_km

SEED = 20261125
ORDER_FIRST_DAY = dt.date(2026, 11, 23)
ORDER_DAYS = 14
METER_FIRST_DAY = dt.date(2026, 10, 1)
METER_LAST_DAY = dt.date(2026, 11, 24)
TZ = "+08:00"

LESSOR = {"code": "SZEL", "name": "Shenzhen E-Logistics Leasing Co. (demo)"}

LESSEES = [
    {"code": "PCX", "name": "Pengcheng Express Parcel (demo)", "kind": "parcel_courier"},
    {"code": "FRESH", "name": "Nanhai Fresh Cold-Chain Grocer (demo)", "kind": "cold_chain"},
    {"code": "EMALL", "name": "Longgang E-Mall Fulfilment (demo)", "kind": "ecommerce"},
]

# Base (flat) prices: tariffs.json price_levels `illustrative_flat` (0.68, unverified, the data/reference/CHARGING.md benchmark
# price) for the Guangdong agency-purchase tariff and `gd_market_reference_2024` (0.463, secondary) for the
# Shenzhen market-user tariff. Demand charges: `benchmark_demand` (32, unverified) and `sz_demand_model_default`
# (42, weak).
TARIFFS = [
    {
        "code": "GD-TOU-2021",
        "name": "Guangdong I&C TOU 1.7/1/0.38 on 0.68 flat",
        "reference_id": "gd_ic_tou_2021",
        "base_price_cny_per_kwh": "0.6800",
        "base_price_source": "tariffs.json price_levels illustrative_flat",
        "demand_charge_cny_per_kw_month": "32.0000",
        "demand_charge_source": "tariffs.json demand_charges benchmark_demand",
        "confidence": "unverified",
    },
    {
        "code": "SZ-MKT-2024",
        "name": "Shenzhen market TOU 1.53/1/0.32 on 0.463",
        "reference_id": "sz_market_tou_2024",
        "base_price_cny_per_kwh": "0.4630",
        "base_price_source": "tariffs.json price_levels gd_market_reference_2024",
        "demand_charge_cny_per_kw_month": "42.0000",
        "demand_charge_source": "tariffs.json demand_charges sz_demand_model_default",
        "confidence": "weak",
    },
]

# Vehicle models. Sources are vehicles.csv row ids; values with no source row are assumptions (see note).
VEHICLE_MODELS = [
    {
        "code": "BEV-V6E",
        "kind": "bev",
        "maker": "Geely Farizon",
        "name": "星享 V6E",
        "vehicle_class": "2-seat van",
        "gvw_kg": 3000,
        "payload_kg": 1555,
        "price_cny": 115000,
        "battery_kwh": 51.39,
        "usable_fraction": 0.90,
        "consumption_kwh_per_km_empty": 0.15,
        "consumption_kwh_per_km_full": 0.20,
        "max_charge_kw": 60,
        "diesel_l_per_100km": "",
        "source_refs": "farizon_v6e (payload, battery); plan_bev_van_2_5_3t (15-20 kWh/100km, price mid 80k-150k); "
        "usable fraction 0.90 and 60 kW DC are assumptions",
        "confidence": "unverified",
    },
    {
        "code": "BEV-H9E-81",
        "kind": "bev",
        "maker": "Geely Farizon",
        "name": "远程星智 H9E 81 kWh",
        "vehicle_class": "4.5 t light truck",
        "gvw_kg": 4495,
        "payload_kg": 1800,
        "price_cny": 180000,
        "battery_kwh": 81,
        "usable_fraction": 0.90,
        "consumption_kwh_per_km_empty": 0.25,
        "consumption_kwh_per_km_full": 0.35,
        "max_charge_kw": 80,
        "diesel_l_per_100km": "",
        "source_refs": "farizon_h8e_h9e (GVW, 81 kWh pack); plan_bev_truck_4_5t (25-35 kWh/100km); "
        "byd_t5_farizon_e200 (price); payload 1800 kg, usable 0.90 and 80 kW are assumptions",
        "confidence": "unverified",
    },
    {
        "code": "BEV-TCOLD-120",
        "kind": "bev",
        "maker": "Geely Farizon",
        "name": "星智 T cold-chain 120 kWh",
        "vehicle_class": "refrigerated light truck",
        "gvw_kg": 4495,
        "payload_kg": 1500,
        "price_cny": 250000,
        "battery_kwh": 120,
        "usable_fraction": 0.90,
        "consumption_kwh_per_km_empty": 0.30,
        "consumption_kwh_per_km_full": 0.42,
        "max_charge_kw": 120,
        "diesel_l_per_100km": "",
        "source_refs": "farizon_t_cold (120 kWh CATL pack); plan_bev_truck_4_5t (+20 % for refrigeration, as its "
        "note says consumption is higher); price at plan_bev_truck_4_5t high; payload, usable, 120 kW assumptions",
        "confidence": "unverified",
    },
    {
        "code": "DSL-3.5T",
        "kind": "diesel",
        "maker": "",
        "name": "3.5 t diesel delivery truck",
        "vehicle_class": "3.5 t diesel urban-delivery truck",
        "gvw_kg": 3500,
        "payload_kg": 1500,
        "price_cny": 100000,
        "battery_kwh": "",
        "usable_fraction": "",
        "consumption_kwh_per_km_empty": "",
        "consumption_kwh_per_km_full": "",
        "max_charge_kw": "",
        "diesel_l_per_100km": 10.0,
        "source_refs": "diesel_3_5t_delivery (10-20 L/100km, low end taken: conservative baseline); "
        "price at diesel_4_5t_light_truck low; payload assumption",
        "confidence": "weak",
    },
    {
        "code": "DSL-4.5T",
        "kind": "diesel",
        "maker": "",
        "name": "4.5 t diesel light truck",
        "vehicle_class": "4.5 t diesel light truck",
        "gvw_kg": 4495,
        "payload_kg": 1800,
        "price_cny": 125000,
        "battery_kwh": "",
        "usable_fraction": "",
        "consumption_kwh_per_km_empty": "",
        "consumption_kwh_per_km_full": "",
        "max_charge_kw": "",
        "diesel_l_per_100km": 12.0,
        "source_refs": "refcase_diesel_4_5t (12 L/100km); diesel_4_5t_light_truck (price mid 100k-150k)",
        "confidence": "unverified",
    },
    {
        "code": "DSL-4.5T-REEFER",
        "kind": "diesel",
        "maker": "",
        "name": "4.5 t diesel refrigerated truck",
        "vehicle_class": "4.5 t diesel refrigerated truck",
        "gvw_kg": 4495,
        "payload_kg": 1500,
        "price_cny": 150000,
        "battery_kwh": "",
        "usable_fraction": "",
        "consumption_kwh_per_km_empty": "",
        "consumption_kwh_per_km_full": "",
        "max_charge_kw": "",
        "diesel_l_per_100km": 15.0,
        "source_refs": "diesel_4_5t_light_truck (11-15 L/100km, high end for refrigeration; price high)",
        "confidence": "unverified",
    },
]
REPLACES = {"BEV-V6E": "DSL-3.5T", "BEV-H9E-81": "DSL-4.5T", "BEV-TCOLD-120": "DSL-4.5T-REEFER"}


@dataclass(frozen=True)
class DepotSpec:
    code: str
    name: str
    address: str
    district: str
    lat: float
    lon: float
    lessee: str
    tariff: str
    grid_kw: float
    ev_model: str
    evs: int
    diesels: int
    cabinets: int
    connectors_per_cabinet: int
    connector_kw: float
    cabinet_kw: float
    v2g_connectors: int
    orders_low: int
    orders_high: int
    plate_block: int


DEPOTS = [
    DepotSpec(
        "SZ-BA",
        "Bao'an Fuyong parcel hub",
        "深圳市宝安区福永街道福海工业区",
        "Bao'an",
        22.6723,
        113.8196,
        "PCX",
        "GD-TOU-2021",
        400,
        "BEV-V6E",
        22,
        3,
        3,
        4,
        60,
        180,
        0,
        90,
        140,
        1,
    ),
    DepotSpec(
        "SZ-LH",
        "Longhua Guanlan parcel hub",
        "深圳市龙华区观澜街道桂花工业区",
        "Longhua",
        22.7161,
        114.0519,
        "PCX",
        "GD-TOU-2021",
        360,
        "BEV-V6E",
        18,
        2,
        2,
        5,
        60,
        240,
        0,
        70,
        120,
        3,
    ),
    DepotSpec(
        "SZ-NS",
        "Nanshan Xili cold-chain centre",
        "深圳市南山区西丽街道留仙大道物流园",
        "Nanshan",
        22.5833,
        113.9531,
        "FRESH",
        "GD-TOU-2021",
        500,
        "BEV-TCOLD-120",
        15,
        2,
        2,
        4,
        120,
        360,
        2,
        40,
        70,
        5,
    ),
    DepotSpec(
        "SZ-LG",
        "Longgang Pinghu fulfilment centre",
        "深圳市龙岗区平湖街道华南城物流园",
        "Longgang",
        22.6843,
        114.1335,
        "EMALL",
        "SZ-MKT-2024",
        700,
        "BEV-H9E-81",
        25,
        3,
        4,
        4,
        80,
        240,
        0,
        60,
        110,
        7,
    ),
]
DIESEL_FOR = {"SZ-BA": "DSL-3.5T", "SZ-LH": "DSL-3.5T", "SZ-NS": "DSL-4.5T-REEFER", "SZ-LG": "DSL-4.5T"}

# District centres (approximate) with street names, for delivery points and addresses.
ANCHORS = [
    ("福田区", 22.5410, 114.0550, ["深南大道", "福华路", "金田路", "彩田路", "上步中路"]),
    ("罗湖区", 22.5480, 114.1310, ["人民南路", "东门中路", "宝安南路", "笋岗路"]),
    ("南山区", 22.5330, 113.9300, ["南海大道", "科苑路", "创业路", "南山大道", "学府路"]),
    ("南山区", 22.5830, 113.9600, ["留仙大道", "沙河西路", "茶光路"]),
    ("宝安区", 22.5550, 113.8840, ["新安六路", "建安一路", "创业一路", "宝民一路"]),
    ("宝安区", 22.6280, 113.8380, ["西乡大道", "宝源路", "航城大道"]),
    ("宝安区", 22.6900, 113.8400, ["福永大道", "凤凰路", "沙井路"]),
    ("宝安区", 22.7350, 113.8300, ["沙井大街", "新沙路", "北环路"]),
    ("龙华区", 22.6560, 114.0450, ["人民路", "民治大道", "东环二路"]),
    ("龙华区", 22.7150, 114.0500, ["观澜大道", "环观南路", "大布巷路"]),
    ("光明区", 22.7490, 113.9360, ["光明大道", "华夏路", "观光路"]),
    ("龙岗区", 22.6050, 114.1160, ["布吉路", "龙岗大道", "吉华路"]),
    ("龙岗区", 22.6850, 114.1300, ["平湖大街", "华南大道", "富民路"]),
    ("龙岗区", 22.7210, 114.2470, ["龙城大道", "龙翔大道", "爱联路"]),
    ("坪山区", 22.6910, 114.3460, ["坪山大道", "深汕路"]),
    ("盐田区", 22.5570, 114.2370, ["深盐路", "沙头角路"]),
]

WINDOWS = {  # lessee kind -> (window options (start h, end h), weights, service minutes range, demand kg median/sigma)
    "parcel_courier": (
        [(9, 12), (10, 13), (13, 16), (14, 18), (9, 18)],
        [0.25, 0.2, 0.2, 0.2, 0.15],
        (5, 12),
        (60, 0.7),
    ),
    "cold_chain": ([(6, 9), (7, 10), (8, 11), (14, 17)], [0.3, 0.3, 0.25, 0.15], (15, 25), (320, 0.45)),
    "ecommerce": ([(9, 21), (9, 13), (13, 18), (18, 21)], [0.4, 0.2, 0.25, 0.15], (8, 15), (150, 0.6)),
}
DAILY_KM = {"BEV-V6E": (80, 150), "BEV-H9E-81": (100, 170), "BEV-TCOLD-120": (110, 190)}
CHARGER_EFFICIENCY_ASSUMED = 0.92  # vehicle-side kWh / grid-side kWh in the synthetic meter data (assumption)


def _vin(rng: np.random.Generator, serial: int) -> str:
    """A syntactically valid 17-character VIN (ISO 3779 check digit); WMI 'L6T' (Geely), synthetic serial."""
    translit = {
        **{str(d): d for d in range(10)},
        **dict(zip("ABCDEFGH", range(1, 9))),
        **dict(zip("JKLMN", range(1, 6))),
        "P": 7,
        "R": 9,
        **dict(zip("STUVWXYZ", range(2, 10))),
    }
    weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    vds = "".join(rng.choice(list(alphabet), 5))
    body = "L6T" + vds + "0" + "T" + "S" + f"{serial:06d}"
    total = sum(translit[c] * w for c, w in zip(body, weights))
    check = total % 11
    return body[:8] + ("X" if check == 10 else str(check)) + body[9:]


def _on_land(lat: float, lon: float) -> bool:
    """Crude Shenzhen land mask: inside the city's box and out of Shenzhen Bay / the Pearl River estuary."""
    if not (22.50 <= lat <= 22.80 and 113.78 <= lon <= 114.38):
        return False
    if lon < 113.90 and lat < 22.545:
        return False
    if lon < 113.80 and lat < 22.70:
        return False
    return not (lat < 22.52 and lon < 114.00)


def _delivery_point(rng: np.random.Generator, depot: DepotSpec) -> tuple[str, float, float]:
    dists = haversine_pairs_km(
        depot.lat, depot.lon, np.array([a[1] for a in ANCHORS]), np.array([a[2] for a in ANCHORS])
    )
    weights = np.exp(-dists / 9.0)
    weights /= weights.sum()
    while True:
        k = int(rng.choice(len(ANCHORS), p=weights))
        district, lat0, lon0, streets = ANCHORS[k]
        lat = float(lat0 + rng.normal(0, 0.012))
        lon = float(lon0 + rng.normal(0, 0.014))
        if _on_land(lat, lon):
            street = streets[int(rng.integers(len(streets)))]
            return f"深圳市{district}{street}{int(rng.integers(1, 400))}号", round(lat, 6), round(lon, 6)


# Fictional customers for the route sheets and the map's stop labels. Drawn from their own generator (seeded
# SEED + 1) so that adding them left every other demo figure (orders, plans, metered days) unchanged.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
SHOPS = {
    "parcel_courier": ("便利店", "文具店", "五金店", "药房", "快递驿站", "服装店"),
    "cold_chain": ("生鲜超市", "餐厅", "茶餐厅", "火锅店", "水果店", "酒楼"),
}
NOTES = (
    "到达前电话联系",
    "请从后门卸货",
    "前台代收",
    "冷藏货品请尽快入库",
    "大厦限高2.2米，走地面卸货区",
    "午休12:00-13:30不收货",
)


def _customer(crng: np.random.Generator, kind: str) -> tuple[str, str, str]:
    """(name, phone, notes) of one fictional customer: a shop for couriers and grocers, a person for the
    e-mall's home deliveries; phones 138 + 8 digits (fictional); notes on about one order in five."""
    surname = SURNAMES[int(crng.integers(len(SURNAMES)))]
    if kind in SHOPS:
        shops = SHOPS[kind]
        name = f"{surname}记{shops[int(crng.integers(len(shops)))]}"
    else:
        name = f"{surname}{'先生' if crng.random() < 0.5 else '女士'}"
    phone = f"138{int(crng.integers(0, 10**8)):08d}"
    note = NOTES[int(crng.integers(len(NOTES)))] if crng.random() < 0.2 else ""
    return name, phone, note


def _write(out_dir: Path, name: str, rows: list[dict[str, object]]) -> None:
    path = out_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0].keys()), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _cny(x: float) -> str:
    return f"{x:.2f}"


def build(out_dir: Path = DEMO_DIR) -> None:
    """Write every demo CSV into `out_dir`."""
    rng = np.random.default_rng(SEED)
    models = {m["code"]: m for m in VEHICLE_MODELS}

    _write(out_dir, "lessor.csv", [LESSOR])
    _write(out_dir, "lessees.csv", [{"lessor_code": LESSOR["code"], **le} for le in LESSEES])
    _write(out_dir, "tariffs.csv", TARIFFS)
    _write(out_dir, "vehicle_models.csv", VEHICLE_MODELS)
    _write(
        out_dir,
        "depots.csv",
        [
            {
                "code": d.code,
                "name": d.name,
                "address": d.address,
                "district": d.district,
                "latitude": d.lat,
                "longitude": d.lon,
                "lessee_code": d.lessee,
                "tariff_code": d.tariff,
                "grid_import_limit_kw": d.grid_kw,
            }
            for d in DEPOTS
        ],
    )
    groups, connectors = [], []
    for d in DEPOTS:
        n = 0
        for c in range(d.cabinets):
            gcode = f"CAB{c + 1}"
            groups.append({"depot_code": d.code, "code": gcode, "max_kw": d.cabinet_kw})
            for _ in range(d.connectors_per_cabinet):
                n += 1
                connectors.append(
                    {
                        "depot_code": d.code,
                        "code": f"DC{n:02d}",
                        "max_kw": d.connector_kw,
                        "efficiency": 0.95,
                        "v2g": "true" if n <= d.v2g_connectors else "false",
                        "power_group": gcode,
                    }
                )
    _write(out_dir, "power_groups.csv", groups)
    _write(out_dir, "connectors.csv", connectors)

    vehicles, leases, vehicle_rows = [], [], []
    serial = 0
    for d in DEPOTS:
        for i in range(d.evs + d.diesels):
            serial += 1
            electric = i < d.evs
            model_code = d.ev_model if electric else DIESEL_FOR[d.code]
            plate = (
                f"粤BD{d.plate_block}{i + 1:04d}"
                if electric
                else f"粤B{chr(ord('A') + d.plate_block)}{i + 1:04d}"
            )
            vehicles.append(
                {
                    "plate": plate,
                    "vin": _vin(rng, serial),
                    "model_code": model_code,
                    "depot_code": d.code,
                    "lessee_code": d.lessee,
                    "status": "leased" if electric else "owned_by_lessee",
                    "commissioned_on": "",
                }
            )
            if not electric:
                continue
            model = models[model_code]
            start = dt.date(2025 + (i % 10 + 9) // 12, (i % 10 + 9) % 12 + 1, 1)  # Oct 2025 .. Jul 2026
            term = 60 if i % 3 else 36
            end = dt.date(start.year + term // 12, start.month, 1) - dt.timedelta(days=1)
            price = float(model["price_cny"])
            residual = (
                0.20 * price
            )  # residual value assumption: 20 % of price (data/reference/FINANCE.md L2 uses 40k of 200k)
            # Rent: annuity at 8 % nominal on price net of residual (data/reference/FINANCE.md `Rental` formula), in advance.
            rent = float(npf.pmt(0.08 / 12, term, -price, fv=residual, when="begin"))
            leases.append(
                {
                    "code": f"L-{d.code[3:]}-{i + 1:03d}",
                    "plate": plate,
                    "lessee_code": d.lessee,
                    "start_date": start.isoformat(),
                    "end_date": end.isoformat(),
                    "monthly_rent_cny": _cny(rent),
                    "deposit_cny": _cny(2 * rent),
                    "replaced_diesel_model_code": REPLACES[model_code],
                    "purchase_price_cny": _cny(price),
                    "subsidy_cny": "0.00",
                    "down_payment_cny": _cny(0.2 * price),
                    "loan_annual_rate": "0.0420",
                    "loan_term_months": term,
                    "repayment": "annuity",
                    "residual_value_cny": _cny(residual),
                    "maintenance_by_lessor": "true",
                    "expected_km_per_year": 40000,
                    "emissions_claimant": "lessee",
                }
            )
            vehicle_rows.append((d, plate, model, start))
    _write(out_dir, "vehicles.csv", vehicles)
    _write(out_dir, "leases.csv", leases)

    lessee_kind = {le["code"]: le["kind"] for le in LESSEES}
    orders: dict[str, list[dict[str, object]]] = {le["code"]: [] for le in LESSEES}
    crng = np.random.default_rng(SEED + 1)
    for d in DEPOTS:
        kind = lessee_kind[d.lessee]
        options, weights, (smin, smax), (median, sigma) = WINDOWS[kind]
        for k in range(ORDER_DAYS):
            day = ORDER_FIRST_DAY + dt.timedelta(days=k)
            n = int(rng.integers(d.orders_low, d.orders_high + 1))
            if day.weekday() == 6:
                n = max(40, int(n * 0.6))
            for j in range(n):
                address, lat, lon = _delivery_point(rng, d)
                ws, we = options[int(rng.choice(len(options), p=weights))]
                demand = float(np.clip(rng.lognormal(math.log(median), sigma), 5, 900))
                customer, phone, note = _customer(crng, kind)
                orders[d.lessee].append(
                    {
                        "external_ref": f"{d.code}-{day:%Y%m%d}-{j + 1:03d}",
                        "depot_code": d.code,
                        "service_date": day.isoformat(),
                        "address": address,
                        "latitude": lat,
                        "longitude": lon,
                        "demand_kg": round(demand, 1),
                        "window_start": f"{day.isoformat()}T{ws:02d}:00:00{TZ}",
                        "window_end": f"{day.isoformat()}T{we:02d}:00:00{TZ}",
                        "service_minutes": int(rng.integers(smin, smax + 1)),
                        "required_kind": "",
                        "priority": 0,
                        "customer_name": customer,
                        "customer_phone": phone,
                        "notes": note,
                    }
                )
    for code, rows in orders.items():
        _write(out_dir, f"orders/{code}.csv", rows)

    meter = []
    day = METER_FIRST_DAY
    while day <= METER_LAST_DAY:
        for _depot, plate, model, start in vehicle_rows:
            if day < start or (day.weekday() == 6 and rng.random() < 0.4):
                continue
            lo, hi = DAILY_KM[model["code"]]
            km = float(rng.uniform(lo, hi))
            load_share = float(rng.uniform(0.3, 0.8))
            per_km = model["consumption_kwh_per_km_empty"] + load_share * (
                model["consumption_kwh_per_km_full"] - model["consumption_kwh_per_km_empty"]
            )
            kwh = km * per_km
            meter.append(
                {
                    "plate": plate,
                    "day": day.isoformat(),
                    "km": round(km, 1),
                    "kwh_vehicle": round(kwh, 2),
                    "kwh_charger": round(kwh / CHARGER_EFFICIENCY_ASSUMED, 2),
                    "tonne_km": round(km * load_share * model["payload_kg"] / 1000, 1),
                }
            )
        day += dt.timedelta(days=1)
    _write(out_dir, "vehicle_days.csv", meter)


if __name__ == "__main__":
    build()
    print(f"demo data written to {DEMO_DIR}")
