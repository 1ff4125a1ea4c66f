/*
 * ldapsync - an RFC 4533 refreshAndPersist session (see ldapsync.h).
 *
 * libldap's ldap_sync_poll waits in whole seconds; we drain what has
 * arrived with a zero timeout instead, and wait on the connection's socket
 * with poll(2) for poll_ms in between, so idle() runs on time.
 */
#include <errno.h>
#include <ldap.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "ldapsync.h"
#include "lookup.h"

struct session {
    const struct ldapsync_ops *ops;
    void *ctx;
    struct str value;
    struct str *err;
    int stop;                    /* an op returned non-zero: 1 or -1 */
    int ended;                   /* the server ended the search */
    unsigned long events;        /* callbacks run, to see progress */
};

int ldapsync_uuid(const void *bytes, size_t len, char *out)
{
    const unsigned char *b = bytes;
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (len != 16)
        return -1;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
    return 0;
}

static struct session *of(ldap_sync_t *ls)
{
    return ls->ls_private;
}

/* note - record an op's answer; non-zero stops the session */
static int note(struct session *s, int rc)
{
    s->events++;
    if (rc != 0 && s->stop == 0)
        s->stop = rc < 0 ? -1 : 1;
    return rc != 0;
}

struct entry_fwd {
    struct session *s;
    const char *uuid;
};

static int fwd_value(void *ctx, const char *dn, const char *attr,
                     const char *value, size_t len)
{
    struct entry_fwd *f = ctx;

    return f->s->ops->entry(f->s->ctx, f->uuid, dn, attr, value, len);
}

static int on_entry(ldap_sync_t *ls, LDAPMessage *msg, struct berval *uuid,
                    ldap_sync_refresh_t phase)
{
    struct session *s = of(ls);
    char id[LDAPSYNC_UUID_LEN + 1];

    if (s->stop)
        return 0;
    if (uuid == NULL || ldapsync_uuid(uuid->bv_val, uuid->bv_len, id) < 0) {
        str_appendf(s->err, "ldap sync: an entry without a valid entryUUID");
        return note(s, -1);
    }
    switch (phase) {
    case LDAP_SYNC_CAPI_ADD:
    case LDAP_SYNC_CAPI_MODIFY: {
        struct entry_fwd f = {s, id};
        int rc = ldapc_entry_values(ls->ls_ld, msg, &s->value, fwd_value, &f,
                                    s->err);
        if (rc != 0)
            return note(s, rc);
        return note(s, s->ops->entry_end(s->ctx));
    }
    case LDAP_SYNC_CAPI_DELETE:
        return note(s, s->ops->deleted(s->ctx, id));
    case LDAP_SYNC_CAPI_PRESENT:
        return note(s, s->ops->present ? s->ops->present(s->ctx, id) : 0);
    default:
        return note(s, 0);
    }
}

static int on_reference(ldap_sync_t *ls, LDAPMessage *msg)
{
    (void)msg;
    note(of(ls), 0);
    return 0; /* referrals are not followed (one directory) */
}

static int on_intermediate(ldap_sync_t *ls, LDAPMessage *msg,
                           BerVarray uuids, ldap_sync_refresh_t phase)
{
    struct session *s = of(ls);
    char id[LDAPSYNC_UUID_LEN + 1];

    (void)msg;
    if (s->stop)
        return 0;
    if (phase == LDAP_SYNC_CAPI_DONE)
        return note(s, s->ops->refresh_done(s->ctx));
    if (uuids == NULL)
        return note(s, 0);
    for (size_t i = 0; uuids[i].bv_val != NULL && !s->stop; i++) {
        if (ldapsync_uuid(uuids[i].bv_val, uuids[i].bv_len, id) < 0)
            continue;
        if (phase == LDAP_SYNC_CAPI_DELETES_IDSET)
            note(s, s->ops->deleted(s->ctx, id));
        else if (phase == LDAP_SYNC_CAPI_PRESENTS_IDSET && s->ops->present)
            note(s, s->ops->present(s->ctx, id));
    }
    return 0;
}

static int on_result(ldap_sync_t *ls, LDAPMessage *msg, int refresh_deletes)
{
    struct session *s = of(ls);
    int code = LDAP_OTHER;
    char *text = NULL;

    (void)refresh_deletes;
    s->ended = 1;
    note(s, 0);
    if (ldap_parse_result(ls->ls_ld, msg, &code, NULL, &text, NULL, NULL,
                          0) == LDAP_SUCCESS)
        str_appendf(s->err, "ldap sync: the server ended the search: %s%s%s",
                    ldap_err2string(code), text && text[0] ? ": " : "",
                    text ? text : "");
    else
        str_appendf(s->err, "ldap sync: the server ended the search");
    if (text)
        ldap_memfree(text);
    return 0;
}

/* wait_input - wait for data on the connection up to ms; 0 or -1 */
static int wait_input(LDAP *ld, long long ms)
{
    struct pollfd p = {-1, POLLIN, 0};

    if (ldap_get_option(ld, LDAP_OPT_DESC, &p.fd) != LDAP_OPT_SUCCESS ||
        p.fd < 0)
        return -1;
    if (poll(&p, 1, (int)ms) < 0 && errno != EINTR)
        return -1;
    return 0;
}

int ldapsync_run(struct ldapc *lc, const char *base, const char *filter,
                 const char *const *attrs, long long poll_ms,
                 const struct ldapsync_ops *ops, void *ctx, struct str *err)
{
    struct session s = {ops, ctx, STR_INIT, err, 0, 0, 0};
    ldap_sync_t *ls;
    LDAP *ld = ldapc_handle(lc, err);
    int rc, result = LK_TEMP;

    if (ld == NULL)
        return LK_TEMP;
    if ((ls = ldap_sync_initialize(NULL)) == NULL) {
        str_appendf(err, "ldap sync: out of memory");
        return LK_TEMP;
    }
    ls->ls_base = (char *)base;
    ls->ls_scope = LDAP_SCOPE_SUBTREE;
    ls->ls_filter = (char *)filter;
    ls->ls_attrs = (char **)attrs;
    ls->ls_timeout = 0; /* ldap_sync_poll only drains; we wait below */
    ls->ls_search_entry = on_entry;
    ls->ls_search_reference = on_reference;
    ls->ls_intermediate = on_intermediate;
    ls->ls_search_result = on_result;
    ls->ls_private = &s;
    ls->ls_ld = ld;
    if ((rc = ldap_sync_init(ls, LDAP_SYNC_REFRESH_AND_PERSIST)) !=
        LDAP_SUCCESS) {
        str_appendf(err, "ldap sync: search %s under %s: %s", filter, base,
                    ldap_err2string(rc));
        goto out;
    }
    for (;;) {
        unsigned long before = s.events;

        rc = ldap_sync_poll(ls);
        if (s.stop) {
            result = s.stop > 0 ? 0 : LK_TEMP;
            break;
        }
        if (s.ended)
            break;
        if (rc != LDAP_SUCCESS) {
            str_appendf(err, "ldap sync: %s", rc == LDAP_SYNC_REFRESH_REQUIRED
                        ? "the server requires a new refresh"
                        : ldap_err2string(rc));
            break;
        }
        if (s.events != before)
            continue; /* drain what has arrived before going idle */
        rc = ops->idle(ctx);
        if (rc != 0) {
            result = rc > 0 ? 0 : LK_TEMP;
            break;
        }
        if (wait_input(ld, poll_ms) < 0) {
            str_appendf(err, "ldap sync: connection lost");
            break;
        }
    }
out:
    /* the search stays open on the server until the connection goes:
       always start the next session on a new connection */
    ls->ls_ld = NULL;
    ls->ls_base = ls->ls_filter = NULL;
    ls->ls_attrs = NULL;
    ldap_sync_destroy(ls, 1);
    ldapc_reset(lc);
    str_free(&s.value);
    return result;
}
