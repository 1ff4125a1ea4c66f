/*
 * test_dnstxt - dnstxt_parse on hand-built DNS replies: strings of a record
 * joined, every record kept in order, other types skipped, NXDOMAIN and
 * NODATA as not found, SERVFAIL / REFUSED / truncated / malformed replies
 * as temporary failures, the named limits.
 */
#include <string.h>

#include "dnstxt.h"
#include "lookup.h"
#include "unit.h"

#define BUF_MAX 70000

struct msg {
    unsigned char b[BUF_MAX];
    size_t len;
};

static void put8(struct msg *m, unsigned v)
{
    m->b[m->len++] = (unsigned char)v;
}

static void put16(struct msg *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}

/* msg_start - a reply header (QR set) and the question
   selector._domainkey.example.org IN TXT at offset 12 */
static void msg_start(struct msg *m, unsigned flags2, unsigned rcode,
                      unsigned ancount)
{
    static const char qname[] = "\010selector\012_domainkey\007example\003org";

    m->len = 0;
    put16(m, 0x1234);
    put8(m, 0x81 | flags2);    /* QR, RD (+ TC when asked) */
    put8(m, 0x80 | rcode);     /* RA, rcode */
    put16(m, 1);
    put16(m, ancount);
    put16(m, 0);
    put16(m, 0);
    memcpy(m->b + m->len, qname, sizeof(qname)); /* with the root label */
    m->len += sizeof(qname);
    put16(m, 16);
    put16(m, 1);
}

/* msg_rr - an answer with the owner name compressed to the question */
static void msg_rr(struct msg *m, unsigned type, const unsigned char *rd,
                   size_t rdlen)
{
    put16(m, 0xc00c);
    put16(m, type);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300);
    put16(m, (unsigned)rdlen);
    memcpy(m->b + m->len, rd, rdlen);
    m->len += rdlen;
}

/* msg_txt - a TXT answer of the given strings (NULL-terminated list) */
static void msg_txt(struct msg *m, const char *const *strs)
{
    unsigned char rd[4096];
    size_t n = 0;

    for (; *strs != NULL; strs++) {
        size_t l = strlen(*strs);
        rd[n++] = (unsigned char)l;
        memcpy(rd + n, *strs, l);
        n += l;
    }
    msg_rr(m, 16, rd, n);
}

static struct msg m;

int main(void)
{
    struct dnstxt t;
    const char *err;
    int rc;

    /* one record of two strings: joined without separator */
    msg_start(&m, 0, 0, 1);
    msg_txt(&m, (const char *const[]){ "v=DKIM1; k=rsa; ", "p=MIIBIjAN", NULL });
    rc = dnstxt_parse(m.b, m.len, &t, &err);
    CHECK(rc == LK_FOUND && t.n == 1, "one record: found (rc %d)", rc);
    CHECK_STR(t.rec[0], "v=DKIM1; k=rsa; p=MIIBIjAN", "strings joined");
    CHECK(t.len[0] == 26, "length of the joined record");
    dnstxt_free(&t);
    CHECK(t.n == 0, "free resets n");

    /* a CNAME first, then two TXT records: both kept, in order */
    msg_start(&m, 0, 0, 3);
    msg_rr(&m, 5, (const unsigned char *)"\003foo\300\014", 6);
    msg_txt(&m, (const char *const[]){ "v=DMARC1; p=none", NULL });
    msg_txt(&m, (const char *const[]){ "other", " text", NULL });
    rc = dnstxt_parse(m.b, m.len, &t, &err);
    CHECK(rc == LK_FOUND && t.n == 2, "two records after a CNAME");
    CHECK_STR(t.n == 2 ? t.rec[0] : NULL, "v=DMARC1; p=none", "first record");
    CHECK_STR(t.n == 2 ? t.rec[1] : NULL, "other text", "second record");
    dnstxt_free(&t);

    /* an empty string, and a NUL inside a string */
    msg_start(&m, 0, 0, 1);
    msg_rr(&m, 16, (const unsigned char *)"\000\003a\000b", 5);
    rc = dnstxt_parse(m.b, m.len, &t, &err);
    CHECK(rc == LK_FOUND && t.n == 1 && t.len[0] == 3
          && memcmp(t.rec[0], "a\0b", 4) == 0, "NUL bytes kept and counted");
    dnstxt_free(&t);

    /* not found: NXDOMAIN, NODATA, only other types */
    msg_start(&m, 0, 3, 0);
    rc = dnstxt_parse(m.b, m.len, &t, &err);
    CHECK(rc == LK_NOTFOUND && t.n == 0, "NXDOMAIN: not found (%s)", err);
    msg_start(&m, 0, 0, 0);
    CHECK(dnstxt_parse(m.b, m.len, &t, &err) == LK_NOTFOUND,
          "NOERROR without answers: not found");
    msg_start(&m, 0, 0, 1);
    msg_rr(&m, 1, (const unsigned char *)"\177\000\000\001", 4);
    CHECK(dnstxt_parse(m.b, m.len, &t, &err) == LK_NOTFOUND && t.n == 0,
          "only an A record: not found");

    /* temporary failures */
    msg_start(&m, 0, 2, 0);
    rc = dnstxt_parse(m.b, m.len, &t, &err);
    CHECK(rc == LK_TEMP && strstr(err, "SERVFAIL") != NULL, "SERVFAIL: temp");
    msg_start(&m, 0, 5, 0);
    CHECK(dnstxt_parse(m.b, m.len, &t, &err) == LK_TEMP, "REFUSED: temp");
    msg_start(&m, 0, 4, 0);
    CHECK(dnstxt_parse(m.b, m.len, &t, &err) == LK_TEMP, "NOTIMP: temp");
    msg_start(&m, 0x02, 0, 1);
    msg_txt(&m, (const char *const[]){ "v=spf1 -all", NULL });
    CHECK(dnstxt_parse(m.b, m.len, &t, &err) == LK_TEMP && t.n == 0,
          "TC set: temp");
    msg_start(&m, 0, 0, 1);
    msg_txt(&m, (const char *const[]){ "v=spf1 -all", NULL });
    m.b[2] &= 0x7f;
    CHECK(dnstxt_parse(m.b, m.len, &t, &err) == LK_TEMP, "a query, not a reply");
    CHECK(dnstxt_parse(m.b, 11, &t, &err) == LK_TEMP, "shorter than a header");

    /* malformed */
    msg_start(&m, 0, 0, 2);
    msg_txt(&m, (const char *const[]){ "first", NULL });
    rc = dnstxt_parse(m.b, m.len, &t, &err);
    CHECK(rc == LK_TEMP && t.n == 0, "an answer missing: temp, nothing kept");
    msg_start(&m, 0, 0, 1);
    msg_txt(&m, (const char *const[]){ "v=spf1 -all", NULL });
    rc = dnstxt_parse(m.b, m.len - 3, &t, &err);
    CHECK(rc == LK_TEMP, "rdata cut short: temp");
    msg_start(&m, 0, 0, 1);
    msg_rr(&m, 16, (const unsigned char *)"\011abc", 4);
    CHECK(dnstxt_parse(m.b, m.len, &t, &err) == LK_TEMP,
          "string longer than its rdata: temp");
    msg_start(&m, 0, 0, 1);
    m.b[12] = 0x48; /* a reserved label type in the question */
    CHECK(dnstxt_parse(m.b, m.len, &t, &err) == LK_TEMP, "bad label: temp");

    /* limits */
    msg_start(&m, 0, 0, DNSTXT_MAX_RECORDS + 1);
    for (int i = 0; i <= DNSTXT_MAX_RECORDS; i++)
        msg_txt(&m, (const char *const[]){ "x", NULL });
    rc = dnstxt_parse(m.b, m.len, &t, &err);
    CHECK(rc == LK_LIMIT && t.n == 0, "more records than the limit (%d)", rc);
    msg_start(&m, 0, 0, DNSTXT_MAX_RECORDS);
    for (int i = 0; i < DNSTXT_MAX_RECORDS; i++)
        msg_txt(&m, (const char *const[]){ "x", NULL });
    rc = dnstxt_parse(m.b, m.len, &t, &err);
    CHECK(rc == LK_FOUND && t.n == DNSTXT_MAX_RECORDS, "exactly the limit");
    dnstxt_free(&t);
    {
        static unsigned char rd[DNSTXT_MAX_RECORD + 512];
        size_t n = 0, total = 0;

        while (total <= DNSTXT_MAX_RECORD) {
            rd[n++] = 255;
            memset(rd + n, 'k', 255);
            n += 255;
            total += 255;
        }
        msg_start(&m, 0, 0, 1);
        msg_rr(&m, 16, rd, n);
        CHECK(dnstxt_parse(m.b, m.len, &t, &err) == LK_LIMIT && t.n == 0,
              "record longer than the limit");
        msg_start(&m, 0, 0, 1);
        msg_rr(&m, 16, rd, 256 * 8); /* a 2048-byte key, 8 strings */
        CHECK(dnstxt_parse(m.b, m.len, &t, &err) == LK_FOUND
              && t.len[0] == 255 * 8, "a long record of 8 strings");
        dnstxt_free(&t);
    }
    {
        char longname[300];

        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        CHECK(dnstxt_lookup(longname, &t, &err) == LK_LIMIT && t.n == 0,
              "name longer than the limit: no query");
        CHECK(dnstxt_lookup("", &t, &err) == LK_NOTFOUND, "empty name");
    }
    { /* dnstxt_parse_a: DNS blocklist answers */
        static const unsigned char a[4] = {127, 0, 0, 2};
        msg_start(&m, 0, 0, 1);
        msg_rr(&m, 1, a, 4);
        CHECK(dnstxt_parse_a(m.b, m.len, &err) == LK_FOUND,
              "A: an address is found (listed)");
        msg_start(&m, 0, 0, 1);
        msg_txt(&m, (const char *const[]){"listed", NULL});
        CHECK(dnstxt_parse_a(m.b, m.len, &err) == LK_NOTFOUND,
              "A: a TXT record alone is no A record");
        msg_start(&m, 0, 3, 0);
        CHECK(dnstxt_parse_a(m.b, m.len, &err) == LK_NOTFOUND,
              "A: NXDOMAIN is not listed");
        msg_start(&m, 0, 2, 0);
        CHECK(dnstxt_parse_a(m.b, m.len, &err) == LK_TEMP,
              "A: SERVFAIL is a temporary failure");
        msg_start(&m, 0x02, 0, 0);
        CHECK(dnstxt_parse_a(m.b, m.len, &err) == LK_TEMP,
              "A: a truncated reply is a temporary failure");
        msg_start(&m, 0, 0, 1);
        msg_rr(&m, 1, a, 4);
        CHECK(dnstxt_parse_a(m.b, m.len - 2, &err) == LK_TEMP,
              "A: an answer cut short is a temporary failure");
    }
    return UNIT_END();
}
