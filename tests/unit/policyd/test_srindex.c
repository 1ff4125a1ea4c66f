/*
 * test_srindex - postern-policyd's sender rules indexed by recipient
 * (policyd/rules.c rules_srule_cands, used by senderrules.c): with 1,500
 * per-class rules a recipient meets only the rules its address, domain or
 * parent domains can match, plus the rules every recipient meets (no
 * recipient group, or a group with LDAP members); and the decisions are
 * those of trying every rule in priority order: an earlier rule found
 * through the domain beats a later one found through the address, a
 * permit for an outer group is narrowed by the rules of the classes
 * nested in it, ".suffix" members count, and a recipient in no group
 * meets only the general rules.  Hand-built snapshot, no database, no
 * LDAP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policyd.h"
#include "unit.h"

#define CLASSES 1500
#define PUPILS 30
/* group ids */
#define G_STAFF 1
#define G_EARLY 2
#define G_ALL 3
#define G_SCHOOL 4
#define G_LDAP 5
#define G_CLASS 100 /* + class number */

static struct policyd_config cfg;
static struct pd_rules rules;
static struct pd_worker worker;

static void add(unsigned long id, const char *type, const char *value)
{
    struct str err = STR_INIT;

    if (pgroup_set_add_member(rules.groups, id, type, value, &err) < 0)
        printf("# %s\n", str_cstr(&err));
    str_free(&err);
}

static void rule(const char *name, unsigned long sg, unsigned long rg,
                 int action, const char *text)
{
    struct pd_sender_rule *sr = &rules.srules[rules.nsrules++];

    sr->name = name;
    sr->sender = sg ? pgroup_by_id(rules.groups, sg) : NULL;
    sr->recipient = rg ? pgroup_by_id(rules.groups, rg) : NULL;
    sr->action = action;
    sr->text = text;
}

static void setup(void)
{
    char name[64];

    cfg.recipient_delimiter = "+";
    cfg.reject_text = "rejected";
    cfg.defer_text = "deferred";
    cfg.sender_rules_on = ST_RCPT;
    cfg.sender_rules_fail = FAIL_DEFER;
    worker.cfg = &cfg;
    aliasdom_init(&rules.alias);
    rules.groups = pgroup_set_new();
    pgroup_set_canonical(rules.groups, NULL, aliasdom_target, &rules.alias);
    pgroup_set_add_group(rules.groups, G_STAFF, "staff");
    pgroup_set_add_group(rules.groups, G_EARLY, "early");
    pgroup_set_add_group(rules.groups, G_ALL, "first-classes");
    pgroup_set_add_group(rules.groups, G_SCHOOL, "school");
    pgroup_set_add_group(rules.groups, G_LDAP, "ldap-class");
    for (int c = 0; c < CLASSES; c++) {
        snprintf(name, sizeof(name), "class-%d", c);
        pgroup_set_add_group(rules.groups, G_CLASS + (unsigned long)c, name);
        for (int p = 0; p < PUPILS; p++) {
            snprintf(name, sizeof(name), "p%d-%d@school%d.example", c, p,
                     c % 50);
            add(G_CLASS + (unsigned long)c, "address", name);
        }
    }
    add(G_STAFF, "domain", "staff.example");
    add(G_EARLY, "domain", "school3.example");
    for (int c = 0; c < 10; c++) {
        snprintf(name, sizeof(name), "class-%d", c);
        add(G_ALL, "group", name);
    }
    add(G_SCHOOL, "domain", ".example");
    add(G_LDAP, "ldap_group", "cn=5a,ou=groups,dc=example");
    pgroup_set_finish(rules.groups);

    rules.srules = calloc(CLASSES + 8, sizeof(*rules.srules));
    rule("staff-may", G_STAFF, 0, RA_PERMIT, NULL);                /* 0 */
    rule("early", 0, G_EARLY, RA_DEFER, "early");                  /* 1 */
    rule("first-classes-newsletter", 0, G_ALL, RA_PERMIT, NULL);   /* 2 */
    rule("ldap-class", 0, G_LDAP, RA_REJECT, "ldap");              /* 3 */
    for (int c = 0; c < CLASSES; c++) {                            /* 4.. */
        snprintf(name, sizeof(name), "class %d", c);
        rule(strdup(name), 0, G_CLASS + (unsigned long)c, RA_REJECT,
             strdup(name));
    }
    rule("school", 0, G_SCHOOL, RA_REJECT, "school");        /* CLASSES+4 */
    rules_index_srules(&rules);
    strmap_init(&rules.grants, 4);
    strmap_init(&rules.domchecks, 4);
    strmap_init(&rules.grey_domain, 4);
    strmap_init(&rules.overrides, 4);
}

static const char *ask(const char *sender, const char *rcpt)
{
    static char reply[512];
    struct preq req = {0};
    struct pd_msgstate ms = {0};
    struct pd_eval e = {0};
    const char *why;
    char line[1024];
    const char *lines[] = {"request=smtpd_access_policy", "protocol_state=RCPT",
                           "client_address=192.0.2.1", "queue_id=TEST"};

    for (size_t i = 0; i < 4; i++)
        preq_add(&req, lines[i], strlen(lines[i]), &why);
    snprintf(line, sizeof(line), "sender=%s", sender);
    preq_add(&req, line, strlen(line), &why);
    snprintf(line, sizeof(line), "recipient=%s", rcpt);
    preq_add(&req, line, strlen(line), &why);
    e.req = &req;
    e.rules = &rules;
    e.w = &worker;
    e.ms = &ms;
    e.now = 1700000000;
    pd_decide(&e);
    snprintf(reply, sizeof(reply), "%s", str_cstr(&e.reply));
    str_free(&e.reply);
    str_free(&e.err);
    preq_free(&req);
    return reply;
}

/* cands - the candidate rules of rcpt as "0,1,3,..." */
static const char *cands(const char *rcpt)
{
    static char out[4096];
    struct pd_cands c;
    size_t o = 0;

    rules_srule_cands(&rules, rcpt, &c);
    out[0] = '\0';
    for (size_t i = 0; i < c.n && o < sizeof(out) - 16; i++)
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%u", i ? "," : "",
                              c.v[i]);
    pd_cands_free(&c);
    return out;
}

static void test_index(void)
{
    char want[64];

    /* class 5's pupil: the general rules (0, 3 with LDAP), first-classes
       (2, nests class 5), class 5 (4 + 5) and school (".example") */
    snprintf(want, sizeof(want), "0,2,3,9,%d", CLASSES + 4);
    CHECK_STR(cands("p5-3@school5.example"), want,
              "a pupil of class 5 meets 5 of %d rules", CLASSES + 5);
    snprintf(want, sizeof(want), "0,3,%d,%d", 4 + 1234, CLASSES + 4);
    CHECK_STR(cands("p1234-7@school34.example"), want,
              "a pupil of class 1234 meets 4 rules");
    snprintf(want, sizeof(want), "0,1,2,3,7,%d", CLASSES + 4);
    CHECK_STR(cands("p3-0@school3.example"), want,
              "class 3 in school3.example: its domain rule too");
    CHECK_STR(cands("someone@example.org"), "0,3",
              "outside every group: the general rules only");
    CHECK_STR(cands(""), "0,3", "the null address: the general rules only");
    CHECK_STR(cands("P5-3@SCHOOL5.EXAMPLE"), cands("p5-3@school5.example"),
              "case does not matter");
}

static void test_decisions(void)
{
    CHECK_STR(ask("x@outside.org", "p1234-7@school34.example"),
              "550 5.7.1 class 1234", "class 1234: its rule refuses");
    CHECK_STR(ask("x@outside.org", "p3-0@school3.example"), "450 4.7.1 early",
              "class 3 in school3: the earlier domain rule wins over the "
              "class rule");
    CHECK_STR(ask("x@outside.org", "p5-3@school5.example"),
              "550 5.7.1 class 5", "class 5: the permit for first-classes is "
              "narrowed by class 5's own rule (nested)");
    CHECK_STR(ask("x@outside.org", "nobody@school7.example"),
              "550 5.7.1 school", "no class: the .example rule refuses");
    CHECK_STR(ask("x@outside.org", "friend@elsewhere.org"), "DUNNO",
              "in no group: no objection");
    CHECK_STR(ask("t@staff.example", "p1234-7@school34.example"), "DUNNO",
              "staff: the first rule permits");
}

int main(void)
{
    setup();
    test_index();
    test_decisions();
    return UNIT_END();
}
