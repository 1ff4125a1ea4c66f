#!/usr/bin/env python3
"""srs_ref.py - an independent reference implementation of the Sender
Rewriting Scheme (libsrs2 / postsrsd format) for postern's tests.

Written from the scheme, not from postern's code: hmac + base64 from the
standard library.  The hash is HMAC over the lower-cased fields, base64
(standard alphabet) of the digest, cut to LEN characters; the timestamp is
the day number mod 1024 in two base32 characters.

  srs_ref.py forward SECRET DOMAIN ADDRESS [DAY] [LEN] [ALG] [SEP]
  srs_ref.py reverse DOMAIN ADDRESS DAY MAXAGE SECRET [SECRET...]
  srs_ref.py hash SECRET FIELD...        (hash with LEN=4, sha1)

DAY is the Unix time divided by 86400 (default: today).  reverse prints the
original address, or "INVALID reason" and exits 1.
"""
import base64
import hashlib
import hmac
import sys
import time

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def srs_hash(secret, fields, length=4, alg="sha1"):
    data = "".join(fields).lower().encode()
    mac = hmac.new(secret.encode(), data, getattr(hashlib, alg)).digest()
    return base64.b64encode(mac).decode()[:length]


def stamp(day):
    return B32[(day >> 5) & 31] + B32[day & 31]


def forward(secret, domain, addr, day, length=4, alg="sha1", sep="="):
    user, host = addr.rsplit("@", 1)
    tag = user[:4].upper()
    if tag == "SRS1" and len(user) > 5 and user[4] in "=+-":
        _h, fwd, rest = user[5:].split("=", 2)
        return "SRS1%s%s=%s=%s@%s" % (sep, srs_hash(secret, [fwd, rest], length, alg),
                                      fwd, rest, domain)
    if tag == "SRS0" and len(user) > 5 and user[4] in "=+-":
        rest = user[4:]
        return "SRS1%s%s=%s=%s@%s" % (sep, srs_hash(secret, [host, rest], length, alg),
                                      host, rest, domain)
    ts = stamp(day)
    return "SRS0%s%s=%s=%s=%s@%s" % (sep, srs_hash(secret, [ts, host, user], length, alg),
                                     ts, host, user, domain)


def reverse(domain, addr, day, maxage, secrets, length=4, alg="sha1"):
    user, host = addr.rsplit("@", 1)
    if host.lower() != domain.lower():
        return None, "not ours"
    tag = user[:4].upper()
    if tag == "SRS1":
        h, fwd, rest = user[5:].split("=", 2)
        fields = [fwd, rest]
    elif tag == "SRS0":
        h, ts, orig_host, orig_user = user[5:].split("=", 3)
        fields = [ts, orig_host, orig_user]
    else:
        return None, "not SRS"
    if not any(srs_hash(s, fields, length, alg).lower() == h.lower() for s in secrets):
        return None, "bad hash"
    if tag == "SRS1":
        return "SRS0%s@%s" % (rest, fwd), None
    then = B32.index(ts[0].upper()) << 5 | B32.index(ts[1].upper())
    now = day % 1024
    while now < then:
        now += 1024
    if now > then + maxage:
        return None, "expired"
    return "%s@%s" % (orig_user, orig_host), None


def main(argv):
    today = int(time.time()) // 86400
    if argv[1] == "forward":
        secret, domain, addr = argv[2:5]
        day = int(argv[5]) if len(argv) > 5 else today
        length = int(argv[6]) if len(argv) > 6 else 4
        alg = argv[7] if len(argv) > 7 else "sha1"
        sep = argv[8] if len(argv) > 8 else "="
        print(forward(secret, domain, addr, day, length, alg, sep))
        return 0
    if argv[1] == "reverse":
        domain, addr, day, maxage = argv[2], argv[3], int(argv[4]), int(argv[5])
        out, why = reverse(domain, addr, day, maxage, argv[6:])
        print(out if out else "INVALID " + why)
        return 0 if out else 1
    if argv[1] == "hash":
        print(srs_hash(argv[2], argv[3:]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
