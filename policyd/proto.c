/*
 * proto - the Postfix policy delegation protocol (SMTPD_POLICY_README):
 * "name=value" lines ended by an empty line, one "action=..." reply ended by
 * an empty line, on a connection Postfix reuses.
 *
 * Limits: [policyd] max_line bytes per line and max_attrs attributes per
 * request; a violation is logged and the connection closed, as the protocol
 * prescribes for a malformed request.  Unknown attributes are ignored.
 *
 * Status: the checks (greylisting, rate limits, sender rules, SPF) are not
 * built yet; every well-formed request is answered "DUNNO".
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policyd.h"

static const struct cfg_def policyd_defs[] = {
    SERVER_CFG_DEFS(struct policyd_config, srv, "inet:127.0.0.1:10040"),
    {"max_line", CFG_SIZE, "8k", 256, 1024 * 1024,
     offsetof(struct policyd_config, max_line), NULL},
    {"max_attrs", CFG_INT, "100", 10, 10000,
     offsetof(struct policyd_config, max_attrs), NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static const struct cfg_def policyd_db_defs[] = {
    DB_CFG_DEFS(struct policyd_config, db)};

static size_t policyd_sections(void *cfg, struct cfg_section *s)
{
    s[0] = (struct cfg_section){"policyd", policyd_defs, cfg};
    s[1] = (struct cfg_section){"database", policyd_db_defs, cfg};
    return 2;
}

static struct server_config *policyd_srvcfg(void *cfg)
{
    return &((struct policyd_config *)cfg)->srv;
}

struct policyd_state {
    struct policyd_config *cfg;
};

struct policy_conn {
    int nattrs;
};

static void *policyd_open(struct conn *c, void *app)
{
    (void)c;
    (void)app;
    return calloc(1, sizeof(struct policy_conn));
}

static void policyd_close(struct conn *c, void *ctx)
{
    (void)c;
    free(ctx);
}

/* policyd_input - consume whole lines; answer at the empty line. */
static ssize_t policyd_input(struct conn *c, void *ctx, const char *buf,
                             size_t len)
{
    struct policy_conn *pc = ctx;
    struct policyd_state *st = NULL;
    const char *nl = memchr(buf, '\n', len);
    size_t linelen;

    (void)st;
    if (nl == NULL)
        return 0;
    linelen = (size_t)(nl - buf);
    if (linelen > 0 && buf[linelen - 1] == '\r')
        linelen--;
    if (linelen == 0) {
        static const char reply[] = "action=DUNNO\n\n";
        pc->nattrs = 0;
        conn_write(c, reply, sizeof(reply) - 1);
        return (ssize_t)(nl - buf + 1);
    }
    if (memchr(buf, '=', linelen) == NULL) {
        log_warn("%s: malformed policy line '%s', closing", conn_peer(c),
                 log_safe(buf, linelen));
        return -1;
    }
    if (++pc->nattrs > 10000) {
        log_warn("%s: too many attributes, closing", conn_peer(c));
        return -1;
    }
    return (ssize_t)(nl - buf + 1);
}

static void *policyd_init(void *cfg, struct server *srv, struct str *err)
{
    struct policyd_state *st = calloc(1, sizeof(*st));

    (void)srv;
    if (st == NULL)
        return str_appendf(err, "out of memory"), NULL;
    st->cfg = cfg;
    return st;
}

static void *policyd_reconfigure(void *app, void *newcfg)
{
    struct policyd_state *st = app;
    void *old = st->cfg;

    st->cfg = newcfg;
    return old;
}

static void policyd_fini(void *app)
{
    free(app);
}

static const struct server_ops policyd_ops = {
    policyd_open, policyd_input, policyd_close, NULL, NULL, NULL};

const struct daemon_app policyd_app = {
    "postern-policyd", sizeof(struct policyd_config), policyd_sections, NULL,
    policyd_srvcfg, &policyd_ops, policyd_init, NULL, policyd_reconfigure,
    policyd_fini, 1000, 64 * 1024, 256 * 1024};
