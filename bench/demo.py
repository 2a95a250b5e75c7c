#!/usr/bin/env python3
"""bench/demo.py — helpers for the audited-read scenarios of bench/run (Python stdlib only).

  demo.py signin BASE_URL ACCOUNTS_JSON LOGIN   prints the value of the tsunagu_session cookie
  demo.py audit-count DB_FILE                   prints the number of rows in audit_log

`signin` reads the demo account (login, password, totp_secret) from the accounts file that
`tsunagu demo` writes, computes the current TOTP code (RFC 6238: base32 secret, HMAC-SHA1,
30 s step, 6 digits) and signs in with POST /api/v1/session. Only 127.0.0.1 is accepted.
`audit-count` opens the SQLite file read-only.
"""

import base64
import hashlib
import hmac
import json
import sqlite3
import struct
import sys
import time
import urllib.parse
import urllib.request


def totp(secret_b32: str, at: float, step: int = 30, digits: int = 6) -> str:
    key = secret_b32.strip().replace(" ", "").upper()
    key += "=" * (-len(key) % 8)
    mac = hmac.new(base64.b32decode(key), struct.pack(">Q", int(at) // step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % (10**digits)
    return str(code).zfill(digits)


def signin(base_url: str, accounts_file: str, login: str) -> str:
    host = urllib.parse.urlsplit(base_url).hostname
    if host != "127.0.0.1":
        sys.exit(f"demo.py: refusing to sign in anywhere but 127.0.0.1 (got {host})")
    with open(accounts_file, encoding="utf-8") as f:
        accounts = json.load(f)
    account = next((a for a in accounts if a["login"] == login), None)
    if account is None:
        sys.exit(f"demo.py: no demo account {login} in {accounts_file}")
    now = time.time()
    if account.get("totp_secret") and now % 30 > 27:
        time.sleep(30 - now % 30 + 0.2)  # do not send a code that expires in flight
        now = time.time()
    body = {"login": account["login"], "password": account["password"]}
    if account.get("totp_secret"):
        body["totp"] = totp(account["totp_secret"], now)
    request = urllib.request.Request(
        base_url.rstrip("/") + "/api/v1/session",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == "tsunagu_session":
                value = rest.split(";", 1)[0].strip()
                if value:
                    return value
    sys.exit("demo.py: signed in, but no tsunagu_session cookie in the answer")


def audit_count(db_file: str) -> int:
    con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        con.close()


def main(argv):
    if len(argv) == 5 and argv[1] == "signin":
        print(signin(argv[2], argv[3], argv[4]))
    elif len(argv) == 3 and argv[1] == "audit-count":
        print(audit_count(argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
