/*
 * test_srs - the Sender Rewriting Scheme (lib/srs.c), shared by postern-maps
 * and postern-forward.
 *
 * The expected addresses were computed with the independent Python
 * reference implementation tests/integration/srs_ref.py (hmac, hashlib,
 * base64 from Python's standard library), e.g.
 *   srs_ref.py forward correct-horse-battery-staple srs.example.net \
 *       alice@example.com 20000
 * Day 20000 is Unix time 1728000000 (2024-10-04); its stamp is "RA".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "srs.h"
#include "unit.h"

#define SECRET "correct-horse-battery-staple"
#define DAY 1728000000L /* day 20000, 00:00 UTC */
#define DOMAIN "srs.example.net"

static struct srs srs;
static struct str out = STR_INIT;

static const char *fwd(const char *a, time_t now)
{
    const char *why;

    if (srs_forward(&srs, a, strlen(a), now, &out, &why) != 1)
        return why;
    return str_cstr(&out);
}

static const char *rev(const char *a, time_t now)
{
    const char *why;
    int r = srs_reverse(&srs, a, strlen(a), now, &out, &why);

    if (r != 1)
        return r == 0 ? "NOT SRS" : why;
    return str_cstr(&out);
}

static void setup(char sep, int age, int len, enum srs_alg alg)
{
    struct str err = STR_INIT;

    CHECK(srs_setup(&srs, DOMAIN, sep, age, len, alg, &err) == 0 &&
              srs_add_secret(&srs, SECRET, strlen(SECRET), &err) == 0,
          "setup %c %d %d %d", sep, age, len, (int)alg);
    str_free(&err);
}

static void test_vectors(void)
{
    setup('=', 21, 4, SRS_SHA1);
    CHECK_STR(fwd("alice@example.com", DAY + 3600),
              "SRS0=eLIK=RA=example.com=alice@srs.example.net",
              "SRS0 vector (Python reference)");
    CHECK_STR(fwd("Bob.Smith+tag@Example.ORG", DAY),
              "SRS0=TOxm=RA=Example.ORG=Bob.Smith+tag@srs.example.net",
              "case kept in the address, hashed lower-cased");
    CHECK_STR(fwd("SRS0=AbCd=XY=orig.example=joe@fwd1.example", DAY),
              "SRS1=3Nbd=fwd1.example==AbCd=XY=orig.example=joe@srs.example.net",
              "SRS0 of another forwarder becomes SRS1");
    CHECK_STR(fwd("SRS1=WxYz=fwd1.example==AbCd=XY=orig.example=joe@fwd2.example",
                  DAY),
              "SRS1=3Nbd=fwd1.example==AbCd=XY=orig.example=joe@srs.example.net",
              "SRS1 keeps the first forwarder, re-signed");
    CHECK_STR(fwd("a=b@c.example", DAY),
              "SRS0=2JBY=RA=c.example=a=b@srs.example.net",
              "'=' in the local part");
    {
        char ts[3];
        srs_stamp(DAY, ts);
        CHECK_STR(ts, "RA", "day 20000 is stamp RA");
    }
    setup('+', 21, 10, SRS_SHA256);
    CHECK_STR(fwd("alice@example.com", DAY),
              "SRS0++xDLe8Vibf=RA=example.com=alice@srs.example.net",
              "HMAC-SHA256, 10 characters, '+' separator");
}

static void test_reverse(void)
{
    struct str err = STR_INIT;

    setup('=', 21, 4, SRS_SHA1);
    CHECK_STR(rev("SRS0=eLIK=RA=example.com=alice@srs.example.net", DAY),
              "alice@example.com", "reverse SRS0");
    CHECK_STR(rev("srs0=elik=ra=example.com=alice@SRS.example.NET", DAY),
              "alice@example.com", "reverse is case-insensitive (hash, stamp, tag, domain)");
    CHECK_STR(rev("SRS0+eLIK=RA=example.com=alice@srs.example.net", DAY),
              "alice@example.com", "any separator after SRS0 on input");
    CHECK_STR(rev("SRS0=eLIK=RA=example.com=alice@srs.example.net",
                  DAY + 21 * 86400L),
              "alice@example.com", "valid on the last day of max_age");
    CHECK_STR(rev("SRS0=eLIK=RA=example.com=alice@srs.example.net",
                  DAY + 22 * 86400L),
              "expired", "expired after max_age");
    CHECK_STR(rev("SRS0=eLIK=RA=example.com=alice@srs.example.net",
                  DAY - 86400L),
              "expired", "a stamp from the future is refused");
    CHECK_STR(rev("SRS0=eLIK=RA=example.com=alice@srs.example.net",
                  DAY + 1024 * 86400L + 5 * 86400L),
              "alice@example.com",
              "the scheme's 1024-day wrap: 1029 days old looks 5 days old");
    CHECK_STR(rev("SRS0=eLIK=RA=example.com=mallory@srs.example.net", DAY),
              "bad hash", "forged user");
    CHECK_STR(rev("SRS0=eLIK=RB=example.com=alice@srs.example.net", DAY),
              "bad hash", "forged timestamp");
    CHECK_STR(rev("SRS0=eLI=RA=example.com=alice@srs.example.net", DAY),
              "bad hash", "short hash");
    CHECK_STR(rev("SRS0=eLIK=RA=example.com@srs.example.net", DAY),
              "malformed SRS0", "missing user");
    CHECK_STR(rev("SRS0==RA=example.com=alice@srs.example.net", DAY),
              "malformed: no hash", "empty hash");
    CHECK_STR(rev("SRS0=eLIK=RA=example.com=alice@other.example", DAY),
              "NOT SRS", "another domain is not ours");
    CHECK_STR(rev("alice@srs.example.net", DAY), "NOT SRS", "plain address");
    CHECK_STR(rev("SRS2=eLIK=RA=example.com=alice@srs.example.net", DAY),
              "NOT SRS", "unknown tag");
    CHECK_STR(rev("SRS1=3Nbd=fwd1.example==AbCd=XY=orig.example=joe@srs.example.net",
                  DAY + 900 * 86400L),
              "SRS0=AbCd=XY=orig.example=joe@fwd1.example",
              "reverse SRS1 to the first forwarder (no age check)");
    CHECK_STR(rev("SRS1=3Nbd=fwd9.example==AbCd=XY=orig.example=joe@srs.example.net",
                  DAY),
              "bad hash", "SRS1 with a forged forwarder");
    /* rotation: a new secret signs, the old one still verifies */
    srs_wipe(&srs);
    CHECK(srs_add_secret(&srs, "a-new-secret-for-2025", 21, &err) == 0 &&
              srs_add_secret(&srs, SECRET, strlen(SECRET), &err) == 0,
          "two secrets");
    CHECK_STR(rev("SRS0=eLIK=RA=example.com=alice@srs.example.net", DAY),
              "alice@example.com", "the second secret still verifies");
    CHECK(strcmp(fwd("alice@example.com", DAY),
                 "SRS0=eLIK=RA=example.com=alice@srs.example.net") != 0,
          "the first secret signs");
    CHECK(srs_add_secret(&srs, "short", 5, &err) < 0, "a short secret is refused");
    str_free(&err);
}

static void test_roundtrip(void)
{
    static const char *const addrs[] = {
        "x@y.example", "First.Last@Sub.Example.COM", "o'neil+a-b@x.example",
        "SRS0=HHHH=TT=orig.example=u@fwd.example", "a@b.c", NULL};

    setup('-', 30, 8, SRS_SHA1);
    for (int i = 0; addrs[i]; i++) {
        char enc[SRS_ADDR_MAX + 1];
        snprintf(enc, sizeof(enc), "%s", fwd(addrs[i], DAY));
        CHECK(strncmp(enc, "SRS", 3) == 0, "encode %s -> %s", addrs[i], enc);
        if (i == 3)
            CHECK_STR(rev(enc, DAY), "SRS0=HHHH=TT=orig.example=u@fwd.example",
                      "SRS1 round trip");
        else
            CHECK_STR(rev(enc, DAY + 30 * 86400L), addrs[i], "round trip %s", addrs[i]);
    }
    CHECK_STR(fwd("\"a b\"@x.example", DAY), "local part needs quoting",
              "quoted local parts are not rewritten");
    CHECK_STR(fwd("nodomain", DAY), "no local part, domain or secret", "no '@'");
    CHECK_STR(fwd("@x.example", DAY), "no local part, domain or secret", "no local part");
    {
        char longa[600];
        memset(longa, 'a', 500);
        strcpy(longa + 500, "@x.example");
        CHECK_STR(fwd(longa, DAY), "too long", "over SRS_ADDR_MAX is not rewritten");
    }
}

static void test_setup_and_file(void)
{
    struct str err = STR_INIT;
    char path[] = "/tmp/test_srs_XXXXXX";
    int fd = mkstemp(path);
    struct srs s2;

    CHECK(srs_setup(&s2, DOMAIN, '/', 21, 4, SRS_SHA1, &err) < 0, "bad separator");
    CHECK(srs_setup(&s2, DOMAIN, '=', 1024, 4, SRS_SHA1, &err) < 0, "max age over 1023");
    CHECK(srs_setup(&s2, DOMAIN, '=', 21, 27, SRS_SHA1, &err) < 0, "hash too long");
    CHECK(srs_setup(&s2, "", '=', 21, 4, SRS_SHA1, &err) < 0, "empty domain");
    CHECK(fd >= 0, "temp file");
    if (fd < 0)
        return;
    dprintf(fd, "# rotated 2025-01-01\n\nthe-current-secret-xyz\r\n%s\n", SECRET);
    close(fd);
    srs_setup(&s2, DOMAIN, '=', 21, 4, SRS_SHA1, &err);
    chmod(path, 0644);
    str_reset(&err);
    CHECK(srs_read_secrets(&s2, path, &err) < 0 &&
              strstr(str_cstr(&err), "others") != NULL,
          "a world-readable secret file is refused: %s", str_cstr(&err));
    chmod(path, 0640);
    str_reset(&err);
    CHECK(srs_read_secrets(&s2, path, &err) == 0 && s2.nsecrets == 2 &&
              s2.secret_len[0] == 22 && !memcmp(s2.secret[0], "the-current-secret-xyz", 22),
          "secret file: comments, blank lines, CRLF: %s", str_cstr(&err));
    srs = s2;
    CHECK_STR(rev("SRS0=eLIK=RA=example.com=alice@srs.example.net", DAY),
              "alice@example.com", "second secret from the file verifies");
    fd = open(path, O_WRONLY | O_TRUNC);
    dprintf(fd, "# nothing\n");
    close(fd);
    str_reset(&err);
    CHECK(srs_read_secrets(&s2, path, &err) < 0, "a file without secrets: %s",
          str_cstr(&err));
    unlink(path);
    str_reset(&err);
    CHECK(srs_read_secrets(&s2, path, &err) < 0, "a missing file: %s", str_cstr(&err));
    str_free(&err);
}

int main(void)
{
    test_vectors();
    test_reverse();
    test_roundtrip();
    test_setup_and_file();
    srs_wipe(&srs);
    str_free(&out);
    return UNIT_END();
}
