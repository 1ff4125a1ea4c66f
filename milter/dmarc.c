/*
 * dmarc - DMARC (RFC 7489) for inbound mail in postern-milter: policy
 * discovery, identifier alignment, the disposition, the dmarc= entry of
 * the Authentication-Results header, and the writer of dmarc_results.
 *
 * Inputs (callbacks.c, dmarc_eval): the RFC5322.From domain(s), the SPF
 * result of MAIL FROM (or of the HELO name for <>: the identity SPF
 * checked, RFC 7489 4.2) from spf.c, every DKIM signature's d= and result
 * from verify.c, the client address and host name, the recipient domains'
 * actions.
 *
 * Discovery (RFC 7489 6.6.3): TXT _dmarc.FROM; no DMARC record (NXDOMAIN,
 * no TXT, no record starting with v=DMARC1) -> TXT _dmarc.ORG, ORG the
 * organizational domain of FROM (the Public Suffix List, libpsl over
 * [milter] dmarc_psl_file); then sp= applies when present.  More than one
 * v=DMARC1 record at a name ends discovery (dmarc=none).  A record
 * libopendmarc cannot parse (no p=, a bad value) is dmarc=permerror.  DNS
 * trouble (timeout, SERVFAIL) is dmarc=temperror: never a rejection.
 * Lookups use glibc's stub resolver (/etc/resolv.conf, one state per
 * thread) with the timeout bounded to [milter] dmarc_dns_timeout per try
 * and at most two tries per server.
 *
 * Alignment (RFC 7489 3.1): strict = the same domain, relaxed = the same
 * organizational domain.  pass = an aligned SPF pass or an aligned DKIM
 * pass.
 *
 * Disposition (dmarc_decide, pure): fail under p/sp=none, or a message not
 * sampled in by pct= (reason sampled_out: the next lower policy applies,
 * RFC 7489 6.6.4), or a client in dmarc_trusted_forwarders /
 * dmarc_mailing_lists (reason trusted_forwarder / mailing_list) -> none;
 * then the action ([milter] dmarc_action, domains.dmarc_action, the most
 * lenient of the recipient domains'): record -> none, quarantine ->
 * reject becomes quarantine (reason local_policy).
 *
 * Several From domains (a multi-author From, several From fields): each
 * distinct domain is evaluated (up to DMARC_FROM_MAX; more is permerror
 * without action) and gets its own dmarc= entry and row; the strictest
 * disposition applies, so a second From cannot hide a failing one.
 *
 * Results (dmarc_results, sql/migrations/0008): messages with a policy
 * (pass or fail) are queued in memory, summed per (UTC day, row_hash =
 * SHA-256 of the tuple), and written by one background thread every
 * second with INSERT ... ON DUPLICATE KEY UPDATE messages = messages + N,
 * over a database handle borrowed from the milter's pool (pool.c) for the
 * flush.
 * With the database away the tuples wait, up to [milter] dmarc_queue_max;
 * new tuples beyond are dropped and counted (one log line per flush
 * period, postern_milter_dmarc_results_dropped_total).  Report data, never
 * mail: the message is never delayed for it.
 *
 * Diagnostics: the dmarc= words go into the message's inbound log line
 * (callbacks.c); the writer logs database trouble once per outage.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libpsl.h>
#include <netdb.h>
#include <openssl/sha.h>
#include <opendmarc/dmarc.h>

#include "cidr.h"
#include "clock.h"
#include "hash.h"
#include "log.h"
#include "mem.h"
#include "milter.h"

#define DMARC_TXT_MAX 4096     /* bytes of one TXT record kept */
#define DMARC_RECORDS_MAX 8    /* TXT records looked at per name */
#define DMARC_ANSWER_MAX 8192  /* DNS reply buffer */

static const char *const result_word[] = {"none", "pass", "fail",
                                          "temperror", "permerror"};
static const char *const policy_word[] = {"none", "quarantine", "reject"};
static const char *const reason_word[] = {NULL, "sampled_out",
                                          "trusted_forwarder",
                                          "mailing_list", "local_policy"};

/* --- the pure decision core ------------------------------------------- */

int dmarc_decide(int result, int policy, int pct, int draw, int exempt,
                 int action, int *reason)
{
    int disp = policy;

    *reason = DMARC_WHY_NONE;
    if (result != DMARC_RES_FAIL || policy <= DMARC_POL_NONE)
        return DMARC_POL_NONE;
    if (draw >= pct) { /* not sampled in: the next lower policy */
        disp = policy - 1;
        *reason = DMARC_WHY_SAMPLED_OUT;
    }
    if (disp > DMARC_POL_NONE && exempt != DMARC_WHY_NONE) {
        *reason = exempt;
        return DMARC_POL_NONE;
    }
    if (disp > DMARC_POL_NONE && action == DMARC_ACT_RECORD) {
        *reason = DMARC_WHY_LOCAL_POLICY;
        return DMARC_POL_NONE;
    }
    if (disp == DMARC_POL_REJECT && action == DMARC_ACT_QUARANTINE) {
        *reason = DMARC_WHY_LOCAL_POLICY;
        return DMARC_POL_QUARANTINE;
    }
    return disp;
}

int dmarc_lenient(int a, int b)
{
    return a > b ? a : b;
}

/* org_last2 - the last two labels (tests without a suffix list) */
static const char *org_last2(const char *d, char *buf, size_t size)
{
    const char *p = d + strlen(d);
    int dots = 0;

    (void)buf;
    (void)size;
    while (p > d) {
        if (p[-1] == '.' && ++dots == 2)
            break;
        p--;
    }
    return p;
}

int dmarc_aligned(const char *a, const char *b, int strict,
                  dmarc_org_fn orgdomain)
{
    char ba[256], bb[256];

    if (a == NULL || b == NULL || !*a || !*b)
        return 0;
    if (!strcasecmp(a, b))
        return 1;
    if (strict)
        return 0;
    if (orgdomain == NULL)
        orgdomain = org_last2;
    return !strcasecmp(orgdomain(a, ba, sizeof(ba)),
                       orgdomain(b, bb, sizeof(bb)));
}

/* host_in - is host name h equal to, or below a ".suffix" of, the list? */
static int host_in(const char *list, const char *h)
{
    const char *cur = list;
    char item[256];
    size_t hl = h ? strlen(h) : 0;

    if (hl == 0 || h[0] == '[')
        return 0; /* no verified host name: "[IP]" */
    while (cfg_list_next(&cur, item, sizeof(item)) > 0) {
        size_t il = strlen(item);
        if (item[0] != '.')
            continue;
        if ((hl > il && !strcasecmp(h + hl - il, item)) ||
            (hl == il - 1 && !strcasecmp(h, item + 1)))
            return 1;
    }
    return 0;
}

int dmarc_exempt(const struct milter_config *cfg, const char *ip,
                 const char *host)
{
    if (ip && *ip && cidr_list_contains(cfg->dmarc_trusted_forwarders, ip))
        return DMARC_WHY_TRUSTED_FORWARDER;
    if ((ip && *ip && cidr_list_contains(cfg->dmarc_mailing_lists, ip)) ||
        host_in(cfg->dmarc_mailing_lists, host))
        return DMARC_WHY_MAILING_LIST;
    return DMARC_WHY_NONE;
}

static int policy_of(int c)
{
    switch (c) {
    case DMARC_RECORD_P_NONE: return DMARC_POL_NONE;
    case DMARC_RECORD_P_QUARANTINE: return DMARC_POL_QUARANTINE;
    case DMARC_RECORD_P_REJECT: return DMARC_POL_REJECT;
    default: return DMARC_POL_UNSET;
    }
}

/* tag_value - the value of tag in a DMARC record (trimmed) into out;
   1 found, 0 not */
static int tag_value(const char *rec, const char *tag, char *out, size_t size)
{
    size_t tl = strlen(tag);

    for (const char *p = rec; p && *p;) {
        const char *end = strchr(p, ';'), *eq;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        eq = memchr(p, '=', len);
        if (eq) {
            size_t nl = (size_t)(eq - p);
            while (nl && isspace((unsigned char)p[nl - 1]))
                nl--;
            if (nl == tl && !strncasecmp(p, tag, tl)) {
                const char *v = eq + 1, *ve = p + len;
                while (v < ve && isspace((unsigned char)*v))
                    v++;
                while (ve > v && isspace((unsigned char)ve[-1]))
                    ve--;
                if ((size_t)(ve - v) >= size)
                    return 0;
                memcpy(out, v, (size_t)(ve - v));
                out[ve - v] = '\0';
                return 1;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int dmarc_parse_record(const char *txt, const char *domain,
                       struct dmarc_rec *rec)
{
    DMARC_POLICY_T *pctx = opendmarc_policy_connect_init(
        (u_char *)"0.0.0.0", 0);
    int p = 0, sp = 0, pct = 100, adkim = 0, aspf = 0, rc = -1;
    char tmp[64];

    memset(rec, 0, sizeof(*rec));
    if (pctx == NULL)
        return -1;
    if (strlen(txt) < DMARC_TXT_MAX &&
        opendmarc_policy_store_dmarc(pctx, (u_char *)txt, (u_char *)domain,
                                     NULL) == DMARC_PARSE_OKAY &&
        opendmarc_policy_fetch_p(pctx, &p) == DMARC_PARSE_OKAY &&
        opendmarc_policy_fetch_sp(pctx, &sp) == DMARC_PARSE_OKAY &&
        opendmarc_policy_fetch_pct(pctx, &pct) == DMARC_PARSE_OKAY &&
        opendmarc_policy_fetch_adkim(pctx, &adkim) == DMARC_PARSE_OKAY &&
        opendmarc_policy_fetch_aspf(pctx, &aspf) == DMARC_PARSE_OKAY &&
        (rec->p = policy_of(p)) != DMARC_POL_UNSET) {
        /* sp: libopendmarc may copy p into it; only a published sp= */
        rec->sp = tag_value(txt, "sp", tmp, sizeof(tmp)) ? policy_of(sp)
                                                         : DMARC_POL_UNSET;
        rec->pct = pct < 0 || pct > 100 ? 100 : pct;
        rec->adkim = adkim == DMARC_RECORD_A_STRICT ? 's' : 'r';
        rec->aspf = aspf == DMARC_RECORD_A_STRICT ? 's' : 'r';
        if (!tag_value(txt, "fo", rec->fo, sizeof(rec->fo)))
            rec->fo[0] = '\0';
        if (!tag_value(txt, "rua", rec->rua, sizeof(rec->rua)))
            rec->rua[0] = '\0';
        rc = 0;
    }
    opendmarc_policy_connect_shutdown(pctx);
    return rc;
}

/* --- global state: the suffix list, the resolver per thread --------- */

static psl_ctx_t *dmarc_psl;           /* read-only after init */
static long long dmarc_timeout_ms = 2000;

/* org_psl - the organizational domain of d (lower-cased into buf): one
   label below its public suffix; d itself when it is a public suffix */
static const char *org_psl(const char *d, char *buf, size_t size)
{
    const char *r;

    if (str_copy_bounded(buf, size, d, strlen(d)) < 0)
        return d;
    str_lower(buf, strlen(buf));
    r = dmarc_psl ? psl_registrable_domain(dmarc_psl, buf) : NULL;
    return r ? r : org_last2(buf, NULL, 0);
}

static pthread_key_t res_key;
static pthread_once_t res_once = PTHREAD_ONCE_INIT;

static void res_free(void *p)
{
    res_nclose(p);
    free(p);
}

static void res_key_init(void)
{
    pthread_key_create(&res_key, res_free);
}

static res_state res_get(void)
{
    res_state st;
    int secs = (int)((dmarc_timeout_ms + 999) / 1000);

    pthread_once(&res_once, res_key_init);
    if ((st = pthread_getspecific(res_key)) != NULL)
        return st;
    st = xcalloc(1, sizeof(*st));
    if (res_ninit(st) != 0) {
        free(st);
        return NULL;
    }
    if (st->retrans > secs)
        st->retrans = secs;
    if (st->retry > 2)
        st->retry = 2;
    pthread_setspecific(res_key, st);
    return st;
}

/* txt_dmarc - the TXT records at name starting with "v=DMARC1" (at most
   DMARC_RECORDS_MAX, each bounded) into out.  LK_FOUND (n >= 1),
   LK_NOTFOUND (NXDOMAIN, no such record), LK_TEMP. */
static int txt_dmarc(const char *name, struct strvec *out)
{
    unsigned char ans[DMARC_ANSWER_MAX];
    res_state st = res_get();
    const unsigned char *p, *end;
    int n, qd, an;

    if (st == NULL)
        return LK_TEMP;
    n = res_nquery(st, name, ns_c_in, ns_t_txt, ans, sizeof(ans));
    if (n < 0)
        return st->res_h_errno == HOST_NOT_FOUND ||
                       st->res_h_errno == NO_DATA
                   ? LK_NOTFOUND : LK_TEMP;
    if (n < HFIXEDSZ)
        return LK_TEMP;
    end = ans + (n > (int)sizeof(ans) ? (int)sizeof(ans) : n);
    qd = ans[4] << 8 | ans[5];
    an = ans[6] << 8 | ans[7];
    p = ans + HFIXEDSZ;
    for (; qd > 0; qd--) {
        int k = dn_skipname(p, end);
        if (k < 0 || p + k + QFIXEDSZ > end)
            return LK_TEMP;
        p += k + QFIXEDSZ;
    }
    for (; an > 0 && out->n < DMARC_RECORDS_MAX; an--) {
        int k = dn_skipname(p, end), type, rdlen;
        struct str txt = STR_INIT;
        if (k < 0 || p + k + RRFIXEDSZ > end)
            return LK_TEMP;
        p += k;
        type = p[0] << 8 | p[1];
        rdlen = p[8] << 8 | p[9];
        p += RRFIXEDSZ;
        if (p + rdlen > end)
            return LK_TEMP;
        for (const unsigned char *q = p; type == ns_t_txt && q < p + rdlen;) {
            size_t l = *q++;
            if (q + l > p + rdlen || txt.len + l >= DMARC_TXT_MAX)
                break;
            str_append(&txt, (const char *)q, l);
            q += l;
        }
        if (type == ns_t_txt && txt.len >= 8 &&
            !strncasecmp(str_cstr(&txt), "v=DMARC1", 8) &&
            (txt.len == 8 || txt.data[8] == ';' ||
             isspace((unsigned char)txt.data[8])) &&
            memchr(txt.data, '\0', txt.len) == NULL)
            strvec_add(out, str_cstr(&txt));
        str_free(&txt);
        p += rdlen;
    }
    return out->n ? LK_FOUND : LK_NOTFOUND;
}

/* --- discovery and evaluation of one From domain ---------------------- */

struct dmarc_one {
    const char *from;
    int result;            /* enum dmarc_result */
    char policy_domain[256];
    struct dmarc_rec rec;
    int applied;           /* p, or sp for a subdomain */
    int spf_aligned, dkim_aligned;
    int disposition, reason;
};

/* lookup_at - one name: 1 a record in *rec, 0 none, -1 temp, -2 perm */
static int lookup_at(const char *domain, struct dmarc_rec *rec)
{
    struct strvec v = STRVEC_INIT;
    struct str name = STR_INIT;
    int rc;

    str_appendf(&name, "_dmarc.%s", domain);
    rc = txt_dmarc(str_cstr(&name), &v);
    str_free(&name);
    if (rc == LK_FOUND && v.n > 1)
        rc = 0; /* several: RFC 7489 6.6.3, DMARC does not apply */
    else if (rc == LK_FOUND)
        rc = dmarc_parse_record(v.v[0], domain, rec) == 0 ? 1 : -2;
    strvec_free(&v);
    return rc;
}

static void discover(struct dmarc_one *o)
{
    char buf[256];
    const char *org;
    int rc = lookup_at(o->from, &o->rec);

    if (rc == 0 && strcasecmp((org = org_psl(o->from, buf, sizeof(buf))),
                              o->from)) {
        rc = lookup_at(org, &o->rec);
        if (rc == 1) {
            snprintf(o->policy_domain, sizeof(o->policy_domain), "%s", org);
            o->applied = o->rec.sp != DMARC_POL_UNSET ? o->rec.sp : o->rec.p;
        }
    } else if (rc == 1) {
        snprintf(o->policy_domain, sizeof(o->policy_domain), "%s", o->from);
        o->applied = o->rec.p;
    }
    o->result = rc == 1 ? DMARC_RES_FAIL /* until aligned */
              : rc == 0 ? DMARC_RES_NONE
              : rc == -1 ? DMARC_RES_TEMPERROR : DMARC_RES_PERMERROR;
}

static void align(struct dmarc_one *o, const struct dmarc_input *in)
{
    const char *spf_dom = *in->mailfrom_domain ? in->mailfrom_domain
                                                : in->helo;

    o->spf_aligned = in->spf && !strcmp(in->spf, "pass") &&
                     dmarc_aligned(spf_dom, o->from, o->rec.aspf == 's',
                                   org_psl);
    for (size_t i = 0; i < in->ndkim && !o->dkim_aligned; i++)
        o->dkim_aligned = !strcmp(in->dkim[i].result, "pass") &&
                          dmarc_aligned(in->dkim[i].domain, o->from,
                                        o->rec.adkim == 's', org_psl);
    if (o->spf_aligned || o->dkim_aligned)
        o->result = DMARC_RES_PASS;
}

/* --- dmarc_results: the queue and its writer ------------------------- */

struct qrow {
    char key[16 + 65];     /* "YYYY-MM-DD " + hex row_hash */
    struct strvec cols;    /* the columns, "" = NULL where nullable */
    long long messages;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct hmap rows;      /* key -> struct qrow */
    long long dropped;     /* since the last log line */
    int stop, running;
    pthread_t thread;
    const struct milter_config *cfg;
    struct mctx *m;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* the order of struct qrow cols */
enum { C_DAY, C_HASH, C_POLDOM, C_FROM, C_MFROM, C_RCPT, C_IP, C_DISP,
       C_DKIMAL, C_SPFAL, C_REASON, C_RCOMMENT, C_SPFDOM, C_SPFSCOPE,
       C_SPFRES, C_DKIMRES, C_P, C_SP, C_PCT, C_ADKIM, C_ASPF, C_FO, C_RUA,
       C_N };

#define SQL_DMARC_INSERT                                                      \
    "INSERT INTO dmarc_results (day, row_hash, policy_domain, header_from, "  \
    "envelope_from, envelope_to, source_ip, disposition, dkim_aligned, "      \
    "spf_aligned, reason, reason_comment, spf_domain, spf_scope, spf_result, "\
    "dkim_results, p, sp, pct, adkim, aspf, fo, rua, messages) VALUES "       \
    "(?, UNHEX(?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, " \
    "?, ?, ?) ON DUPLICATE KEY UPDATE messages = messages + VALUES(messages)," \
    " p = VALUES(p), sp = VALUES(sp), pct = VALUES(pct), adkim = "            \
    "VALUES(adkim), aspf = VALUES(aspf), fo = VALUES(fo), rua = VALUES(rua)"

static void json_str(struct str *s, const char *v)
{
    str_append_char(s, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            str_appendf(s, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            str_appendf(s, "\\u%04x", *p);
        else
            str_append_char(s, (char)*p);
    }
    str_append_char(s, '"');
}

static void qrow_free(void *p)
{
    struct qrow *r = p;

    strvec_free(&r->cols);
    free(r);
}

/* queue_result - one evaluated message into the queue (summed per key) */
static void queue_result(const struct dmarc_one *o,
                         const struct dmarc_input *in)
{
    struct qrow *r = xcalloc(1, sizeof(*r)), *old;
    unsigned char md[SHA256_DIGEST_LENGTH];
    struct str tuple = STR_INIT, js = STR_INIT;
    char day[16], pct[8], hex[65];
    struct tm tm;
    time_t now = time(NULL);
    const char *spf_dom = *in->mailfrom_domain ? in->mailfrom_domain
                                                : in->helo;

    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    snprintf(pct, sizeof(pct), "%d", o->rec.pct);
    str_append_char(&js, '[');
    for (size_t i = 0; i < in->ndkim; i++) {
        str_append_cstr(&js, i ? ",{\"domain\":" : "{\"domain\":");
        json_str(&js, in->dkim[i].domain);
        str_append_cstr(&js, ",\"selector\":");
        json_str(&js, in->dkim[i].selector);
        str_append_cstr(&js, ",\"result\":");
        json_str(&js, in->dkim[i].result);
        str_append_char(&js, '}');
    }
    str_append_char(&js, ']');
    {
        const char *cols[C_N] = {
            day, "", o->policy_domain, o->from, in->mailfrom_domain,
            in->rcpt_domain ? in->rcpt_domain : "", in->client,
            policy_word[o->disposition], o->dkim_aligned ? "pass" : "fail",
            o->spf_aligned ? "pass" : "fail",
            reason_word[o->reason] ? reason_word[o->reason] : "", "",
            in->spf ? spf_dom : "", in->spf ? (*in->mailfrom_domain ? "mfrom"
                                                                     : "helo")
                                            : "",
            in->spf ? in->spf : "", in->ndkim ? str_cstr(&js) : "",
            policy_word[o->rec.p],
            o->rec.sp == DMARC_POL_UNSET ? "" : policy_word[o->rec.sp], pct,
            o->rec.adkim == 's' ? "s" : "r", o->rec.aspf == 's' ? "s" : "r",
            o->rec.fo, o->rec.rua};
        /* the tuple: every column but the counters and the policy */
        for (int i = C_POLDOM; i <= C_DKIMRES; i++) {
            str_append_cstr(&tuple, cols[i]);
            str_append_char(&tuple, '\x1f');
        }
        SHA256((const unsigned char *)tuple.data, tuple.len, md);
        for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        cols[C_HASH] = hex;
        for (int i = 0; i < C_N; i++)
            strvec_add(&r->cols, cols[i]);
    }
    snprintf(r->key, sizeof(r->key), "%s %s", day, hex);
    r->messages = 1;
    str_free(&tuple);
    str_free(&js);

    pthread_mutex_lock(&q.lock);
    if ((old = hmap_get(&q.rows, r->key)) != NULL) {
        old->messages++;
        qrow_free(r);
    } else if ((long long)hmap_count(&q.rows) >= q.cfg->dmarc_queue_max) {
        q.dropped++;
        qrow_free(r);
    } else {
        hmap_put(&q.rows, r->key, r);
    }
    pthread_mutex_unlock(&q.lock);
}

static int write_row(struct db *db, const struct qrow *r, struct str *err)
{
    static const int nullable[C_N] = {[C_MFROM] = 1, [C_RCPT] = 1,
        [C_REASON] = 1, [C_RCOMMENT] = 1, [C_SPFDOM] = 1, [C_SPFSCOPE] = 1,
        [C_SPFRES] = 1, [C_DKIMRES] = 1, [C_SP] = 1, [C_FO] = 1, [C_RUA] = 1};
    struct db_param pr[C_N + 1];

    for (int i = 0; i < C_N; i++)
        pr[i] = nullable[i] && r->cols.v[i][0] == '\0'
                    ? DBP_NUL : DBP_S(r->cols.v[i]);
    pr[C_N] = DBP_I(r->messages);
    return db_exec(db, SQL_DMARC_INSERT, pr, C_N + 1, NULL, err);
}

/* flush - write every queued tuple; on trouble the rest go back */
static void flush(struct db *db, int *down)
{
    struct hmap batch;
    size_t it = 0;
    const char *k;
    void *v;
    struct str err = STR_INIT;
    int failed = 0;
    long long dropped;

    pthread_mutex_lock(&q.lock);
    batch = q.rows;
    hmap_init(&q.rows, 64, HMAP_COPYKEYS);
    dropped = q.dropped;
    q.dropped = 0;
    pthread_mutex_unlock(&q.lock);
    if (dropped) {
        metrics_add(metrics_series(milter_metrics.dmarc_dropped, NULL),
                    dropped);
        log_warn("DMARC: %lld result(s) dropped: more than dmarc_queue_max "
                 "(%lld) tuples waiting for the database",
                 dropped, q.cfg->dmarc_queue_max);
    }
    while (hmap_next(&batch, &it, &k, &v)) {
        struct qrow *r = v, *old;
        if (!failed && write_row(db, r, &err) < 0) {
            failed = 1;
            if (!*down)
                log_warn("DMARC: cannot write dmarc_results: %s (kept in "
                         "memory, retried every second)", str_cstr(&err));
            *down = 1;
        }
        if (!failed) {
            qrow_free(r);
            continue;
        }
        pthread_mutex_lock(&q.lock); /* back into the queue */
        if ((old = hmap_get(&q.rows, r->key)) != NULL) {
            old->messages += r->messages;
            qrow_free(r);
        } else {
            hmap_put(&q.rows, r->key, r);
        }
        pthread_mutex_unlock(&q.lock);
    }
    if (!failed && *down) {
        log_info("DMARC: dmarc_results written again");
        *down = 0;
    }
    hmap_free(&batch, NULL);
    str_free(&err);
}

static void *writer(void *arg)
{
    int down = 0, stop;

    (void)arg;
    db_thread_init();
    do {
        struct str err = STR_INIT;
        struct mres *r = NULL;
        size_t waiting;
        struct timespec ts;
        pthread_mutex_lock(&q.lock);
        if (!q.stop) {
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&q.wake, &q.lock, &ts);
        }
        stop = q.stop;
        waiting = hmap_count(&q.rows) + (q.dropped > 0);
        pthread_mutex_unlock(&q.lock);
        if (waiting && (r = milter_pool_get(q.m->pool, &err)) != NULL) {
            flush(r->db, &down);
            milter_pool_put(q.m->pool, r);
        }
        str_free(&err);
    } while (!stop);
    db_thread_end();
    return NULL;
}

int dmarc_global_init(struct mctx *m, struct str *err)
{
    const struct milter_config *cfg = m->cfg;

    if (!cfg->dmarc)
        return 0;
    dmarc_timeout_ms = cfg->dmarc_dns_timeout;
    if ((dmarc_psl = psl_load_file(cfg->dmarc_psl_file)) == NULL) {
        str_appendf(err, "[milter] dmarc_psl_file: cannot load the Public "
                    "Suffix List from %s (Debian package publicsuffix)",
                    cfg->dmarc_psl_file);
        return -1;
    }
    q.cfg = cfg;
    q.m = m;
    hmap_init(&q.rows, 64, HMAP_COPYKEYS);
    if (cfg->dmarc_record) {
        if (pthread_create(&q.thread, NULL, writer, NULL) != 0) {
            str_appendf(err, "DMARC: cannot start the results writer");
            return -1;
        }
        q.running = 1;
    }
    return 0;
}

void dmarc_global_end(void)
{
    if (q.running) {
        pthread_mutex_lock(&q.lock);
        q.stop = 1;
        pthread_cond_signal(&q.wake);
        pthread_mutex_unlock(&q.lock);
        pthread_join(q.thread, NULL);
        q.running = 0;
    }
    if (q.cfg && hmap_count(&q.rows))
        log_warn("DMARC: %zu result tuple(s) not written to dmarc_results "
                 "(database away at shutdown)", hmap_count(&q.rows));
    if (q.cfg)
        hmap_free(&q.rows, qrow_free);
    q.cfg = NULL;
    if (dmarc_psl)
        psl_free(dmarc_psl);
    dmarc_psl = NULL;
}

/* --- one message ---------------------------------------------------------- */

static void append_one(struct str *ar, const struct dmarc_one *o)
{
    str_appendf(ar, ";\n\tdmarc=%s", result_word[o->result]);
    if (o->result == DMARC_RES_PASS || o->result == DMARC_RES_FAIL) {
        str_appendf(ar, " (p=%s", policy_word[o->rec.p]);
        if (o->rec.sp != DMARC_POL_UNSET)
            str_appendf(ar, " sp=%s", policy_word[o->rec.sp]);
        str_appendf(ar, " dis=%s", policy_word[o->disposition]);
        if (reason_word[o->reason])
            str_appendf(ar, " reason=%s", reason_word[o->reason]);
        str_append_char(ar, ')');
    }
    str_append_cstr(ar, " header.from=");
    ar_append_value(ar, o->from);
    if (o->result == DMARC_RES_PASS || o->result == DMARC_RES_FAIL)
        str_appendf(ar, " policy.dmarc=%s", policy_word[o->applied]);
}

void dmarc_eval(struct mctx *m, const struct dmarc_input *in, struct str *ar,
                struct strvec *logs, struct dmarc_outcome *out)
{
    const struct milter_config *cfg = m->cfg;
    int exempt = dmarc_exempt(cfg, in->client, in->host);

    out->disposition = DMARC_POL_NONE;
    out->reject_domain[0] = '\0';
    if (in->from_bad || in->nfrom == 0) {
        size_t before = ar->len;
        str_append_cstr(ar, ";\n\tdmarc=permerror reason=");
        ar_append_value(ar, in->from_bad ? "no usable From address"
                                         : "no From address");
        strvec_add(logs, ar->data + before + 3);
        metrics_inc(milter_metrics.dmarc, METRICS_L("permerror"));
        return;
    }
    for (size_t i = 0; i < in->nfrom; i++) {
        struct dmarc_one o = {.from = in->from_domains[i]};
        size_t before = ar->len;
        discover(&o);
        if (o.result == DMARC_RES_FAIL)
            align(&o, in);
        if (o.result == DMARC_RES_PASS || o.result == DMARC_RES_FAIL)
            o.disposition = dmarc_decide(o.result, o.applied, o.rec.pct,
                                         (int)arc4random_uniform(100), exempt,
                                         in->action, &o.reason);
        append_one(ar, &o);
        strvec_add(logs, ar->data + before + 3);
        metrics_inc(milter_metrics.dmarc, METRICS_L(result_word[o.result]));
        if ((o.result == DMARC_RES_PASS || o.result == DMARC_RES_FAIL) &&
            cfg->dmarc_record)
            queue_result(&o, in);
        if (o.disposition > out->disposition) {
            out->disposition = o.disposition;
            snprintf(out->reject_domain, sizeof(out->reject_domain), "%s",
                     o.from);
        }
    }
}

void dmarc_input_free(struct dmarc_input *in)
{
    for (size_t i = 0; i < in->ndkim; i++) {
        free(in->dkim[i].domain);
        free(in->dkim[i].selector);
    }
    in->ndkim = 0;
}
