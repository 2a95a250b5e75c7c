#!/usr/bin/env python3
"""Writes holidays_1955_2099.csv, the independent check for tsunagu_core's 祝日.

Source: the PyPI package jpholiday 1.0.3 (pure Python, computes equinoxes with its own
astronomical algorithm rather than the approximation formula tsunagu uses).
Generated: 2026-11-21.

The CSV is checked in; the Rust tests read it and need neither Python nor network.
To regenerate:

    python3 -m venv /tmp/jpholiday-venv
    /tmp/jpholiday-venv/bin/pip install jpholiday==1.0.3
    /tmp/jpholiday-venv/bin/python crates/core/tests/data/generate_holidays_fixture.py

The rows are jpholiday's output as it is, with only the names mapped to tsunagu's
(NAME_MAP and the 振替休日 rule below). Where jpholiday disagrees with the law, the
CSV keeps jpholiday's answer and tests/holidays_fixture.rs lists the exception.
"""

import csv
import datetime
import os

import jpholiday

EXPECTED_VERSION = "1.0.3"
FIRST_YEAR, LAST_YEAR = 1955, 2099

# jpholiday's names for the one-off days -> the names used by tsunagu (those of the
# laws that made them holidays, without jpholiday's added 「・」 and 「の礼」).
NAME_MAP = {
    "皇太子・明仁親王の結婚の儀": "皇太子明仁親王の結婚の儀",
    "皇太子・皇太子徳仁親王の結婚の儀": "皇太子徳仁親王の結婚の儀",
    "即位の礼正殿の儀": "即位礼正殿の儀",
}

# jpholiday names a substitute day "<holiday> 振替休日" (e.g. 「元日 振替休日」);
# tsunagu uses 「振替休日」 alone. 「国民の休日」 is the same in both.
SUBSTITUTE_SUFFIX = " 振替休日"


def our_name(name: str) -> str:
    if name.endswith(SUBSTITUTE_SUFFIX):
        return "振替休日"
    return NAME_MAP.get(name, name)


def main() -> None:
    from jpholiday.__version__ import __version__

    if __version__ != EXPECTED_VERSION:
        raise SystemExit(f"expected jpholiday {EXPECTED_VERSION}, found {__version__}")

    rows = []
    for date, name in jpholiday.between(
        datetime.date(FIRST_YEAR, 1, 1), datetime.date(LAST_YEAR, 12, 31)
    ):
        if rows and rows[-1][0] == date.isoformat():
            raise SystemExit(f"two holidays on {date}: {rows[-1][1]} and {name}")
        rows.append((date.isoformat(), our_name(name)))

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "holidays_1955_2099.csv")
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["date", "name"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} holidays to {path}")


if __name__ == "__main__":
    main()
