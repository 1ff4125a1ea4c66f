/*
 * postern-sieve-test - runs a Sieve test script written with the commands
 * of Pigeonhole's "vnd.dovecot.testsuite":
 *
 *   postern-sieve-test FILE.svtest
 *
 * The file is a Sieve script that requires "vnd.dovecot.testsuite"; this
 * tool registers that extension (postern-lda never knows it):
 *
 *   test "name" { ... }            one test: the result is reset, the
 *                                  block runs; "ok N - name" or
 *                                  "not ok N - name: reason"
 *   test_fail "reason"             fail the current test and leave it
 *   test_set "message" TEXT        the message under test; also
 *            "envelope.from" / "envelope.to" / "envelope.orig_to" /
 *            "envelope.auth"
 *   test_message :smtp N / :folder NAME N   (test or command) make the
 *                                  N-th (0-based)
 *                                  message sent or stored by
 *                                  test_result_execute the current one
 *   test_message_flags [MATCH-TYPE] <keys>  (test, postern) the flags the
 *                                  message of the last test_message :folder
 *                                  was stored with
 *   test_mailbox_create NAME       a folder for mailboxexists
 *   test_result_reset              empty the result
 *   test_result_execute            (test) carry the result out into the
 *                                  in-memory mail store
 *   test_result_action [MATCH-TYPE] [:index N] <keys>  (test) the action
 *                                  names: keep (also "store", as
 *                                  Pigeonhole names it), store (fileinto),
 *                                  redirect, reject, ereject, discard;
 *                                  "test_result" is the older name
 *   test_result_print              print the result as "# " lines
 *   test_script_compile PATH       (test) compile PATH (relative to the
 *                                  .svtest file's directory)
 *   test_script_run                (test) run it on the current message
 *   test_error [MATCH-TYPE] [:index N] <keys>  (test) the error messages of
 *                                  the last compile or run
 *   test_config_set KEY VALUE, test_config_unset KEY, test_config_reload
 *                                  only "sieve_subaddress_sep" has an effect
 *
 * include :personal and :global find scripts in the directory "include"
 * next to the .svtest file; the mail store is in memory.
 *
 * Output: one line per test, then "N passed, N failed"; exit 0 when
 * nothing failed, 1 otherwise.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "sieve-ext.h"
#include "version.h"

#define TS_FOLDERS_MAX 64
#define TS_MAILS_MAX 64

struct ts_mail {
    char *text, *flags, *from, *to;
};

struct ts_box {
    char *name;
    struct ts_mail mails[TS_MAILS_MAX];
    size_t n;
};

static struct {
    struct str text;
    struct sieve_message msg;
    char *from, *to, *orig_to, *auth;
    struct sieve_host host;
    char dir[4096];
    char incdir[4200];
    char delims[16];
    struct sieve_script *script;
    struct str errors;      /* one message per line */
    struct ts_box boxes[TS_FOLDERS_MAX];
    size_t nboxes;
    struct ts_box outbox;
    char *msg_flags;        /* of the last test_message :folder */
    int failed;
    struct str reason;
    int npass, nfail, ntest;
} ts;

static void set_str(char **p, const char *s, size_t len)
{
    free(*p);
    *p = s ? xstrndup(s, len) : NULL;
}

static void apply_message(struct sv_run *r)
{
    sieve_message_text(&ts.msg, ts.text.data ? ts.text.data : "",
                       ts.text.len);
    ts.msg.env_from = ts.from;
    ts.msg.env_to = ts.to;
    ts.msg.env_orig_to = ts.orig_to;
    ts.msg.env_auth = ts.auth;
    if (r)
        sv_run_message_changed(r);
}

static void set_message(struct sv_run *r, const char *s, size_t len)
{
    str_reset(&ts.text);
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
            str_append_char(&ts.text, s[i]);
    apply_message(r);
}

static struct ts_box *box(const char *name, int create)
{
    for (size_t i = 0; i < ts.nboxes; i++)
        if (strcmp(ts.boxes[i].name, name) == 0 ||
            (strcasecmp(name, "INBOX") == 0 &&
             strcasecmp(ts.boxes[i].name, "INBOX") == 0))
            return &ts.boxes[i];
    if (!create || ts.nboxes == TS_FOLDERS_MAX)
        return NULL;
    ts.boxes[ts.nboxes].name = xstrdup(name);
    return &ts.boxes[ts.nboxes++];
}

static int exists_cb(void *ctx, const char *folder)
{
    (void)ctx;
    return strcasecmp(folder, "INBOX") == 0 || box(folder, 0) != NULL;
}

static void add_mail(struct ts_box *b, const char *text, const char *flags,
                     const char *from, const char *to)
{
    struct ts_mail *m;

    if (b == NULL || b->n == TS_MAILS_MAX)
        return;
    m = &b->mails[b->n++];
    m->text = xstrdup(text);
    m->flags = xstrdup(flags ? flags : "");
    m->from = from ? xstrdup(from) : NULL;
    m->to = to ? xstrdup(to) : NULL;
}

static void record_errors(const struct str *lines)
{
    const char *p = str_cstr(lines);

    str_reset(&ts.errors);
    while (*p) {
        const char *nl = strchr(p, '\n'), *e;
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        const char *msg = p, *c;
        if ((e = memmem(p, n, ": error: ", 9)) != NULL) {
            msg = e + 9;
            for (c = e; c > p && c[-1] >= '0' && c[-1] <= '9'; c--)
                ;
            if (c < e && c > p && c[-1] == ':')
                str_appendf(&ts.errors, "line %.*s: ", (int)(e - c), c);
        }
        str_append(&ts.errors, msg, n - (size_t)(msg - p));
        str_append_char(&ts.errors, '\n');
        p += n + (nl != NULL);
    }
}

/* --- commands ----------------------------------------------------------------------------- */

static void finish_test(struct sv_run *r, const char *name)
{
    ts.ntest++;
    if (ts.failed) {
        ts.nfail++;
        printf("not ok %d - %s: %s\n", ts.ntest, name, str_cstr(&ts.reason));
    } else {
        ts.npass++;
        printf("ok %d - %s\n", ts.ntest, name);
    }
    fflush(stdout);
    ts.failed = 0;
    str_reset(&ts.reason);
    sv_run_resume(r);
}

static int test_exec(struct sv_run *r, struct sv_node *n)
{
    const char *name = sv_cstr(r, &sv_pos(n, 0)->list.v[0]);
    int rc;

    sieve_result_reset(sv_run_result(r));
    ts.failed = 0;
    str_reset(&ts.reason);
    sv_run_includes_reset(r); /* include :once counts per test */
    rc = sv_exec_body(r, n);
    if (rc < 0) {
        ts.failed = 1;
        str_reset(&ts.reason);
        str_appendf(&ts.reason, "%s", str_cstr(&sv_run_result(r)->error));
    }
    finish_test(r, name);
    sieve_result_reset(sv_run_result(r));
    return 0;
}

static int fail_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str s = sv_eval(r, &sv_pos(n, 0)->list.v[0]);

    ts.failed = 1;
    str_reset(&ts.reason);
    str_appendf(&ts.reason, "line %d: %.*s", sv_node_line(n), (int)s.len,
                s.s);
    sv_run_return(r);
    return 0;
}

static int set_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str k = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    struct sv_str v = sv_eval(r, &sv_pos(n, 1)->list.v[0]);

    if (k.len == 7 && strncasecmp(k.s, "message", 7) == 0)
        set_message(r, v.s, v.len);
    else if (k.len == 13 && strncasecmp(k.s, "envelope.from", 13) == 0)
        set_str(&ts.from, v.s, v.len);
    else if (k.len == 11 && strncasecmp(k.s, "envelope.to", 11) == 0)
        set_str(&ts.to, v.s, v.len);
    else if (k.len == 16 && strncasecmp(k.s, "envelope.orig_to", 16) == 0)
        set_str(&ts.orig_to, v.s, v.len);
    else if (k.len == 13 && strncasecmp(k.s, "envelope.auth", 13) == 0)
        set_str(&ts.auth, v.s, v.len);
    else
        return sv_rerror(r, n, "test_set: unknown item \"%.40s\"", k.s);
    apply_message(r);
    return 0;
}

static int message_exec(struct sv_run *r, struct sv_node *n)
{
    unsigned long long idx = sv_pos(n, 0)->num;
    const struct sv_tagval *f = sv_tag(n, "folder");
    struct ts_box *b = &ts.outbox;
    struct ts_mail *m;

    if (f) {
        const char *name = sv_cstr(r, &f->param->list.v[0]);
        if ((b = box(name, 0)) == NULL)
            return 0;
    }
    if (idx >= b->n)
        return 0;
    m = &b->mails[idx];
    set_message(r, m->text, strlen(m->text));
    if (!f) {
        set_str(&ts.from, m->from, m->from ? strlen(m->from) : 0);
        set_str(&ts.to, m->to, m->to ? strlen(m->to) : 0);
        apply_message(r);
    }
    free(ts.msg_flags);
    ts.msg_flags = xstrdup(m->flags);
    return 1;
}

static void split_flags(struct sv_run *r, const char *s, struct sv_str **v,
                        size_t *n)
{
    const char **f = sv_flags_split(sv_run_arena(r), s ? s : "");
    size_t k = 0;

    while (f[k])
        k++;
    *v = arena_alloc(sv_run_arena(r), (k + 1) * sizeof(**v));
    for (size_t i = 0; i < k; i++)
        (*v)[i] = (struct sv_str){f[i], strlen(f[i]), 0};
    *n = k;
}

static int message_flags_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_strlist keys;
    struct sv_str *v;
    size_t nv;

    sv_eval_list(r, &sv_pos(n, 0)->list, &keys);
    split_flags(r, ts.msg_flags, &v, &nv);
    return sv_match(r, n, v, nv, &keys);
}

static int mailbox_create_exec(struct sv_run *r, struct sv_node *n)
{
    box(sv_cstr(r, &sv_pos(n, 0)->list.v[0]), 1);
    return 0;
}

static int result_reset_exec(struct sv_run *r, struct sv_node *n)
{
    (void)n;
    sieve_result_reset(sv_run_result(r));
    return 0;
}

static char *join_flags(const char **f)
{
    struct str s = STR_INIT;
    char *out;

    for (size_t i = 0; f && f[i]; i++)
        str_appendf(&s, "%s%s", i ? " " : "", f[i]);
    out = xstrdup(str_cstr(&s));
    str_free(&s);
    return out;
}

static int result_execute_exec(struct sv_run *r, struct sv_node *n)
{
    struct sieve_result *res = sv_run_result(r);
    const char *text = ts.text.data ? ts.text.data : "";

    (void)n;
    sieve_result_finish(res);
    if (res->failed)
        return 0;
    for (size_t i = 0; i < res->n; i++) {
        const struct sieve_action *a = &res->acts[i];
        char *flags = join_flags(a->flags);
        struct str b = STR_INIT;
        switch (a->kind) {
        case SIEVE_ACT_KEEP:
        case SIEVE_ACT_FILEINTO:
            add_mail(box(a->arg, 1), text, flags, ts.from, ts.to);
            break;
        case SIEVE_ACT_REDIRECT:
            /* as postern-lda sends it: Delivered-To of the recipient on
               top, the original envelope sender */
            str_appendf(&b, "Delivered-To: %s\n%s", ts.to ? ts.to : "",
                        text);
            add_mail(&ts.outbox, str_cstr(&b), "", ts.from, a->arg);
            break;
        case SIEVE_ACT_REJECT:
        case SIEVE_ACT_EREJECT:
            str_appendf(&b, "To: <%s>\nSubject: Rejected\n"
                        "X-Postern-Reject: %s\n\n%s\n",
                        ts.from ? ts.from : "", a->kind == SIEVE_ACT_REJECT
                        ? "reject" : "ereject", a->arg);
            add_mail(&ts.outbox, str_cstr(&b), "", "", ts.from);
            break;
        default:
            break;
        }
        str_free(&b);
        free(flags);
    }
    return 1;
}

static const char *action_name(const struct sieve_action *a)
{
    return a->kind == SIEVE_ACT_FILEINTO ? "store" : sieve_action_name(a->kind);
}

static int result_action_exec(struct sv_run *r, struct sv_node *n)
{
    struct sieve_result *res = sv_run_result(r);
    unsigned long long index = sv_node_index(n);
    struct sv_strlist keys;
    struct sv_str *v;
    size_t nv = 0;

    sv_eval_list(r, &sv_pos(n, 0)->list, &keys);
    v = arena_alloc(sv_run_arena(r), (2 * res->n + 2) * sizeof(*v));
    for (size_t i = 0; i < res->n; i++) {
        if (index && i + 1 != index)
            continue;
        v[nv++] = (struct sv_str){action_name(&res->acts[i]),
                                  strlen(action_name(&res->acts[i])), 0};
        /* Pigeonhole calls a keep a "store" too */
        if (res->acts[i].kind == SIEVE_ACT_KEEP &&
            sv_node_match_type(n) != SV_MT_COUNT)
            v[nv++] = (struct sv_str){"store", 5, 0};
    }
    if (res->n == 0 && res->discarded && (!index || index == 1))
        v[nv++] = (struct sv_str){"discard", 7, 0};
    return sv_match(r, n, v, nv, &keys);
}

static int result_print_exec(struct sv_run *r, struct sv_node *n)
{
    struct str out = STR_INIT;
    const char *p;

    (void)n;
    sieve_result_print(sv_run_result(r), &out);
    for (p = str_cstr(&out); *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        printf("# %.*s\n", (int)l, p);
        p += l + (nl != NULL);
    }
    str_free(&out);
    return 0;
}

static int script_compile_exec(struct sv_run *r, struct sv_node *n)
{
    const char *name = sv_cstr(r, &sv_pos(n, 0)->list.v[0]);
    struct str errors = STR_INIT;
    char path[8192];

    sieve_script_free(ts.script);
    ts.script = NULL;
    snprintf(path, sizeof(path), "%s%s%s", name[0] == '/' ? "" : ts.dir,
             name[0] == '/' ? "" : "/", name);
    if (sieve_compile_file(path, name, &ts.host, &ts.script, &errors) < 0) {
        record_errors(&errors);
        str_free(&errors);
        return 0;
    }
    str_reset(&ts.errors);
    str_free(&errors);
    return 1;
}

static int script_run_exec(struct sv_run *r, struct sv_node *n)
{
    struct sieve_result *res = sv_run_result(r);
    int rc;

    (void)n;
    if (ts.script == NULL)
        return 0;
    sieve_result_reset(res);
    rc = sieve_execute(ts.script, &ts.msg, &ts.host, res);
    if (rc < 0) {
        struct str e = STR_INIT;
        str_appendf(&e, "%s\n", str_cstr(&res->error));
        record_errors(&e);
        str_free(&e);
        /* the run failed; leave the result usable by the next test */
        res->failed = 0;
        str_reset(&res->error);
        return 0;
    }
    str_reset(&ts.errors);
    return 1;
}

static int error_exec(struct sv_run *r, struct sv_node *n)
{
    unsigned long long index = sv_node_index(n);
    struct sv_strlist keys;
    struct sv_str *v;
    size_t nv = 0, idx = 0;
    const char *p = str_cstr(&ts.errors);

    sv_eval_list(r, &sv_pos(n, 0)->list, &keys);
    v = arena_alloc(sv_run_arena(r), (ts.errors.len + 1) * sizeof(*v));
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        idx++;
        if (!index || index == idx)
            v[nv++] = (struct sv_str){p, l, 0};
        p += l + (nl != NULL);
    }
    return sv_match(r, n, v, nv, &keys);
}

static int config_set_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str k = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    struct sv_str v = sv_eval(r, &sv_pos(n, 1)->list.v[0]);

    if ((k.len == 20 && strncasecmp(k.s, "sieve_subaddress_sep", 20) == 0) ||
        (k.len == 19 && strncasecmp(k.s, "recipient_delimiter", 19) == 0))
        snprintf(ts.delims, sizeof(ts.delims), "%.*s", (int)v.len, v.s);
    return 0;
}

static int noop_exec(struct sv_run *r, struct sv_node *n)
{
    (void)r;
    (void)n;
    return 0;
}

static const struct sv_cmddef ts_cmds[] = {
    {"test", 0, "S", 0, 1, 0, NULL, test_exec},
    {"test_fail", 0, "S", 0, 0, 0, NULL, fail_exec},
    {"test_set", 0, "SS", 0, 0, 0, NULL, set_exec},
    {"test_message", 1, "N", 0, 0, SV_F_EITHER, NULL, message_exec},
    {"test_message_flags", 1, "L", 0, 0, SV_F_MATCH, NULL,
     message_flags_exec},
    {"test_mailbox_create", 0, "S", 0, 0, 0, NULL, mailbox_create_exec},
    {"test_result_reset", 0, "", 0, 0, 0, NULL, result_reset_exec},
    {"test_result_execute", 1, "", 0, 0, 0, NULL, result_execute_exec},
    {"test_result_action", 1, "L", 0, 0, SV_F_MATCH, NULL,
     result_action_exec},
    {"test_result", 1, "L", 0, 0, SV_F_MATCH, NULL, result_action_exec},
    {"test_result_print", 0, "", 0, 0, 0, NULL, result_print_exec},
    {"test_script_compile", 1, "S", 0, 0, 0, NULL, script_compile_exec},
    {"test_script_run", 1, "", 0, 0, 0, NULL, script_run_exec},
    {"test_error", 1, "L", 0, 0, SV_F_MATCH, NULL, error_exec},
    {"test_config_set", 0, "SS", 0, 0, 0, NULL, config_set_exec},
    {"test_config_unset", 0, "S", 0, 0, 0, NULL, noop_exec},
    {"test_config_reload", 0, "", 0, 0, 0, NULL, noop_exec},
};

static const struct sv_tagdef ts_tags[] = {
    {"smtp", SV_G_OTHER, 0, 0, " test_message "},
    {"folder", SV_G_OTHER, 1, 'S', " test_message "},
    {"index", SV_G_NONE, 0, 'N', " test_result_action test_result test_error "},
};

static const struct sv_ext ts_ext = {
    "vnd.dovecot.testsuite", ts_cmds, sizeof(ts_cmds) / sizeof(ts_cmds[0]),
    ts_tags, sizeof(ts_tags) / sizeof(ts_tags[0]), 1, 0};

int main(int argc, char **argv)
{
    struct str errors = STR_INIT;
    struct sieve_script *s;
    struct sieve_result res;
    char *copy;
    int rc;

    if (argc == 2 && strcmp(argv[1], "-V") == 0) {
        printf("postern-sieve-test %s\n", POSTERN_VERSION);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: postern-sieve-test FILE.svtest\n"
                        "       postern-sieve-test -V\n");
        return 64;
    }
    sieve_ext_register(&ts_ext);
    copy = xstrdup(argv[1]);
    snprintf(ts.dir, sizeof(ts.dir), "%s", dirname(copy));
    free(copy);
    snprintf(ts.delims, sizeof(ts.delims), "+");
    snprintf(ts.incdir, sizeof(ts.incdir), "%s/include", ts.dir);
    ts.host.personal_dir = ts.incdir;
    ts.host.global_dir = ts.incdir;
    ts.host.delimiters = ts.delims;
    ts.host.default_folder = "INBOX";
    ts.host.domain = "example.com";
    ts.host.hostname = "mx.example.com";
    ts.host.mailbox_exists = exists_cb;
    ts.host.allow_extra = 1;
    set_message(NULL, "", 0);
    if (sieve_compile_file(argv[1], argv[1], &ts.host, &s, &errors) < 0) {
        fputs(str_cstr(&errors), stdout);
        printf("not ok 1 - %s does not compile\n0 passed, 1 failed\n",
               argv[1]);
        return 1;
    }
    sieve_result_init(&res, "INBOX");
    rc = sieve_execute(s, &ts.msg, &ts.host, &res);
    if (rc < 0) {
        ts.nfail++;
        printf("not ok %d - %s: %s\n", ++ts.ntest, argv[1],
               str_cstr(&res.error));
    }
    if (ts.ntest == 0) {
        ts.nfail++;
        printf("not ok 1 - %s: no tests\n", argv[1]);
    }
    printf("%d passed, %d failed\n", ts.npass, ts.nfail);
    sieve_result_free(&res);
    sieve_script_free(s);
    sieve_script_free(ts.script);
    return ts.nfail ? 1 : 0;
}
