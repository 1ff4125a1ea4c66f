/*
 * test_senderrules - postern-policyd's closed groups over a hand-built
 * rule snapshot (no database, no LDAP): every spelling of a protected
 * pupil and parent mailbox meets its rule (case, +extension, quoting,
 * trailing dot, alias domain), the login decides for a pupil who may only
 * write inside the school (MAIL FROM:<>, an alias spelling of the own
 * address, someone else's address), an authenticated null sender is the
 * login's address, and a permit for an outer policy group does not open a
 * closed group nested in it.  Runs pd_decide() as a worker would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policyd.h"
#include "unit.h"

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

/* rule - one sender_rules row (group ids 0 = NULL) */
static void rule(const char *name, unsigned long sg, unsigned long rg,
                 int action, int auth, const char *text)
{
    struct pd_sender_rule *sr = &rules.srules[rules.nsrules++];

    sr->name = name;
    sr->sender = sg ? pgroup_by_id(rules.groups, sg) : NULL;
    sr->recipient = rg ? pgroup_by_id(rules.groups, rg) : NULL;
    sr->action = action;
    sr->require_auth = auth;
    sr->text = text;
}

static void setup(void)
{
    cfg.recipient_delimiter = "+";
    cfg.reject_text = "rejected";
    cfg.defer_text = "deferred";
    cfg.sender_rules_on = ST_RCPT;
    cfg.sender_rules_fail = FAIL_DEFER;
    worker.cfg = &cfg;
    aliasdom_init(&rules.alias);
    aliasdom_add(&rules.alias, "bns-schule.example", "bns.school.example");
    aliasdom_add(&rules.alias, "eltern-alias.example", "eltern.school.example");
    aliasdom_add(&rules.alias, "loop-a.example", "loop-b.example");
    aliasdom_add(&rules.alias, "loop-b.example", "loop-a.example");
    rules.groups = pgroup_set_new();
    pgroup_set_canonical(rules.groups, NULL, aliasdom_target, &rules.alias);
    pgroup_set_add_group(rules.groups, 1, "parents");
    pgroup_set_add_group(rules.groups, 2, "staff");
    pgroup_set_add_group(rules.groups, 3, "young");
    pgroup_set_add_group(rules.groups, 4, "bns-school");
    pgroup_set_add_group(rules.groups, 5, "all-pupils");
    add(1, "domain", "eltern.school.example");
    add(2, "address", "anna.lehrer@bns.school.example");
    add(3, "address", "tim.klein@bns-schule.example"); /* stored canonical */
    add(4, "domain", "bns.school.example");
    add(5, "group", "young");
    add(5, "address", "lena.schueler@bns.school.example");
    pgroup_set_finish(rules.groups);
    rules.srules = calloc(16, sizeof(*rules.srules));
    rule("parents-from-parents", 1, 1, RA_PERMIT, 1, NULL);
    rule("parents-from-staff", 2, 1, RA_PERMIT, 1, NULL);
    rule("parents-closed", 0, 1, RA_REJECT, 0, "parents only");
    rule("newsletter", 0, 5, RA_PERMIT, 0, NULL);
    rule("young-send-inside", 3, 4, RA_PERMIT, 1, NULL);
    rule("young-send-closed", 3, 0, RA_REJECT, 0, "inside only");
    rule("young-receive-inside", 4, 3, RA_PERMIT, 1, NULL);
    rule("young-receive-closed", 0, 3, RA_REJECT, 0, "from the school only");
    rules_index_srules(&rules);
    strmap_init(&rules.grants, 4);
    strmap_init(&rules.domchecks, 4);
    strmap_init(&rules.grey_domain, 4);
    strmap_init(&rules.overrides, 4);
}

/* ask - the reply to one RCPT request (login "" = none) */
static const char *ask(const char *sender, const char *rcpt, const char *login)
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
    snprintf(line, sizeof(line), "sasl_username=%s", login);
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

static void test_spellings(void)
{
    static const char *const tim[] = {
        "tim.klein@bns.school.example", "TIM.KLEIN@bns.school.example",
        "tim.klein@BNS.SCHOOL.EXAMPLE", "tim.klein+x@bns.school.example",
        "\"tim.klein\"@bns.school.example", "tim.klein@bns.school.example.",
        "tim.klein@bns-schule.example", "TIM.KLEIN@bns-schule.example",
        "tim.klein+x@bns-schule.example", "\"tim.klein+x\"@bns-schule.example",
        "tim.klein@bns-schule.example.", "\"TIM.KLEIN\"@BNS-SCHULE.EXAMPLE.",
        "TIM.KLEIN+Ext@BNS.SCHOOL.EXAMPLE."};
    static const char *const parent[] = {
        "eltern.mueller@eltern.school.example",
        "ELTERN.MUELLER@eltern.school.example",
        "eltern.mueller+x@eltern.school.example",
        "\"eltern.mueller\"@eltern.school.example",
        "eltern.mueller@eltern.school.example.",
        "eltern.mueller@eltern-alias.example",
        "Eltern.Mueller@ELTERN-ALIAS.example",
        "eltern.mueller+x@eltern-alias.example",
        "\"eltern.mueller+x\"@eltern-alias.example",
        "eltern.mueller@eltern-alias.example.",
        "\"ELTERN.MUELLER\"@ELTERN-ALIAS.EXAMPLE.",
        "ELTERN.MUELLER+Ext@ELTERN.SCHOOL.EXAMPLE.",
        "\"Eltern.Mueller\"@Eltern.School.Example"};

    for (size_t i = 0; i < sizeof(tim) / sizeof(tim[0]); i++)
        CHECK_STR(ask("x@example.org", tim[i], ""),
                  "550 5.7.1 from the school only",
                  "outsider -> protected pupil <%s>: refused", tim[i]);
    for (size_t i = 0; i < sizeof(parent) / sizeof(parent[0]); i++)
        CHECK_STR(ask("x@example.org", parent[i], ""),
                  "550 5.7.1 parents only",
                  "outsider -> parent <%s>: refused", parent[i]);
    CHECK_STR(ask("anna.lehrer@bns.school.example",
                  "\"Eltern.Mueller+x\"@ELTERN-alias.example.",
                  "anna.lehrer@bns-schule.example"),
              "DUNNO", "a teacher (alias-domain login) to a parent: permitted");
}

static void test_login(void)
{
    static const char *const from[] = {
        "", "tim.klein@bns-schule.example", "TIM.KLEIN+x@bns.school.example",
        "\"tim.klein\"@bns.school.example.", "max.schueler@bns.school.example"};

    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
        CHECK_STR(ask(from[i], "friend@example.net",
                      "tim.klein@bns.school.example"),
                  "550 5.7.1 inside only",
                  "pupil logged in, MAIL FROM:<%s> to outside: refused",
                  from[i]);
    CHECK_STR(ask("", "max.schueler@bns.school.example",
                  "TIM.KLEIN@bns-schule.example"),
              "DUNNO", "pupil with MAIL FROM:<> inside the school: permitted "
              "(the login owns its own address)");
    CHECK_STR(ask("", "friend@example.net", "someone"),
              "550 5.7.1 The null sender is not allowed for this login",
              "a null sender with a login that has no address: refused");
    CHECK_STR(ask("", "friend@example.net", ""), "DUNNO",
              "an unauthenticated null sender (a bounce): no objection");
    CHECK_STR(ask("max.schueler@bns.school.example", "friend@example.net",
                  "max.schueler@bns.school.example"),
              "DUNNO", "a pupil without a closed rule: no objection");
}

static void test_nesting(void)
{
    CHECK_STR(ask("x@example.org", "lena.schueler@bns.school.example", ""),
              "DUNNO", "newsletter permit for all-pupils: lena passes");
    CHECK_STR(ask("x@example.org", "tim.klein@bns.school.example", ""),
              "550 5.7.1 from the school only",
              "... tim (young, nested in all-pupils) meets young's rules");
    CHECK_STR(ask("anna.lehrer@bns.school.example",
                  "tim.klein@bns.school.example",
                  "anna.lehrer@bns.school.example"),
              "DUNNO", "... a teacher logged in passes young's permit");
}

static void test_alias_loop(void)
{
    CHECK_STR(ask("x@example.org", "u@loop-a.example", ""),
              "451 4.3.0 Policy service temporarily unavailable, try again "
              "later", "an alias domain chain that never ends: deferred, "
              "never matched in a spelling no rule knows");
}

int main(void)
{
    setup();
    test_alias_loop();
    test_spellings();
    test_login();
    test_nesting();
    return UNIT_END();
}
