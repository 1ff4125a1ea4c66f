/*
 * proto - the Postfix socketmap protocol of postern-maps (socketmap_table(5)):
 * each request is a netstring "name key", each reply a netstring
 * "OK data", "NOTFOUND ", "TEMP reason" or "PERM reason", on a connection
 * Postfix reuses for many requests.
 *
 * Limits: a request over MAPS_MAX_REQUEST bytes or a malformed netstring is
 * logged and the connection closed (the client cannot resynchronize);
 * replies are kept under MAPS_MAX_REPLY by resolve.c.  Answers come from the
 * current snapshot only, or TEMP when it is missing or stale; srsdecode
 * needs no snapshot and answers even then (srsmap.c).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "maps.h"
#include "mem.h"
#include "metrics.h"
#include "netstring.h"

struct maps_state {
    struct maps_config *cfg;
    struct reloader *loader;
    struct snapshot *snap;
    struct srs *srs;     /* NULL: SRS not configured */
    struct str reply, value;
    unsigned long requests;
    struct metrics_family *m_req; /* postern_maps_requests_total */
};

/* count - one answer of map name (or "-" when unknown) by outcome */
static void count(struct maps_state *st, const char *name,
                  const char *outcome)
{
    metrics_inc(st->m_req, METRICS_L(name, outcome));
}

static const struct cfg_def maps_defs[] = {
    SERVER_CFG_DEFS(struct maps_config, srv, "inet:127.0.0.1:10031"),
    SERVER_PID_CFG_DEF(struct maps_config, srv, "/run/postern/maps.pid"),
    {"recipient_delimiter", CFG_STR, "+", 0, 8,
     offsetof(struct maps_config, recipient_delimiter), NULL},
    {"poll_interval", CFG_TIME, "250ms", 10, 60000,
     offsetof(struct maps_config, poll_interval), NULL},
    {"max_staleness", CFG_TIME, "3s", 100, 3600000,
     offsetof(struct maps_config, max_staleness), NULL},
    {"full_reload_interval", CFG_TIME, "1h", 0, 7 * 86400000LL,
     offsetof(struct maps_config, full_reload_interval), NULL},
    SRS_CFG_DEFS(struct maps_config, srs),
    {"closed_text", CFG_STR, "mailbox closed", 1, MAPS_CLOSED_TEXT_MAX,
     offsetof(struct maps_config, closed_text), NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static const struct cfg_def maps_db_defs[] = {
    DB_CFG_DEFS(struct maps_config, db)};

static size_t maps_sections(void *cfg, struct cfg_section *s)
{
    s[0] = (struct cfg_section){"maps", maps_defs, cfg};
    s[1] = (struct cfg_section){"database", maps_db_defs, cfg};
    return 2;
}

static int maps_check(void *cfgp, struct str *err)
{
    struct maps_config *cfg = cfgp;
    struct srs *srs;

    if (cfg->max_staleness < cfg->poll_interval * 2)
        return str_appendf(err, "[maps] max_staleness must be at least twice "
                           "poll_interval"), -1;
    for (const char *p = cfg->closed_text; *p; p++)
        if (*p < ' ' || *p > '~')
            return str_appendf(err, "[maps] closed_text: printable ASCII "
                               "only (it goes into an SMTP reply)"), -1;
    /* the secret file is read here so that -t (and a reload) checks it */
    if (maps_srs_load(cfg, &srs, err) < 0)
        return -1;
    maps_srs_free(srs);
    return 0;
}

static struct server_config *maps_srvcfg(void *cfg)
{
    return &((struct maps_config *)cfg)->srv;
}

static void reply(struct conn *c, struct maps_state *st, const char *status,
                  const char *data, size_t len)
{
    str_reset(&st->reply);
    str_append_cstr(&st->reply, status);
    str_append(&st->reply, data, len);
    str_reset(&st->value);
    netstring_encode(&st->value, st->reply.data, st->reply.len);
    conn_write(c, st->value.data, st->value.len);
}

static void answer(struct conn *c, struct maps_state *st, const char *req,
                   size_t len)
{
    char name[MAPS_NAME_MAX + 1];
    const char *sp = memchr(req, ' ', len);
    struct str out = STR_INIT;
    int ls;

    st->requests++;
    if (sp == NULL || (size_t)(sp - req) > MAPS_NAME_MAX) {
        count(st, "-", "perm");
        reply(c, st, "PERM ", "malformed request", 17);
        return;
    }
    memcpy(name, req, (size_t)(sp - req));
    name[sp - req] = '\0';
    int srs = maps_srs_name(name);
    if (!srs && !maps_known_name(name)) {
        count(st, "-", "perm");
        reply(c, st, "PERM ", "unknown map name", 16);
        log_warn("%s: unknown map name %s", conn_peer(c), log_safe_cstr(name));
        return;
    }
    if (srs && st->srs == NULL) {
        count(st, name, "perm");
        reply(c, st, "PERM ", "SRS is not configured ([maps] srs_domain)", 41);
        log_warn("%s: %s: SRS is not configured", conn_peer(c), name);
        return;
    }
    if (!strcmp(name, "srsdecode") ||
        (srs && st->snap != NULL &&
         reloader_fresh(st->loader, st->cfg->max_staleness)))
        ls = maps_srs_lookup(st->srs, st->snap, st->cfg->recipient_delimiter,
                             name, sp + 1, len - (size_t)(sp + 1 - req), &out);
    else if (st->snap == NULL ||
        !reloader_fresh(st->loader, st->cfg->max_staleness)) {
        count(st, name, "temp");
        reply(c, st, "TEMP ", "routing database unavailable", 28);
        return;
    } else
        ls = maps_lookup(st->snap, st->cfg->recipient_delimiter, name, sp + 1,
                         len - (size_t)(sp + 1 - req), &out);
    count(st, name, ls == LK_FOUND      ? "found"
                    : ls == LK_NOTFOUND ? "notfound"
                                        : "temp");
    if (ls == LK_FOUND) {
        reply(c, st, "OK ", out.data, out.len);
    } else if (ls == LK_NOTFOUND) {
        reply(c, st, "NOTFOUND ", "", 0);
    } else {
        log_warn("%s %s: %s", log_safe_cstr(name),
                 log_safe(sp + 1, len - (size_t)(sp + 1 - req)),
                 str_cstr(&out));
        reply(c, st, "TEMP ", str_cstr(&out), out.len);
    }
    log_debug("%s %s -> %d %s", name, log_safe(sp + 1, len - (size_t)(sp + 1 - req)),
              (int)ls, log_safe(str_cstr(&out), out.len));
    str_free(&out);
}

static ssize_t maps_input(struct conn *c, void *ctx, const char *buf,
                          size_t len)
{
    struct maps_state *st = ctx;
    const char *data;
    size_t dlen, used;
    enum netstring_status ns;

    ns = netstring_decode(buf, len, MAPS_MAX_REQUEST, &data, &dlen, &used);
    if (ns == NETSTRING_INCOMPLETE)
        return 0;
    if (ns != NETSTRING_OK) {
        log_warn("%s: %s, closing", conn_peer(c), netstring_strerror(ns));
        return -1;
    }
    answer(c, st, data, dlen);
    return (ssize_t)used;
}

static void *maps_open(struct conn *c, void *app)
{
    (void)c;
    return app;
}

static void maps_wakeup(void *app)
{
    struct maps_state *st = app;
    void *s = st->snap;

    /* a new full snapshot, or the changed rows applied in place */
    reloader_update(st->loader, &s);
    st->snap = s;
}

static void *maps_init(void *cfg, struct server *srv, struct str *err)
{
    struct maps_state *st = xcalloc(1, sizeof(*st));

    st->cfg = cfg;
    maps_set_closed_text(((struct maps_config *)cfg)->closed_text);
    if (maps_srs_load(cfg, &st->srs, err) < 0) {
        free(st);
        return NULL;
    }
    /* the loader starts before the privilege drop so it can read the
       password file; the file is read once, at db_open */
    if ((st->loader = reloader_start(&maps_reloader_ops, &((struct maps_config *)cfg)->db,
                                     ((struct maps_config *)cfg)->poll_interval, srv, err)) == NULL) {
        maps_srs_free(st->srs);
        free(st);
        return NULL;
    }
    reloader_full_interval(st->loader,
                           ((struct maps_config *)cfg)->full_reload_interval);
    reloader_health_after(st->loader,
                          ((struct maps_config *)cfg)->max_staleness);
    st->m_req = metrics_register(
        METRICS_COUNTER, "postern_maps_requests_total",
        "Socketmap requests by map name and answer (found, notfound, temp, "
        "perm).", "map,outcome");
    return st;
}

static void *maps_reconfigure(void *app, void *newcfg)
{
    struct maps_state *st = app;
    void *old = st->cfg;
    struct srs *srs;
    struct str err = STR_INIT;

    /* the new file was read by maps_check a moment ago; should it have
       become unreadable since, the old secrets stay */
    if (maps_srs_load(newcfg, &srs, &err) < 0)
        log_error("%s; keeping the previous SRS settings", str_cstr(&err));
    else {
        maps_srs_free(st->srs);
        st->srs = srs;
    }
    str_free(&err);
    st->cfg = newcfg;
    maps_set_closed_text(((struct maps_config *)newcfg)->closed_text);
    reloader_reconfigure(st->loader, &((struct maps_config *)newcfg)->db,
                         ((struct maps_config *)newcfg)->poll_interval);
    reloader_full_interval(st->loader,
                           ((struct maps_config *)newcfg)->full_reload_interval);
    reloader_health_after(st->loader,
                          ((struct maps_config *)newcfg)->max_staleness);
    return old;
}

static void maps_fini(void *app)
{
    struct maps_state *st = app;

    reloader_stop(st->loader);
    snapshot_free(st->snap);
    maps_srs_free(st->srs);
    str_free(&st->reply);
    str_free(&st->value);
    free(st);
}

static const struct server_ops maps_ops = {
    maps_open, maps_input, NULL, NULL, NULL, maps_wakeup};

const struct daemon_app maps_app = {
    "postern-maps", sizeof(struct maps_config), maps_sections, maps_check,
    maps_srvcfg, &maps_ops, maps_init, NULL, maps_reconfigure, maps_fini,
    1000, MAPS_MAX_REQUEST + 16, 4 * MAPS_MAX_REPLY, 0, NULL};
