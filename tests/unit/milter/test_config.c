/*
 * test_milter_config - postern-milter's configuration helpers: listen spec
 * conversion to libmilter syntax, trusted network matching, group domains,
 * the [milter]/[ldap]/[database] tables through daemon_load_config (defaults,
 * bad values with file:line), the string list and the TTL cache; and
 * lib/ldapc.c's RFC 4515 escaping and filter templates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "milter.h"
#include "ldapc.h"
#include "unit.h"

struct mctx *milter_ctx;

static const char *spec(const char *in)
{
    static char buf[256];
    struct str out = STR_INIT, err = STR_INIT;

    if (milter_listen_spec(in, &out, &err) < 0)
        snprintf(buf, sizeof(buf), "ERR");
    else
        snprintf(buf, sizeof(buf), "%s", str_cstr(&out));
    str_free(&out);
    str_free(&err);
    return buf;
}

static void test_listen(void)
{
    CHECK_STR(spec("inet:127.0.0.1:10027"), "inet:10027@127.0.0.1", "inet v4");
    CHECK_STR(spec("inet:[::1]:10027"), "inet6:10027@::1", "inet v6");
    CHECK_STR(spec("inet:*:10027"), "inet:10027", "inet any");
    CHECK_STR(spec("unix:/run/postern/milter"), "unix:/run/postern/milter",
              "unix");
    CHECK_STR(spec("inet:127.0.0.1"), "ERR", "no port");
    CHECK_STR(spec("inet:127.0.0.1:99999"), "ERR", "port out of range");
    CHECK_STR(spec("inet:127.0.0.1:1x"), "ERR", "port not numeric");
    CHECK_STR(spec("unix:relative"), "ERR", "relative unix path");
    CHECK_STR(spec("inet:a:1, inet:b:2"), "ERR", "only one spec");
    CHECK_STR(spec("tcp:1.2.3.4:5"), "ERR", "unknown scheme");
}

static void test_nets(void)
{
    CHECK(milter_net_match("192.0.2.0/24", "192.0.2.77"), "v4 in /24");
    CHECK(!milter_net_match("192.0.2.0/24", "192.0.3.1"), "v4 not in /24");
    CHECK(milter_net_match("10.0.0.0/8, 127.0.0.1", "127.0.0.1"), "list, host");
    CHECK(!milter_net_match("", "127.0.0.1"), "empty list matches nothing");
    CHECK(milter_net_match("2001:db8::/32", "2001:db8:1::5"), "v6 in /32");
    CHECK(!milter_net_match("2001:db8::/32", "2001:db9::5"), "v6 not in /32");
    CHECK(milter_net_match("192.0.2.128/25", "192.0.2.200"), "v4 /25 in");
    CHECK(!milter_net_match("192.0.2.128/25", "192.0.2.100"), "v4 /25 out");
    CHECK(!milter_net_match("192.0.2.0/24", "2001:db8::1"), "family mismatch");
}

static void test_group_domains(void)
{
    struct milter_config cfg = {0};

    cfg.group_domains = "";
    CHECK(!milter_group_domain(&cfg, "x@any.example"),
          "empty: no group lookups");
    CHECK(!milter_ldap_on(&cfg), "empty: LDAP not in use");
    cfg.group_domains = "*";
    CHECK(milter_group_domain(&cfg, "x@any.example"), "*: every domain");
    CHECK(milter_ldap_on(&cfg), "*: LDAP in use");
    cfg.group_domains = "bns.school.example, gym.school.example";
    CHECK(milter_group_domain(&cfg, "9a@bns.school.example"), "listed");
    CHECK(milter_group_domain(&cfg, "9a@GYM.school.example"), "case");
    CHECK(!milter_group_domain(&cfg, "x@example.org"), "not listed");
    CHECK(!milter_group_domain(&cfg, "nodomain"), "no domain");
}

static char *write_file(const char *text)
{
    static char path[] = "/tmp/test_milter_config.XXXXXX";
    int fd;

    strcpy(path, "/tmp/test_milter_config.XXXXXX");
    fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    return path;
}

static void test_load(void)
{
    struct str err = STR_INIT;
    struct milter_config *cfg;
    char *p;

    p = write_file("[milter]\nlisten = inet:127.0.0.1:10999\n"
                   "[ldap]\nbase = dc=x\n[maps]\nwhatever = 1\n");
    cfg = daemon_load_config(&milter_app, p, &err);
    CHECK(cfg != NULL, "minimal file loads (%s)", str_cstr(&err));
    if (cfg) {
        CHECK(cfg->max_recipients == 25000, "max_recipients default");
        CHECK(cfg->copy_to_sender == 0, "copy_to_sender default");
        CHECK(cfg->connections == 8, "connections default");
        CHECK_STR(cfg->ldap.member_attribute, "uniqueMember",
                  "member_attribute default");
        CHECK_STR(cfg->ldap.mail_attribute, "mailPrimaryAddress",
                  "mail_attribute default");
        CHECK(cfg->ldap.cache_ttl == 60000, "cache_ttl default 60s");
        CHECK(cfg->dkim_missing_key == MISSING_KEY_PASS, "missing key: pass");
        CHECK(cfg->unowned_from == UNOWNED_FROM_REJECT,
              "unowned_from default: reject");
        CHECK_STR(cfg->group_domains, "", "group_domains default: none");
        daemon_free_config(&milter_app, cfg);
    }
    unlink(p);

    str_reset(&err);
    p = write_file("[milter]\nlisten = inet:127.0.0.1\n");
    cfg = daemon_load_config(&milter_app, p, &err);
    CHECK(cfg == NULL && strstr(str_cstr(&err), "listen"),
          "bad listen refused: %s", str_cstr(&err));
    daemon_free_config(&milter_app, cfg);
    unlink(p);

    str_reset(&err);
    p = write_file("[ldap]\ngroup_filter = (mail=%x)\n");
    cfg = daemon_load_config(&milter_app, p, &err);
    CHECK(cfg == NULL && strstr(str_cstr(&err), "group_filter"),
          "bad filter escape refused: %s", str_cstr(&err));
    daemon_free_config(&milter_app, cfg);
    unlink(p);

    str_reset(&err);
    p = write_file("[milter]\ntrusted_networks = 10.0.0.0/33\n");
    cfg = daemon_load_config(&milter_app, p, &err);
    CHECK(cfg == NULL && strstr(str_cstr(&err), "trusted_networks"),
          "bad network refused: %s", str_cstr(&err));
    daemon_free_config(&milter_app, cfg);
    unlink(p);

    str_reset(&err);
    p = write_file("[milter]\nunowned_from = sign\n");
    cfg = daemon_load_config(&milter_app, p, &err);
    CHECK(cfg == NULL && strstr(str_cstr(&err), "unowned_from"),
          "unowned_from: only reject or unsigned: %s", str_cstr(&err));
    daemon_free_config(&milter_app, cfg);
    unlink(p);

    str_reset(&err);
    p = write_file("[milter]\n\nmax_recipients = 0\n");
    cfg = daemon_load_config(&milter_app, p, &err);
    CHECK(cfg == NULL && strstr(str_cstr(&err), ":3: [milter] max_recipients"),
          "out of range with file:line: %s", str_cstr(&err));
    daemon_free_config(&milter_app, cfg);
    unlink(p);
    str_free(&err);
}

static const char *filt(const char *tmpl, const char *value)
{
    static char buf[512];
    struct str out = STR_INIT, err = STR_INIT;

    if (ldapfilter_expand(&out, tmpl, value, &err) < 0)
        snprintf(buf, sizeof(buf), "ERR");
    else
        snprintf(buf, sizeof(buf), "%s", str_cstr(&out));
    str_free(&out);
    str_free(&err);
    return buf;
}

static void test_ldap_filter(void)
{
    struct str out = STR_INIT;

    CHECK_STR(filt("(mail=%s)", "a@b.example"), "(mail=a@b.example)", "plain");
    CHECK_STR(filt("(mail=%s)", "*)(uid=*"), "(mail=\\2a\\29\\28uid=\\2a)",
              "injection escaped");
    CHECK_STR(filt("(cn=%s)", "a\\b"), "(cn=a\\5cb)", "backslash escaped");
    CHECK_STR(filt("(&(uid=%u)(dc=%d))", "max@bns.example"),
              "(&(uid=max)(dc=bns.example))", "%%u and %%d");
    CHECK_STR(filt("(uid=%u)(d=%d)", "nodomain"), "(uid=nodomain)(d=)",
              "%%d without domain");
    CHECK_STR(filt("(x=100%%)", "v"), "(x=100%)", "%%%%");
    CHECK_STR(filt("(x=%q)", "v"), "ERR", "unknown escape");
    CHECK(ldapfilter_escape(&out, "a\0b", 3) == 0 &&
              !strcmp(str_cstr(&out), "a\\00b"), "NUL escaped");
    str_free(&out);
}

/* the lists the milter keeps (lib/strvec.h; the cache is lib/ttlcache.h,
   tested in tests/unit/lib/test_ttlcache.c) */
static void test_strvec(void)
{
    struct strvec l = STRVEC_INIT, copy = STRVEC_INIT;

    for (int i = 0; i < 100; i++) {
        char a[32];
        snprintf(a, sizeof(a), "user%d@example.org", i);
        strvec_add(&l, a);
    }
    CHECK(l.n == 100, "strvec grows");
    CHECK(strvec_has(&l, "USER42@example.org"), "strvec_has is case-insensitive");
    CHECK(!strvec_has(&l, "user100@example.org"), "strvec_has misses");
    strvec_copy(&copy, &l);
    CHECK(copy.n == 100 && !strcmp(copy.v[99], "user99@example.org"),
          "strvec_copy keeps the order");
    strvec_free(&copy);
    strvec_free(&l);
    CHECK(l.n == 0 && l.v == NULL, "strvec_free empties");
}

int main(void)
{
    test_listen();
    test_nets();
    test_group_domains();
    test_load();
    test_ldap_filter();
    test_strvec();
    return UNIT_END();
}
