/*
 * proto - the Postfix policy delegation protocol (SMTPD_POLICY_README):
 * "name=value" lines ended by an empty line, one "action=..." reply ended
 * by an empty line, on a connection Postfix reuses for many requests.
 *
 * The event loop reads and parses; a complete request becomes a job for
 * the workers (workers.c), whose answer is written back when it is done.
 * Per connection it keeps what belongs to the message in progress (keyed by
 * the "instance" attribute): the SPF result, the headers still to prepend,
 * the rate-limit rules that already counted the message.
 *
 * Limits: [policyd] max_line bytes per line and max_attrs attributes per
 * request; a violation is logged and the connection closed (the protocol
 * has no error reply; Postfix then retries on a new connection and, after
 * repeated failures, answers 451 4.3.5 itself: mail is not lost).
 * Unknown attributes are ignored.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mem.h"
#include "policyd.h"

struct policyd_state {
    struct policyd_config *cfg;
    struct server *srv;
    struct reloader *reloader;
    struct pd_pool *pool;
    struct pd_rules *rules;          /* current snapshot */
    struct pd_rules *old[16];        /* replaced, still used by jobs */
    size_t nold;
    time_t next_prune;
    int prune_running;
};

struct policy_conn {
    struct conn *c;
    struct policyd_state *st;
    struct preq req;
    struct pd_msgstate ms;
    int pending;                     /* a job is out */
    int closed;                      /* the connection went away meanwhile */
};

static void *policyd_open(struct conn *c, void *app)
{
    struct policy_conn *pc = xcalloc(1, sizeof(*pc));

    pc->c = c;
    pc->st = app;
    return pc;
}

static void policyd_close(struct conn *c, void *ctx)
{
    struct policy_conn *pc = ctx;

    (void)c;
    if (pc == NULL)
        return;
    if (pc->pending) { /* freed when its job comes back */
        pc->closed = 1;
        return;
    }
    preq_free(&pc->req);
    free(pc);
}

static struct pd_rules *rules_ref(struct policyd_state *st)
{
    /* the last snapshot serves while the database is away: the rules are
       what they were, and the checks that need the database follow their
       fail modes */
    if (st->rules == NULL)
        return NULL;
    st->rules->refs++;
    return st->rules;
}

static void rules_unref(struct policyd_state *st, struct pd_rules *r)
{
    if (r == NULL)
        return;
    r->refs--;
    for (size_t i = 0; i < st->nold; i++) {
        if (st->old[i] == r && r->refs == 0) {
            rules_free(r);
            st->old[i] = st->old[--st->nold];
            return;
        }
    }
}

static void submit(struct policy_conn *pc)
{
    struct policyd_state *st = pc->st;
    struct pd_job *j = xcalloc(1, sizeof(*j));
    const char *inst = preq_get(&pc->req, A_INSTANCE);

    if (strncmp(inst, pc->ms.instance, sizeof(pc->ms.instance) - 1) != 0) {
        memset(&pc->ms, 0, sizeof(pc->ms)); /* a new message */
        str_copy_bounded(pc->ms.instance, sizeof(pc->ms.instance), inst,
                         strlen(inst));
    }
    j->owner = pc;
    j->req = pc->req; /* the buffer moves into the job */
    memset(&pc->req, 0, sizeof(pc->req));
    j->ms = pc->ms;
    j->rules = rules_ref(st);
    j->cfg = st->cfg;
    pc->pending = 1;
    conn_set_busy(pc->c, 1); /* never shed as idle while a worker answers */
    pd_pool_submit(st->pool, j);
}

/* policyd_input - consume whole lines; at the empty line, hand the request
   to a worker.  While a request is out, nothing more is read. */
static ssize_t policyd_input(struct conn *c, void *ctx, const char *buf,
                             size_t len)
{
    struct policy_conn *pc = ctx;
    const struct policyd_config *cfg = pc->st->cfg;
    const char *nl, *err;
    size_t linelen;

    if (pc->pending)
        return 0;
    if ((nl = memchr(buf, '\n', len)) == NULL) {
        if (len > (size_t)cfg->max_line) {
            log_warn("%s: policy line over %lld bytes, closing",
                     conn_peer(c), cfg->max_line);
            return -1;
        }
        return 0;
    }
    linelen = (size_t)(nl - buf);
    if (linelen > (size_t)cfg->max_line) {
        log_warn("%s: policy line over %lld bytes, closing", conn_peer(c),
                 cfg->max_line);
        return -1;
    }
    if (linelen > 0 && buf[linelen - 1] == '\r')
        linelen--;
    if (linelen == 0) {
        if (pc->req.nattrs == 0) {
            log_warn("%s: empty policy request, closing", conn_peer(c));
            return -1;
        }
        submit(pc);
        return (ssize_t)(nl - buf + 1);
    }
    if (preq_add(&pc->req, buf, linelen, &err) < 0) {
        log_warn("%s: malformed policy request (%s): '%s', closing",
                 conn_peer(c), err, log_safe(buf, linelen));
        return -1;
    }
    if (pc->req.nattrs > cfg->max_attrs) {
        log_warn("%s: more than %lld attributes in one request, closing",
                 conn_peer(c), cfg->max_attrs);
        return -1;
    }
    return (ssize_t)(nl - buf + 1);
}

static void finish(struct policyd_state *st, struct pd_job *j)
{
    struct policy_conn *pc = j->owner;

    rules_unref(st, j->rules);
    if (j->prune) {
        st->prune_running = 0;
    } else if (pc->closed) {
        preq_free(&pc->req);
        free(pc);
    } else {
        pc->pending = 0;
        conn_set_busy(pc->c, 0);
        pc->ms = j->ms;
        conn_write(pc->c, j->reply.data, j->reply.len);
        conn_resume(pc->c); /* a request that came meanwhile */
    }
    preq_free(&j->req);
    str_free(&j->reply);
    free(j);
}

static void policyd_wakeup(void *app)
{
    struct policyd_state *st = app;
    struct pd_rules *r = reloader_take(st->reloader);
    struct pd_job *j;

    if (r) {
        if (st->rules && st->rules->refs > 0 &&
            st->nold < sizeof(st->old) / sizeof(st->old[0]))
            st->old[st->nold++] = st->rules;
        else if (st->rules && st->rules->refs > 0)
            log_fatal("too many policy snapshots in use");
        else
            rules_free(st->rules);
        st->rules = r;
    }
    while ((j = pd_pool_done(st->pool)) != NULL) {
        while (j) {
            struct pd_job *next = j->next;
            finish(st, j);
            j = next;
        }
    }
}

static void policyd_tick(void *app)
{
    struct policyd_state *st = app;
    time_t now = time(NULL);
    struct pd_job *j;

    if (now < st->next_prune || st->prune_running || st->rules == NULL)
        return;
    st->next_prune = now + st->cfg->prune_interval / 1000;
    j = xcalloc(1, sizeof(*j));
    j->prune = 1;
    j->rules = rules_ref(st);
    j->cfg = st->cfg;
    if (j->rules == NULL) {
        free(j);
        return;
    }
    st->prune_running = 1;
    pd_pool_submit(st->pool, j);
}

static void *policyd_init(void *cfg, struct server *srv, struct str *err)
{
    struct policyd_state *st = xcalloc(1, sizeof(*st));
    struct policyd_config *c = cfg;

    st->cfg = c;
    st->srv = srv;
    st->next_prune = time(NULL) + c->prune_interval / 1000;
    pd_metrics_register();
    /* before the privilege drop: the password files are read at open */
    st->reloader = reloader_start(&pd_rules_ops, &c->db, c->poll_interval,
                                  srv, err);
    if (st->reloader == NULL) {
        free(st);
        return NULL;
    }
    if ((st->pool = pd_pool_start(c, srv, err)) == NULL) {
        reloader_stop(st->reloader);
        free(st);
        return NULL;
    }
    return st;
}

static void *policyd_reconfigure(void *app, void *newcfg)
{
    struct policyd_state *st = app;
    void *old = st->cfg;
    struct timespec pause = {0, 1000000};

    /* queued and running jobs read the configuration: let them finish
       first (bounded by the database and DNS timeouts; reloads are rare) */
    while (!pd_pool_idle(st->pool))
        nanosleep(&pause, NULL);
    st->cfg = newcfg;
    pd_pool_reconfigure(st->pool, st->cfg);
    reloader_reconfigure(st->reloader, &st->cfg->db, st->cfg->poll_interval);
    return old; /* its pools go with it (policyd_config_release) */
}

static void policyd_fini(void *app)
{
    struct policyd_state *st = app;

    pd_pool_stop(st->pool);
    reloader_stop(st->reloader);
    for (size_t i = 0; i < st->nold; i++)
        rules_free(st->old[i]);
    rules_free(st->rules);
    free(st);
}

static struct server_config *policyd_srvcfg(void *cfg)
{
    return &((struct policyd_config *)cfg)->srv;
}

static const struct server_ops policyd_ops = {
    policyd_open, policyd_input, policyd_close, policyd_tick, NULL,
    policyd_wakeup};

const struct daemon_app policyd_app = {
    "postern-policyd", sizeof(struct policyd_config), policyd_config_sections,
    policyd_config_check, policyd_srvcfg, &policyd_ops, policyd_init, NULL,
    policyd_reconfigure, policyd_fini, 1000, 64 * 1024, 256 * 1024, 0,
    policyd_config_release};
