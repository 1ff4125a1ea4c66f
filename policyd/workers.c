/*
 * workers - the worker threads of postern-policyd.
 *
 * The event loop (proto.c) parses requests and queues them as jobs; a
 * worker takes a job, runs the checks (database, DNS and LDAP calls block
 * here, never in the loop), writes the reply into the job and hands it back
 * through server_wakeup().  Each worker has its own database connection,
 * LDAP connection and SPF server; the LDAP group cache is shared.
 *
 * Limits: [policyd] workers threads; the queue is bounded by the number of
 * connections (Postfix sends one request at a time per connection).
 * [database] and [ldap] settings are read at start: changing them needs a
 * restart (the rest of [policyd] follows a SIGHUP).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "policyd.h"
#include "ttlcache.h"

struct pd_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct pd_job *queue, *queue_tail;
    struct pd_job *done;
    pthread_t *threads;
    int nthreads, busy, stop;
    struct server *srv;
    const struct policyd_config *cfg;
    struct ldapgroup *ldgroups;
    struct greycache *gc;
    struct ttlcache *quota_cache;
    struct ttlcache *dnsbl_cache;
};

static void worker_setup(struct pd_pool *p, struct pd_worker *w)
{
    struct str err = STR_INIT;

    memset(w, 0, sizeof(*w));
    w->cfg = p->cfg;
    w->ldgroups = p->ldgroups;
    w->gc = p->gc;
    w->quota_cache = p->quota_cache;
    w->dnsbl_cache = p->dnsbl_cache;
    if ((w->db = db_open(&p->cfg->db, &err)) == NULL)
        log_error("database: %s", str_cstr(&err));
    str_reset(&err);
    if (p->cfg->ldap_on && (w->ldap = ldapc_open(&p->cfg->ldap, &err)) == NULL)
        log_error("ldap: %s", str_cstr(&err));
    w->spf = pd_spf_server_new();
    if (p->cfg->hostname[0])
        snprintf(w->hostname, sizeof(w->hostname), "%s", p->cfg->hostname);
    else if (gethostname(w->hostname, sizeof(w->hostname) - 1) < 0)
        snprintf(w->hostname, sizeof(w->hostname), "localhost");
    str_free(&err);
}

static void run_job(struct pd_worker *w, struct pd_job *j)
{
    struct pd_eval e;

    w->cfg = j->cfg;
    if (j->prune) {
        if (w->db && j->rules)
            prune_state(w, j->rules, time(NULL));
        return;
    }
    memset(&e, 0, sizeof(e));
    e.req = &j->req;
    e.rules = j->rules;
    e.w = w;
    e.ms = &j->ms;
    e.now = time(NULL);
    if (w->db == NULL || (w->cfg->ldap_on && w->ldap == NULL)) {
        str_append_cstr(&e.reply, "451 4.3.0 Policy service temporarily "
                        "unavailable, try again later");
        log_error("request deferred: the worker has no database/LDAP "
                  "connection (see the errors at start)");
    } else {
        pd_decide(&e);
    }
    str_reset(&j->reply);
    str_appendf(&j->reply, "action=%s\n\n", str_cstr(&e.reply));
    log_debug("%s %s from=<%s> to=<%s> -> %s",
              log_safe_cstr(preq_get(&j->req, A_PROTOCOL_STATE)),
              log_safe_cstr(preq_get(&j->req, A_CLIENT_ADDRESS)),
              log_safe_cstr(preq_get(&j->req, A_SENDER)),
              log_safe_cstr(preq_get(&j->req, A_RECIPIENT)),
              log_safe_cstr(str_cstr(&e.reply)));
    str_free(&e.reply);
    str_free(&e.err);
}

static void *worker_main(void *arg)
{
    struct pd_pool *p = arg;
    struct pd_worker w;

    db_thread_init();
    pthread_mutex_lock(&p->lock);
    worker_setup(p, &w);
    for (;;) {
        struct pd_job *j;
        while (!p->stop && p->queue == NULL)
            pthread_cond_wait(&p->cond, &p->lock);
        if (p->stop)
            break;
        j = p->queue;
        p->queue = j->next;
        if (p->queue == NULL)
            p->queue_tail = NULL;
        p->busy++;
        pthread_mutex_unlock(&p->lock);
        run_job(&w, j);
        pthread_mutex_lock(&p->lock);
        p->busy--;
        j->next = p->done;
        p->done = j;
        server_wakeup(p->srv);
    }
    pthread_mutex_unlock(&p->lock);
    db_close(w.db);
    if (w.ldap)
        ldapc_close(w.ldap);
    pd_spf_server_free(w.spf);
    db_thread_end();
    return NULL;
}

struct pd_pool *pd_pool_start(const struct policyd_config *cfg,
                           struct server *srv, struct str *err)
{
    struct pd_pool *p = xcalloc(1, sizeof(*p));

    p->threads = xcalloc((size_t)cfg->workers, sizeof(pthread_t));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->srv = srv;
    p->cfg = cfg;
    if (cfg->ldap_on && (p->ldgroups = pd_ldgroups_new(cfg, err)) == NULL)
        return NULL;
    if ((p->gc = gc_new(cfg, err)) == NULL)
        return NULL;
    p->quota_cache = pd_quota_cache_new(cfg); /* ttl: set at start */
    p->dnsbl_cache = pd_dnsbl_cache_new();
    if (cfg->ldap_on)
        ldapc_global_init();
    for (int i = 0; i < cfg->workers; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            str_appendf(err, "cannot start worker thread %d", i);
            p->nthreads = i;
            pd_pool_stop(p);
            return NULL;
        }
        p->nthreads = i + 1;
    }
    return p;
}

void pd_pool_submit(struct pd_pool *p, struct pd_job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->queue_tail)
        p->queue_tail->next = j;
    else
        p->queue = j;
    p->queue_tail = j;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

struct pd_job *pd_pool_done(struct pd_pool *p)
{
    struct pd_job *j;

    pthread_mutex_lock(&p->lock);
    j = p->done;
    p->done = NULL;
    pthread_mutex_unlock(&p->lock);
    return j;
}

int pd_pool_idle(struct pd_pool *p)
{
    int idle;

    pthread_mutex_lock(&p->lock);
    idle = p->queue == NULL && p->busy == 0;
    pthread_mutex_unlock(&p->lock);
    return idle;
}

void pd_pool_reconfigure(struct pd_pool *p, const struct policyd_config *cfg)
{
    gc_reconfigure(p->gc, cfg);
}

void pd_pool_stop(struct pd_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    ldapgroup_free(p->ldgroups);
    gc_free(p->gc); /* after the workers: it writes what they queued */
    ttlcache_free(p->quota_cache);
    ttlcache_free(p->dnsbl_cache);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->threads);
    free(p);
}
