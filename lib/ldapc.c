/*
 * ldapc - LDAP client with failover, timeouts and three lookup outcomes.
 * See ldapc.h.
 *
 * Implementation: the URI list is handed to ldap_initialize() as one
 * blank-separated list, so libldap tries the servers in order on every
 * (re)connect; LDAP_OPT_NETWORK_TIMEOUT bounds each connect attempt and the
 * search time limit bounds each search (client side, plus the server-side
 * time limit).  Protocol version 3, no referral chasing.
 *
 * Diagnostics: none logged here; every failure is a message in *err for the
 * caller, with the LDAP error text.
 */
#include "ldapc.h"
#include "mem.h"
#include "file.h"
#include "clock.h"
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEARCH_RETRY (-100) /* search_once: connection dead (not an LK_*) */

struct ldapc {
    char *uris;        /* blank-separated */
    char *base;
    char *bind_dn;
    char *password;    /* NULL = anonymous */
    long long connect_ms, query_ms, retry_ms;
    LDAP *ld;          /* NULL while disconnected */
    long long down_until; /* monotonic ms; no attempt before */
};

static int ldapc_read_password(const char *path, char **out, struct str *err)
{
    struct str pw = STR_INIT;

    if (file_read("ldap password file", path, LDAPC_PASSWORD_MAX,
                  FILE_STRIP_NEWLINES, &pw, err) < 0) {
        str_free(&pw);
        return -1;
    }
    *out = xstrdup(str_cstr(&pw));
    str_wipe(&pw);
    return 0;
}

/* uri_list - "a, b c" -> "a b c", checking count and each URI's syntax. */
static char *uri_list(const char *in, struct str *err)
{
    struct str out = STR_INIT;
    char item[1025];
    const char *cur = in;
    int n = 0, rc;

    while ((rc = cfg_list_next(&cur, item, sizeof(item))) > 0) {
        if (++n > LDAPC_URIS_MAX) {
            str_appendf(err, "ldap: more than %d URIs", LDAPC_URIS_MAX);
            str_free(&out);
            return NULL;
        }
        if (!ldap_is_ldap_url(item)) {
            str_appendf(err, "ldap: not an LDAP URI: %s", item);
            str_free(&out);
            return NULL;
        }
        if (out.len) /* at most LDAPC_URIS_MAX items of 1024 bytes */
            str_append_char(&out, ' ');
        str_append_cstr(&out, item);
    }
    if (rc < 0 || n == 0) {
        str_appendf(err, "ldap: bad uri list '%s'", in);
        str_free(&out);
        return NULL;
    }
    return out.data;
}

void ldapc_global_init(void)
{
    int version = LDAP_VERSION3;

    ldap_set_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &version);
}

struct ldapc *ldapc_open(const struct ldapc_config *cfg, struct str *err)
{
    struct ldapc *lc = xcalloc(1, sizeof(*lc));

    lc->connect_ms = cfg->connect_timeout;
    lc->query_ms = cfg->query_timeout;
    lc->retry_ms = cfg->retry_interval;
    lc->base = xstrdup(cfg->base);
    lc->bind_dn = xstrdup(cfg->bind_dn);
    if ((lc->uris = uri_list(cfg->uri, err)) == NULL ||
        (cfg->password_file[0] &&
         ldapc_read_password(cfg->password_file, &lc->password, err) < 0)) {
        ldapc_close(lc);
        return NULL;
    }
    return lc;
}

static void disconnect(struct ldapc *lc)
{
    if (lc->ld)
        ldap_unbind_ext_s(lc->ld, NULL, NULL);
    lc->ld = NULL;
}

void ldapc_close(struct ldapc *lc)
{
    if (lc == NULL)
        return;
    disconnect(lc);
    free(lc->uris);
    free(lc->base);
    free(lc->bind_dn);
    if (lc->password) {
        explicit_bzero(lc->password, strlen(lc->password));
        free(lc->password);
    }
    free(lc);
}

static struct timeval ms_tv(long long ms)
{
    return (struct timeval){(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
}

static int set_options(struct ldapc *lc, struct str *err)
{
    int version = LDAP_VERSION3;
    struct timeval ctv = ms_tv(lc->connect_ms), qtv = ms_tv(lc->query_ms);

    if (ldap_set_option(lc->ld, LDAP_OPT_PROTOCOL_VERSION, &version) ||
        ldap_set_option(lc->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) ||
        ldap_set_option(lc->ld, LDAP_OPT_NETWORK_TIMEOUT, &ctv) ||
        ldap_set_option(lc->ld, LDAP_OPT_TIMEOUT, &qtv) ||
        ldap_set_option(lc->ld, LDAP_OPT_RESTART, LDAP_OPT_ON)) {
        str_appendf(err, "ldap: cannot set connection options");
        return -1;
    }
    return 0;
}

static int connect_bind(struct ldapc *lc, struct str *err)
{
    struct berval cred = {0, NULL};
    int rc;

    if (lc->ld)
        return 0;
    if (clock_ms() < lc->down_until) {
        str_appendf(err, "ldap: no server reachable (retrying later)");
        return LK_TEMP;
    }
    if ((rc = ldap_initialize(&lc->ld, lc->uris)) != LDAP_SUCCESS) {
        str_appendf(err, "ldap: %s: %s", lc->uris, ldap_err2string(rc));
        lc->ld = NULL;
        return LK_TEMP;
    }
    if (set_options(lc, err) < 0)
        goto fail;
    if (lc->password) {
        cred.bv_val = lc->password;
        cred.bv_len = strlen(lc->password);
    }
    rc = ldap_sasl_bind_s(lc->ld, lc->bind_dn[0] ? lc->bind_dn : NULL,
                          LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (rc != LDAP_SUCCESS) {
        str_appendf(err, "ldap: bind%s%s at %s: %s", lc->bind_dn[0] ? " as " : "",
                    lc->bind_dn, lc->uris, ldap_err2string(rc));
        goto fail;
    }
    return 0;
fail:
    metrics_inc(metrics_ldap_errors, METRICS_L("connect"));
    disconnect(lc);
    lc->down_until = clock_ms() + lc->retry_ms;
    return LK_TEMP;
}

int ldapc_ping(struct ldapc *lc, struct str *err)
{
    return connect_bind(lc, err) < 0 ? LK_TEMP : 0;
}

struct search_state {
    struct str value; /* NUL-terminated copy of the current value */
    size_t entries, max_entries;
    ldapc_entry_fn fn;
    void *ctx;
    int stopped;
};

int ldapc_entry_values(void *ldp, void *msg, struct str *value,
                       ldapc_entry_fn fn, void *ctx, struct str *err)
{
    LDAP *ld = ldp;
    LDAPMessage *e = msg;
    BerElement *ber = NULL;
    char *dn = ldap_get_dn(ld, e), *attr;
    int rc = 0;

    if (dn == NULL) {
        str_appendf(err, "ldap: entry without DN");
        return -1;
    }
    if (fn(ctx, dn, NULL, NULL, 0) != 0)
        rc = 1;
    for (attr = ldap_first_attribute(ld, e, &ber); attr != NULL;
         attr = rc == 0 ? ldap_next_attribute(ld, e, ber) : NULL) {
        struct berval **vals = ldap_get_values_len(ld, e, attr);
        for (size_t i = 0; vals && vals[i] && rc == 0; i++) {
            if (vals[i]->bv_len > LDAPC_VALUE_MAX) {
                str_appendf(err, "ldap: value of %s longer than %d bytes", attr,
                            LDAPC_VALUE_MAX);
                rc = -1;
                break;
            }
            str_set(value, vals[i]->bv_val, vals[i]->bv_len);
            if (fn(ctx, dn, attr, str_cstr(value), value->len) != 0)
                rc = 1;
        }
        ldap_value_free_len(vals);
        ldap_memfree(attr);
    }
    if (ber)
        ber_free(ber, 0);
    ldap_memfree(dn);
    return rc;
}

/* deliver_entry - hand one entry to the callback; 0, 1 stop, -1 error. */
static int deliver_entry(LDAP *ld, LDAPMessage *e, struct search_state *st,
                         struct str *err)
{
    return ldapc_entry_values(ld, e, &st->value, st->fn, st->ctx, err);
}

void *ldapc_handle(struct ldapc *lc, struct str *err)
{
    return connect_bind(lc, err) < 0 ? NULL : lc->ld;
}

void ldapc_reset(struct ldapc *lc)
{
    disconnect(lc);
}

/* search_once - one attempt; LK_FOUND, LK_NOTFOUND, LK_TEMP, or
   SEARCH_RETRY: the connection is dead, retry. */
static int search_once(struct ldapc *lc, const char *base, int scope,
                       const char *filter, const char *const *attrs,
                       struct search_state *st, struct str *err)
{
    static const int scopes[] = {LDAP_SCOPE_BASE, LDAP_SCOPE_ONELEVEL,
                                 LDAP_SCOPE_SUBTREE};
    struct timeval tv = ms_tv(lc->query_ms);
    char *noattrs[] = {(char *)LDAP_NO_ATTRS, NULL};
    LDAPMessage *res = NULL, *e;
    int rc, limit = st->max_entries + 1 > 0x7fffffff
                        ? 0
                        : (int)st->max_entries + 1;

    rc = ldap_search_ext_s(lc->ld, base, scopes[scope], filter,
                           attrs ? (char **)attrs : noattrs, 0, NULL, NULL,
                           &tv, limit, &res);
    if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
        rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY) {
        metrics_inc(metrics_ldap_failovers, NULL);
        if (res)
            ldap_msgfree(res);
        str_appendf(err, "ldap: search %s: %s", filter, ldap_err2string(rc));
        return SEARCH_RETRY;
    }
    if (rc == LDAP_NO_SUCH_OBJECT) {
        if (res)
            ldap_msgfree(res);
        return LK_NOTFOUND;
    }
    if (rc != LDAP_SUCCESS) {
        metrics_inc(metrics_ldap_errors, METRICS_L("search"));
        str_appendf(err, "ldap: search %s: %s%s", filter, ldap_err2string(rc),
                    rc == LDAP_SIZELIMIT_EXCEEDED ? " (over the entry limit)"
                                                  : "");
        if (res)
            ldap_msgfree(res);
        return LK_TEMP;
    }
    for (e = ldap_first_entry(lc->ld, res); e && !st->stopped;
         e = ldap_next_entry(lc->ld, e)) {
        if (++st->entries > st->max_entries) {
            str_appendf(err, "ldap: search %s: more than %zu entries", filter,
                        st->max_entries);
            ldap_msgfree(res);
            return LK_TEMP;
        }
        rc = deliver_entry(lc->ld, e, st, err);
        if (rc < 0) {
            ldap_msgfree(res);
            return LK_TEMP;
        }
        if (rc > 0)
            st->stopped = 1;
    }
    ldap_msgfree(res);
    return st->entries ? LK_FOUND : LK_NOTFOUND;
}

int ldapc_search(struct ldapc *lc, const char *base, int scope,
                 const char *filter, const char *const *attrs,
                 size_t max_entries, ldapc_entry_fn fn, void *ctx,
                 struct str *err)
{
    struct search_state st = {STR_INIT, 0, max_entries, fn, ctx, 0};
    size_t errlen0 = err->len;
    int rc, had_conn;

    if (scope < LDAPC_SCOPE_BASE || scope > LDAPC_SCOPE_SUB || max_entries == 0) {
        str_appendf(err, "ldap: bad search arguments");
        return LK_TEMP;
    }
    if (base == NULL || base[0] == '\0')
        base = lc->base;
    for (int attempt = 0; attempt < 2; attempt++) {
        had_conn = lc->ld != NULL;
        if (connect_bind(lc, err) < 0)
            return LK_TEMP;
        rc = search_once(lc, base, scope, filter, attrs, &st, err);
        if (rc != SEARCH_RETRY) {
            str_free(&st.value);
            return rc;
        }
        disconnect(lc);
        if (!had_conn || st.entries > 0) {
            lc->down_until = clock_ms() + lc->retry_ms;
            str_free(&st.value);
            return LK_TEMP;
        }
        str_truncate(err, errlen0); /* a stale connection: one more try */
    }
    str_free(&st.value);
    return LK_TEMP;
}
