/*
 * test_dmarc - the pure decision core of postern-milter's DMARC
 * (milter/dmarc.c): the disposition from result, policy, pct draw,
 * exemption and action; alignment; the most lenient action; record
 * parsing through libopendmarc; the exemption lists.
 */
#include <stdio.h>
#include <string.h>

#include "milter.h"
#include "unit.h"

struct mctx *milter_ctx;

static int decide(int result, int policy, int pct, int draw, int exempt,
                  int action, int *reason)
{
    return dmarc_decide(result, policy, pct, draw, exempt, action, reason);
}

static void test_decide(void)
{
    int why;

    CHECK(decide(DMARC_RES_PASS, DMARC_POL_REJECT, 100, 0, 0,
                 DMARC_ACT_REJECT, &why) == DMARC_POL_NONE &&
          why == DMARC_WHY_NONE, "pass: none");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_REJECT, 100, 99, 0,
                 DMARC_ACT_REJECT, &why) == DMARC_POL_REJECT &&
          why == DMARC_WHY_NONE, "fail p=reject: reject");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_QUARANTINE, 100, 50, 0,
                 DMARC_ACT_REJECT, &why) == DMARC_POL_QUARANTINE,
          "fail p=quarantine: quarantine");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_NONE, 100, 0, 0, DMARC_ACT_REJECT,
                 &why) == DMARC_POL_NONE && why == DMARC_WHY_NONE,
          "fail p=none: none, no reason");
    CHECK(decide(DMARC_RES_TEMPERROR, DMARC_POL_REJECT, 100, 0, 0,
                 DMARC_ACT_REJECT, &why) == DMARC_POL_NONE,
          "temperror: never a rejection");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_REJECT, 30, 29, 0,
                 DMARC_ACT_REJECT, &why) == DMARC_POL_REJECT,
          "pct=30, draw 29: sampled in");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_REJECT, 30, 30, 0,
                 DMARC_ACT_REJECT, &why) == DMARC_POL_QUARANTINE &&
          why == DMARC_WHY_SAMPLED_OUT,
          "pct=30, draw 30: sampled out, reject -> quarantine (6.6.4)");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_QUARANTINE, 0, 0, 0,
                 DMARC_ACT_REJECT, &why) == DMARC_POL_NONE &&
          why == DMARC_WHY_SAMPLED_OUT,
          "pct=0 quarantine: none, sampled_out");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_REJECT, 100, 0,
                 DMARC_WHY_TRUSTED_FORWARDER, DMARC_ACT_REJECT, &why) ==
                  DMARC_POL_NONE && why == DMARC_WHY_TRUSTED_FORWARDER,
          "trusted forwarder: none, reason trusted_forwarder");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_QUARANTINE, 100, 0,
                 DMARC_WHY_MAILING_LIST, DMARC_ACT_REJECT, &why) ==
                  DMARC_POL_NONE && why == DMARC_WHY_MAILING_LIST,
          "mailing list: none, reason mailing_list");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_REJECT, 100, 0, 0,
                 DMARC_ACT_RECORD, &why) == DMARC_POL_NONE &&
          why == DMARC_WHY_LOCAL_POLICY, "action record: none, local_policy");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_REJECT, 100, 0, 0,
                 DMARC_ACT_QUARANTINE, &why) == DMARC_POL_QUARANTINE &&
          why == DMARC_WHY_LOCAL_POLICY,
          "action quarantine: reject becomes quarantine");
    CHECK(decide(DMARC_RES_FAIL, DMARC_POL_QUARANTINE, 100, 0, 0,
                 DMARC_ACT_QUARANTINE, &why) == DMARC_POL_QUARANTINE &&
          why == DMARC_WHY_NONE, "action quarantine, p=quarantine: as is");
}

static void test_align(void)
{
    CHECK(dmarc_aligned("example.com", "EXAMPLE.com", 1, NULL),
          "strict: the same domain (any case)");
    CHECK(!dmarc_aligned("mail.example.com", "example.com", 1, NULL),
          "strict: a subdomain does not align");
    CHECK(dmarc_aligned("mail.example.com", "example.com", 0, NULL),
          "relaxed: same organizational domain");
    CHECK(dmarc_aligned("a.example.com", "b.example.com", 0, NULL),
          "relaxed: sibling subdomains align");
    CHECK(!dmarc_aligned("example.net", "example.com", 0, NULL),
          "relaxed: other domain");
    CHECK(!dmarc_aligned("", "example.com", 0, NULL), "empty: no");
    CHECK(dmarc_lenient(DMARC_ACT_REJECT, DMARC_ACT_RECORD) ==
              DMARC_ACT_RECORD && dmarc_lenient(DMARC_ACT_QUARANTINE,
                                                DMARC_ACT_REJECT) ==
                                      DMARC_ACT_QUARANTINE,
          "the most lenient action wins");
}

static void test_parse(void)
{
    struct dmarc_rec r;

    CHECK(dmarc_parse_record("v=DMARC1; p=reject; rua=mailto:d@example.com",
                             "example.com", &r) == 0 &&
          r.p == DMARC_POL_REJECT && r.sp == DMARC_POL_UNSET &&
          r.pct == 100 && r.adkim == 'r' && r.aspf == 'r',
          "p=reject with defaults");
    CHECK_STR(r.rua, "mailto:d@example.com", "rua as published");
    CHECK(dmarc_parse_record("v=DMARC1; p=none; sp=quarantine; pct=20; "
                             "adkim=s; aspf=s; fo=1", "example.com", &r) ==
              0 && r.p == DMARC_POL_NONE && r.sp == DMARC_POL_QUARANTINE &&
              r.pct == 20 && r.adkim == 's' && r.aspf == 's',
          "sp, pct, strict alignment");
    CHECK_STR(r.fo, "1", "fo");
    CHECK(dmarc_parse_record("v=DMARC1; rua=mailto:x@example.com",
                             "example.com", &r) < 0, "no p=: invalid");
    CHECK(dmarc_parse_record("v=DMARC1; p=bogus", "example.com", &r) < 0,
          "bad p=: invalid");
}

static void test_exempt(void)
{
    struct milter_config cfg = {0};

    cfg.dmarc_trusted_forwarders = "192.0.2.0/24, 2001:db8::/32";
    cfg.dmarc_mailing_lists = ".lists.example.org, 198.51.100.7";
    CHECK(dmarc_exempt(&cfg, "192.0.2.9", "[192.0.2.9]") ==
              DMARC_WHY_TRUSTED_FORWARDER, "forwarder network");
    CHECK(dmarc_exempt(&cfg, "198.51.100.7", "x") == DMARC_WHY_MAILING_LIST,
          "mailing-list address");
    CHECK(dmarc_exempt(&cfg, "203.0.113.1", "mx1.lists.example.org") ==
              DMARC_WHY_MAILING_LIST, "mailing-list host suffix");
    CHECK(dmarc_exempt(&cfg, "203.0.113.1", "lists.example.org") ==
              DMARC_WHY_MAILING_LIST, "the suffix's own name");
    CHECK(dmarc_exempt(&cfg, "203.0.113.1", "evillists.example.org") ==
              DMARC_WHY_NONE, "a name merely ending alike: no");
    CHECK(dmarc_exempt(&cfg, "203.0.113.1", "[203.0.113.1]") ==
              DMARC_WHY_NONE, "unknown client: no");
}

int main(void)
{
    test_decide();
    test_align();
    test_parse();
    test_exempt();
    return UNIT_END();
}
