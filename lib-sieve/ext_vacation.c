/*
 * ext_vacation - "vacation" (RFC 5230) and "vacation-seconds" (RFC 6131):
 *
 *   vacation [:days number | :seconds number] [:subject string]
 *            [:from string] [:addresses string-list] [:mime]
 *            [:handle string] [:fcc string [FCC-OPTS]] <reason: string>
 *
 * The command only records the action (SIEVE_ACT_VACATION with a struct
 * sieve_vacation); it does not cancel the implicit keep.  Whether a reply
 * is sent is decided by the caller: the RFC 3834 rules on the message
 * (vacation.c, sieve_vacation_check), then the per-sender period kept in
 * the database (lda/sieve_state.c).  The period is :days * 86400 or :seconds;
 * the configured bounds are applied by sieve_vacation_period().
 *
 * Without :handle the handle is derived from the reason, :subject, :from
 * and :mime (RFC 5230 4.2), so a changed text starts a new period.
 *
 * :fcc (RFC 8580, ext_fcc.c): the caller files the reply it sent.
 *
 * Errors: :days and :seconds together, a literal :from that is not an
 * address (compile time); a second vacation action in one result, and
 * vacation together with reject/ereject (run time, RFC 5429 2.1.1).
 */
#include <string.h>

#include "sieve-int.h"

#define VACATION_SECONDS_MAX (10LL * 365 * 86400)

/* from_ok - "addr@dom" or "Name <addr@dom>" without line breaks */
static int from_ok(const char *s, size_t len)
{
    const char *lt = memchr(s, '<', len), *at;

    if (len == 0 || memchr(s, '\n', len) || memchr(s, '\r', len))
        return 0;
    if (lt) {
        const char *gt = memchr(lt, '>', len - (size_t)(lt - s));
        if (gt == NULL)
            return 0;
        at = memchr(lt, '@', (size_t)(gt - lt));
        return at && at > lt + 1 && at < gt - 1;
    }
    at = memchr(s, '@', len);
    return at && at > s && at < s + len - 1 && memchr(s, ' ', len) == NULL;
}

static int vacation_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_tagval *from = sv_tag(n, "from");

    if (sv_fcc_validate(v, n) < 0)
        return -1;
    if (sv_tag(n, "days") && sv_tag(n, "seconds")) {
        sv_verror(v, n->line, "vacation: :days and :seconds are mutually "
                  "exclusive");
        return -1;
    }
    if (from && sv_literal(&from->param->list.v[0]) &&
        !from_ok(from->param->list.v[0].s, from->param->list.v[0].len)) {
        sv_verror(v, from->param->line, "vacation: invalid :from address "
                  "\"%.100s\"", from->param->list.v[0].s);
        return -1;
    }
    return 0;
}

static const char *tag_str(struct sv_run *r, const struct sv_node *n,
                           const char *name)
{
    const struct sv_tagval *t = sv_tag(n, name);

    return t ? sv_cstr(r, &t->param->list.v[0]) : NULL;
}

static long long period_of(const struct sv_node *n)
{
    const struct sv_tagval *t;
    unsigned long long v;

    if ((t = sv_tag(n, "seconds")) != NULL)
        v = t->param->num;
    else if ((t = sv_tag(n, "days")) != NULL)
        v = t->param->num > VACATION_SECONDS_MAX / 86400
                ? VACATION_SECONDS_MAX : t->param->num * 86400;
    else
        return -1;
    return v > VACATION_SECONDS_MAX ? VACATION_SECONDS_MAX : (long long)v;
}

/* the implicit handle: what makes two responses different */
static const char *implicit_handle(struct sv_run *r,
                                   const struct sieve_vacation *v)
{
    struct str h = STR_INIT;
    const char *out;

    str_appendf(&h, "reason:%s\nsubject:%s\nfrom:%s\nmime:%d", v->reason,
                v->subject ? v->subject : "", v->from ? v->from : "",
                v->mime);
    out = arena_strndup(r->a, str_cstr(&h), h.len);
    str_free(&h);
    return out;
}

static int conflicts(struct sv_run *r, struct sv_node *n)
{
    for (size_t i = 0; i < r->res->n; i++) {
        const struct sieve_action *o = &r->res->acts[i];
        if (o->kind == SIEVE_ACT_VACATION)
            return sv_rerror(r, n, "duplicate vacation action (the first "
                             "at %s:%d)", o->script, o->line);
        if (o->kind == SIEVE_ACT_REJECT || o->kind == SIEVE_ACT_EREJECT)
            return sv_rerror(r, n, "vacation action conflicts with the "
                             "earlier %s action (%s:%d)",
                             sieve_action_name(o->kind), o->script, o->line);
    }
    return 0;
}

static int vacation_exec(struct sv_run *r, struct sv_node *n)
{
    struct arena *ra = &r->res->arena;
    const struct sv_tagval *addrs = sv_tag(n, "addresses");
    struct sv_str reason = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    struct sieve_vacation *v;
    struct sieve_action *a;
    const char *s;

    if (conflicts(r, n) < 0)
        return -1;
    v = arena_alloc(ra, sizeof(*v));
    memset(v, 0, sizeof(*v));
    v->reason = arena_strndup(ra, reason.s, reason.len);
    if ((s = tag_str(r, n, "subject")) != NULL)
        v->subject = arena_strdup(ra, s);
    if ((s = tag_str(r, n, "from")) != NULL && from_ok(s, strlen(s)))
        v->from = arena_strdup(ra, s);
    v->mime = sv_tag(n, "mime") != NULL;
    v->period = period_of(n);
    if (addrs) {
        struct sv_strlist l;
        sv_eval_list(r, &addrs->param->list, &l);
        v->addresses = arena_alloc(ra, (l.n + 1) * sizeof(char *));
        for (size_t i = 0; i < l.n; i++)
            v->addresses[i] = arena_strndup(ra, l.v[i].s, l.v[i].len);
        v->addresses[l.n] = NULL;
    }
    s = tag_str(r, n, "handle");
    v->handle = arena_strdup(ra, s ? s : implicit_handle(r, v));
    v->effective = -1;
    if (sv_fcc_eval(r, n, &v->fcc) < 0)
        return -1;
    if ((a = sv_result_add(r, n, SIEVE_ACT_VACATION, "", 0)) == NULL)
        return -1;
    a->vac = v;
    return 0;
}

static const struct sv_cmddef cmds[] = {
    {"vacation", 0, "S", 0, 0, 0, vacation_validate, vacation_exec},
};

static const struct sv_tagdef tags[] = {
    {"days", SV_G_NONE, 0, 'N', " vacation "},
    {"subject", SV_G_NONE, 0, 'S', " vacation "},
    {"from", SV_G_NONE, 0, 'S', " vacation "},
    {"addresses", SV_G_NONE, 0, 'L', " vacation "},
    {"mime", SV_G_NONE, 0, 0, " vacation "},
    {"handle", SV_G_NONE, 0, 'S', " vacation "},
};

static const struct sv_tagdef seconds_tags[] = {
    {"seconds", SV_G_NONE, 0, 'N', " vacation "},
};

const struct sv_ext sv_ext_vacation = {
    "vacation", cmds, 1, tags, sizeof(tags) / sizeof(tags[0]), 0, 0};
/* vacation-seconds adds :seconds; it implies "vacation" (RFC 6131 2) */
const struct sv_ext sv_ext_vacation_seconds = {
    "vacation-seconds", NULL, 0, seconds_tags, 1, 0, 0};
