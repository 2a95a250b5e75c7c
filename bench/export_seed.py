#!/usr/bin/env python3
"""bench/export_seed.py — makes a demo database hold N more children for bench/export.

  export_seed.py DB_FILE N

Copies the demo's child 山田 はると (板橋区, with guardians, devices, care items and
consents) N times, each copy with new ids and a numbered name, so one town's staff export
N+ children with whole profiles. SQLite only (the demo database); Python stdlib only.
"""

import sqlite3
import sys
import uuid

# The tables that hang off a child, with their own id column (or None).
CHILD_TABLES = [
    ("guardians", "id"),
    ("child_devices", "id"),
    ("child_siblings", "id"),
    ("child_care_items", None),
    ("child_consents", "id"),
    ("child_shares", None),
]


def columns(con, table):
    return [row[1] for row in con.execute(f"PRAGMA table_info({table})")]


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    db_file, n = argv[1], int(argv[2])
    con = sqlite3.connect(db_file)
    source = con.execute("SELECT id FROM children WHERE name = '山田 はると'").fetchone()
    if source is None:
        sys.exit("export_seed.py: the demo child 山田 はると is not in the database")
    source = source[0]
    child_cols = columns(con, "children")
    with con:
        for i in range(n):
            new = str(uuid.uuid4())
            values = {c: c for c in child_cols}
            values["id"] = "?"
            values["name"] = "'書出 ' || ?"
            values["search_key"] = "search_key || ?"
            select = ", ".join(values[c] for c in child_cols)
            con.execute(
                f"INSERT INTO children ({', '.join(child_cols)}) SELECT {select} FROM children WHERE id = ?",
                (new, f"{i:05d}", f" {i:05d}", source),
            )
            for table, id_col in CHILD_TABLES:
                cols = columns(con, table)
                exprs = []
                params = []
                for c in cols:
                    if c == "child_id":
                        exprs.append("?")
                        params.append(new)
                    elif c == id_col:
                        exprs.append("lower(hex(randomblob(16)))")
                    else:
                        exprs.append(c)
                con.execute(
                    f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {table} WHERE child_id = ?",
                    (*params, source),
                )
    total = con.execute("SELECT count(*) FROM children").fetchone()[0]
    print(total)


if __name__ == "__main__":
    main(sys.argv)
