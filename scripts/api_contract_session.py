"""Signs in to a running tsunagu as one of its demo accounts and prints the two headers an
API client sends: the session cookie and the CSRF token (one per line, as NAME: VALUE).

    python3 scripts/api_contract_session.py BASE_URL ACCOUNTS_JSON LOGIN

The accounts file is the one `tsunagu demo --seed-only` writes (data/demo-accounts.json):
the password and, for staff, the TOTP secret (RFC 6238: SHA-1, 30 s, 6 digits).
Standard library only.
"""

import base64
import hashlib
import hmac
import json
import struct
import sys
import time
import urllib.request


def totp(secret: str, at: float) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{code % 1_000_000:06d}"


def main() -> int:
    base, accounts_file, login = sys.argv[1:4]
    with open(accounts_file, encoding="utf-8") as f:
        accounts = json.load(f)
    account = next(a for a in accounts if a["login"] == login)
    body = {"login": login, "password": account["password"]}
    if account.get("totp_secret"):
        body["totp"] = totp(account["totp_secret"], time.time())
    request = urllib.request.Request(
        base + "/api/v1/session",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    print(f"Cookie: {cookie}")
    print(f"X-CSRF-Token: {answer['csrf_token']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
