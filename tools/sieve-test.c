/*
 * postern-sieve-test - runs a Sieve test script written in Pigeonhole's
 * test-suite language, "vnd.dovecot.testsuite", so that suites written
 * for Pigeonhole run unchanged:
 *
 *   postern-sieve-test [-p] FILE.svtest
 *
 * The file is a Sieve script that requires "vnd.dovecot.testsuite"; this
 * tool registers that extension (postern-lda never knows it):
 *
 *   test "name" { ... }            one test: the result is reset, the
 *                                  block runs; "ok N - name" or
 *                                  "not ok N - name: reason"
 *   test_fail "reason"             fail the current test and leave it
 *   test_set "message" TEXT        the message under test, with the
 *                                  envelope its header gives (as
 *                                  Pigeonhole: sender from Return-Path,
 *                                  Sender or From, else
 *                                  sender@example.com; recipient and
 *                                  original recipient from Envelope-To
 *                                  or To, else recipient@example.com; no
 *                                  auth); the file starts with
 *                                  Pigeonhole's default message; also
 *            "envelope.from" / "envelope.to" / "envelope.orig_to" /
 *            "envelope.auth" ("<>" and "<a@b>" are taken as "" and a@b)
 *   test_message :smtp N / :folder NAME N / :mailbox NAME N
 *                                  (test or command) make the N-th
 *                                  (0-based) message sent or stored by
 *                                  test_result_execute the current one;
 *                                  an smtp message brings its envelope
 *                                  (sender, recipient) along, a stored one
 *                                  its flags (what hasflag then sees)
 *   test_message_print             print the current message as "# " lines
 *   test_message_flags [MATCH-TYPE] <keys>  (test, postern) the flags the
 *                                  message of the last test_message :folder
 *                                  was stored with
 *   test_mailbox_create NAME, test_mailbox_delete NAME
 *                                  folders for mailboxexists
 *   test_result_reset              empty the result and the smtp outbox
 *   test_result_execute            (test) carry the result out: keep and
 *                                  fileinto into the in-memory mail store,
 *                                  redirect, reject, vacation (after the
 *                                  RFC 3834 checks) and notify mailto (not
 *                                  for auto-submitted mail) into the smtp
 *                                  outbox; false if the result
 *                                  failed
 *   test_result_action [MATCH-TYPE] [:index N] <keys>  (test) the action
 *                                  names: keep (also "store", as
 *                                  Pigeonhole names it), store (fileinto),
 *                                  redirect, reject, ereject, discard,
 *                                  vacation, notify; "test_result" is the
 *                                  older name
 *   test_result_print              print the result as "# " lines
 *   test_script_compile PATH       (test) compile PATH (relative to the
 *                                  .svtest file's directory)
 *   test_script_run [:append_result]  (test) run it on the current
 *                                  message, into a fresh result or (with
 *                                  :append_result) after the actions
 *                                  already there
 *   test_multiscript <paths>       (test) compile and run the scripts one
 *                                  after the other into one result, as
 *                                  postern-lda runs sieve_before, the
 *                                  user's script and sieve_after ("stop"
 *                                  skips to the last one), then execute
 *                                  it; false if one fails to compile or run
 *   test_error [MATCH-TYPE] [:index N] <keys>  (test) the error messages of
 *                                  the last compile or run ("line N: ..."
 *                                  where the error has a line)
 *   test_binary_save NAME, test_binary_load NAME
 *                                  the engine has no binary form: save
 *                                  remembers the compiled script under
 *                                  NAME, load makes it current again
 *   test_imap_metadata_set [:mailbox NAME] ANNOTATION VALUE
 *                                  kept in memory (postern has no
 *                                  mboxmetadata extension to read it)
 *   test_config_set KEY VALUE, test_config_unset KEY,
 *   test_config_reload [:extension NAME]
 *                                  a setting takes effect at once (a
 *                                  reload applies them all again); the
 *                                  keys postern has:
 *                                  recipient_delimiter /
 *                                  sieve_subaddress_sep (subaddress),
 *                                  sieve_user_email,
 *                                  sieve_spamtest_* and sieve_virustest_*
 *                                  (status_header "FIELD[: ERE]",
 *                                  status_type score / strlen / text,
 *                                  max_value, max_header, text_valueN),
 *                                  postern-lda's sieve_spam_score_header,
 *                                  sieve_spam_score_max,
 *                                  sieve_spam_flag_header,
 *                                  sieve_virus_header,
 *                                  sieve_duplicate_default_period /
 *                                  sieve_duplicate_max_period,
 *                                  sieve_vacation_min_period /
 *                                  default_period / max_period (seconds,
 *                                  or with s/m/h/d), Pigeonhole's
 *                                  sieve_vacation_use_original_recipient,
 *                                  dont_check_recipient,
 *                                  send_from_recipient, default_subject,
 *                                  default_subject_template ("%$",
 *                                  "%{subject}"), max_subject_codepoints,
 *                                  to_header_ignore_envelope
 *                                  (send_vacation); every other key is
 *                                  accepted and ignored (postern has no
 *                                  such setting, or it is a fixed limit
 *                                  in lib-sieve/sieve.h: sieve_max_actions,
 *                                  sieve_max_redirects,
 *                                  sieve_variables_max_*)
 *
 * The size test sees the message with CRLF line ends, as Pigeonhole does
 * (the message is kept with LF line ends).
 *
 * Variables: ${tst.path} (the testsuite namespace) is the directory of
 * the .svtest file; the envelope is what test_set gave.
 *
 * duplicate (RFC 7352) finds the ids that an earlier test_result_execute
 * stored (in memory, with no expiry).
 *
 * include :personal finds scripts in the directory "included" next to the
 * .svtest file (or "include" when there is no "included"), :global in
 * "included-global" (or the same directory); the mail store is in memory.
 *
 * -p: the error list of a compile that failed ends with "validation
 * failed", the line Pigeonhole's compiler adds (its suites count it).
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
#include <sys/stat.h>

#include "mem.h"
#include "sieve-ext.h"
#include "version.h"

#define TS_FOLDERS_MAX 64
#define TS_MAILS_MAX 64
#define TS_CONFIG_MAX 64
#define TS_BINARIES_MAX 32
#define TS_METADATA_MAX 64

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
    char globaldir[4200];
    char delims[16];
    struct sieve_script *script;
    struct str errors;      /* one message per line */
    struct ts_box boxes[TS_FOLDERS_MAX];
    size_t nboxes;
    struct ts_box outbox;
    char *msg_flags;        /* of the last test_message :folder */
    int pigeonhole;         /* -p */
    size_t executed;        /* actions of the result carried out */
    int kept;               /* ... and the implicit keep among them */
    /* test_config_set: KEY=VALUE pairs, applied by test_config_reload */
    char *config[TS_CONFIG_MAX][2];
    size_t nconfig;
    char spam_header[256], virus_header[256], spam_max_header[256];
    struct sieve_vacation_policy vacation;
    /* test_binary_save: name -> compiled script */
    struct {
        char *name;
        struct sieve_script *script;
    } binaries[TS_BINARIES_MAX];
    size_t nbinaries;
    /* test_imap_metadata_set: mailbox, annotation, value */
    char *metadata[TS_METADATA_MAX][3];
    size_t nmetadata;
    struct sieve_script **retired; /* freed at the end */
    size_t nretired;
    /* duplicate: the ids test_result_execute stored (no expiry) */
    struct str dupids;      /* each id, then a NUL */
    int failed;
    struct str reason;
    int npass, nfail, ntest;
} ts;

static void set_str(char **p, const char *s, size_t len)
{
    free(*p);
    *p = s ? xstrndup(s, len) : NULL;
}

/* the whole message: the text itself (ts.msg.size counts CRLF line
   ends, so sieve_message_text's loader, which reads size bytes, would
   read past the text) */
static int text_load(void *ctx, struct str *out)
{
    size_t len = ts.text.len > SIEVE_BODY_MAX ? SIEVE_BODY_MAX : ts.text.len;

    (void)ctx;
    str_reset(out);
    return str_append(out, ts.text.data ? ts.text.data : "", len);
}

static void apply_message(struct sv_run *r)
{
    sieve_message_text(&ts.msg, ts.text.data ? ts.text.data : "",
                       ts.text.len);
    ts.msg.load = text_load;
    /* the size test sees the message as transmitted: CRLF line ends */
    for (size_t i = 0; i < ts.text.len; i++)
        ts.msg.size += ts.text.data[i] == '\n';
    ts.msg.env_from = ts.from;
    ts.msg.env_to = ts.to;
    ts.msg.env_orig_to = ts.orig_to;
    ts.msg.env_auth = ts.auth;
    if (r)
        sv_run_message_changed(r);
}

/* the first address of header field `name` ("Name <a@b>", "a@b (c)",
   a list: its first member) into *dst; 0 when there is none */
static int header_addr(const char *name, char **dst)
{
    struct str v = STR_INIT;
    const char *p, *e;
    int found = 0;

    if (sieve_header_first(&ts.msg, name, &v) && v.len) {
        p = str_cstr(&v);
        if ((e = strchr(p, '<')) != NULL && strchr(e, '>')) {
            p = e + 1;
            e = strchr(p, '>');
        } else {
            e = p + strcspn(p, ",(");
        }
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > p) {
            set_str(dst, p, (size_t)(e - p));
            found = 1;
        }
    }
    str_free(&v);
    return found;
}

/* test_set "message": as Pigeonhole's testsuite, a new message brings
   its envelope from its header: the recipient (and original recipient)
   from Envelope-To or To (else recipient@example.com), the sender from
   Return-Path, Sender or From (else sender@example.com); no auth */
static void envelope_from_header(void)
{
    if (!header_addr("Envelope-To", &ts.to) && !header_addr("To", &ts.to))
        set_str(&ts.to, "recipient@example.com", 21);
    set_str(&ts.orig_to, ts.to, strlen(ts.to));
    if (!header_addr("Return-Path", &ts.from) &&
        !header_addr("Sender", &ts.from) && !header_addr("From", &ts.from))
        set_str(&ts.from, "sender@example.com", 18);
    set_str(&ts.auth, NULL, 0);
}

static void set_message(struct sv_run *r, const char *s, size_t len)
{
    str_reset(&ts.text);
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
            str_append_char(&ts.text, s[i]);
    apply_message(NULL);
    envelope_from_header();
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

static int duplicate_cb(void *ctx, const char *id, size_t len,
                        long long seconds, int last)
{
    (void)ctx;
    (void)seconds;
    (void)last;
    for (size_t off = 0; off < ts.dupids.len;) {
        size_t l = strlen(ts.dupids.data + off);
        if (l == len && memcmp(ts.dupids.data + off, id, len) == 0)
            return LK_FOUND;
        off += l + 1;
    }
    return LK_NOTFOUND;
}

/* the testsuite namespace: ${tst.path} is the .svtest file's directory */
static int var_namespace_cb(void *ctx, const char *name, size_t len,
                            struct str *out)
{
    (void)ctx;
    if (len == 8 && strncasecmp(name, "tst.path", 8) == 0) {
        str_append_cstr(out, ts.dir);
        return 1;
    }
    return 0;
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

/* -p: a compile that failed ends its error list with the line
   Pigeonhole's compiler adds, so Pigeonhole's suites count the same */
static void compile_failed(void)
{
    if (ts.pigeonhole)
        str_append_cstr(&ts.errors, "validation failed\n");
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

/* run_failed - a run ended in a run-time error: its message becomes the
   errors test_error sees, and the result stays usable by the next test;
   returns 0 (the test_script_run / test_multiscript verdict) */
static int run_failed(struct sieve_result *res)
{
    struct str e = STR_INIT;

    str_appendf(&e, "%s\n", str_cstr(&res->error));
    record_errors(&e);
    str_free(&e);
    res->failed = 0;
    str_reset(&res->error);
    return 0;
}

static void reset_result(struct sieve_result *res)
{
    sieve_result_reset(res);
    ts.executed = 0;
    ts.kept = 0;
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

    reset_result(sv_run_result(r));
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
    reset_result(sv_run_result(r));
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

    /* an envelope address may be written as a path: "<>", "<a@b>" */
    if (k.len > 9 && strncasecmp(k.s, "envelope.", 9) == 0 && v.len >= 2 &&
        v.s[0] == '<' && v.s[v.len - 1] == '>') {
        v.s++;
        v.len -= 2;
    }
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

    if (f == NULL)
        f = sv_tag(n, "mailbox");
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
    if (f) {
        /* imap4flags: hasflag without a variable sees the flags the
           message was stored with (as Pigeonhole's mail store) */
        struct sieve_result *res = sv_run_result(r);
        res->flags = m->flags[0] ? arena_strdup(&res->arena, m->flags)
                                 : NULL;
    }
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

static int mailbox_delete_exec(struct sv_run *r, struct sv_node *n)
{
    struct ts_box *b = box(sv_cstr(r, &sv_pos(n, 0)->list.v[0]), 0);
    size_t i;

    if (b == NULL)
        return 0;
    for (i = 0; i < b->n; i++) {
        free(b->mails[i].text);
        free(b->mails[i].flags);
        free(b->mails[i].from);
        free(b->mails[i].to);
    }
    free(b->name);
    i = (size_t)(b - ts.boxes);
    memmove(&ts.boxes[i], &ts.boxes[i + 1],
            (ts.nboxes - i - 1) * sizeof(ts.boxes[0]));
    ts.nboxes--;
    return 0;
}

static void print_lines(const char *p)
{
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        printf("# %.*s\n", (int)l, p);
        p += l + (nl != NULL);
    }
}

static int message_print_exec(struct sv_run *r, struct sv_node *n)
{
    (void)r;
    (void)n;
    print_lines(str_cstr(&ts.text));
    return 0;
}

static void outbox_reset(void)
{
    for (size_t i = 0; i < ts.outbox.n; i++) {
        free(ts.outbox.mails[i].text);
        free(ts.outbox.mails[i].flags);
        free(ts.outbox.mails[i].from);
        free(ts.outbox.mails[i].to);
    }
    ts.outbox.n = 0;
}

static int result_reset_exec(struct sv_run *r, struct sv_node *n)
{
    (void)n;
    reset_result(sv_run_result(r));
    outbox_reset();
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

static const char *config_get(const char *key);

static int config_yes(const char *key)
{
    const char *v = config_get(key);

    return v && (strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0 ||
                 strcasecmp(v, "true") == 0);
}

/* a setting's value; an empty one counts as not set */
static const char *config_str(const char *key)
{
    const char *v = config_get(key);

    return v && *v ? v : NULL;
}

/* Pigeonhole's default subject settings: sieve_vacation_default_subject
   when the message has none, sieve_vacation_default_subject_template
   ("%$" or "%{subject}": the original subject) when it has one */
static const char *default_subject(struct arena *a)
{
    const char *tmpl = config_str("sieve_vacation_default_subject_template");
    const char *dflt = config_str("sieve_vacation_default_subject");
    struct str orig = STR_INIT, out = STR_INIT;
    const char *res = NULL;

    if (!sieve_header_first(&ts.msg, "Subject", &orig) || orig.len == 0)
        res = dflt;
    else if (tmpl) {
        for (const char *p = tmpl; *p; p++) {
            if (strncmp(p, "%$", 2) == 0) {
                str_append(&out, orig.data, orig.len);
                p++;
            } else if (strncmp(p, "%{subject}", 10) == 0) {
                str_append(&out, orig.data, orig.len);
                p += 9;
            } else
                str_append_char(&out, *p);
        }
        res = arena_strdup(a, str_cstr(&out));
    }
    str_free(&orig);
    str_free(&out);
    return res;
}

/* vacation as postern-lda decides it (RFC 3834 and 5230 rules, the
   recipient as the user's own address), sent from the null sender to
   the envelope sender.  Pigeonhole's settings: the original recipient
   is the user's too with sieve_vacation_use_original_recipient (as
   postern-lda always has it), sieve_user_email is,
   sieve_vacation_dont_check_recipient answers a message that names none
   of them, sieve_vacation_send_from_recipient sends from the
   recipient, sieve_vacation_max_subject_codepoints limits the Subject,
   sieve_vacation_to_header_ignore_envelope names the header's sender */
static void send_vacation(struct sieve_vacation *v)
{
    const char *own[2];
    size_t nown = 0;
    struct str out = STR_INIT;
    struct sieve_message m = ts.msg;
    struct arena a = {0};
    const char *mx = config_str("sieve_vacation_max_subject_codepoints");
    const char *subject = v->subject;

    if (!config_yes("sieve_vacation_use_original_recipient"))
        m.env_orig_to = NULL;
    if (ts.to)
        own[nown++] = ts.to;
    if (ts.host.user_email)
        own[nown++] = ts.host.user_email;
    v->effective = sieve_vacation_period(v, &ts.vacation);
    v->suppressed = sieve_vacation_check(&m, v, own, nown);
    if (v->suppressed && config_yes("sieve_vacation_dont_check_recipient") &&
        strcmp(v->suppressed, "not an explicit recipient") == 0) {
        v->suppressed = NULL;
        v->reply_from = ts.host.user_email;
    }
    if (v->suppressed || ts.from == NULL || ts.from[0] == '\0')
        return;
    if (v->subject == NULL || v->subject[0] == '\0')
        v->subject = default_subject(&a);
    v->max_subject = mx ? strtoul(mx, NULL, 10) : 0;
    v->to_header_any =
        config_yes("sieve_vacation_to_header_ignore_envelope");
    if (sieve_vacation_compose(&m, v, ts.to ? ts.to : "",
                               ts.host.hostname, &out) == 0)
        add_mail(&ts.outbox, str_cstr(&out), "",
                 config_yes("sieve_vacation_send_from_recipient") && ts.to
                 ? ts.to : "", ts.from);
    v->subject = subject;   /* a later execute makes it again */
    str_free(&out);
    arena_free(&a);
}

/* notify mailto: one message per recipient of the URI, from the null
   sender; none for a message that is itself auto-submitted (RFC 5436
   2.7, as postern-lda) */
static void send_notify(const struct sieve_notify *nt)
{
    struct str out = STR_INIT, to = STR_INIT;
    const char *p;

    if (sieve_header_first(&ts.msg, "Auto-Submitted", &out) &&
        strncasecmp(str_cstr(&out), "no", 2) != 0) {
        str_free(&out);
        return;
    }
    str_reset(&out);
    if (sieve_notify_compose(&ts.msg, nt, ts.to ? ts.to : "",
                             ts.host.hostname, &out, &to) == 0) {
        for (p = str_cstr(&to); *p;) {
            size_t l = strcspn(p, ",");
            char *rcpt = xstrndup(p, l);
            if (*rcpt)
                add_mail(&ts.outbox, str_cstr(&out), "", "", rcpt);
            free(rcpt);
            p += l + (p[l] == ',');
        }
    }
    str_free(&out);
    str_free(&to);
}

static int result_execute_exec(struct sv_run *r, struct sv_node *n)
{
    struct sieve_result *res = sv_run_result(r);
    const char *text = ts.text.data ? ts.text.data : "";
    struct str edited = STR_INIT;

    (void)n;
    sieve_result_finish(res);
    if (res->failed)
        return 0;
    if (res->new_header) {
        /* editheader: the header as the script left it, the body */
        const char *body = strstr(text, "\n\n");
        str_append(&edited, res->new_header->data, res->new_header->len);
        if (edited.len && edited.data[edited.len - 1] != '\n')
            str_append_char(&edited, '\n');
        str_appendf(&edited, "\n%s", body ? body + 2 : "");
        text = str_cstr(&edited);
    }
    if (res->new_message)   /* replace/enclose: the whole new message */
        text = str_cstr(res->new_message);
    for (size_t i = ts.executed; i < res->n; i++) {
        const struct sieve_action *a = &res->acts[i];
        char *flags = join_flags(a->flags);
        struct str b = STR_INIT;
        switch (a->kind) {
        case SIEVE_ACT_KEEP:
        case SIEVE_ACT_FILEINTO:
            /* an implicit keep already carried out by an earlier
               test_result_execute of this result is not repeated */
            if (!(a->implicit && ts.kept))
                add_mail(box(a->arg, 1), text, flags, ts.from, ts.to);
            ts.kept |= a->implicit;
            break;
        case SIEVE_ACT_REDIRECT:
            /* as postern-lda sends it: Delivered-To of the recipient on
               top, the original envelope sender */
            str_appendf(&b, "Delivered-To: %s\n%s", ts.to ? ts.to : "",
                        text);
            add_mail(&ts.outbox, str_cstr(&b), "", ts.from, a->arg);
            break;
        case SIEVE_ACT_VACATION:
            send_vacation(a->vac);
            break;
        case SIEVE_ACT_NOTIFY:
            send_notify(a->notify);
            break;
        case SIEVE_ACT_REJECT:
        case SIEVE_ACT_EREJECT:
            /* postern-lda answers 5.7.1 and Postfix bounces: the
               bounce comes from the mail system, never to <> */
            if (ts.from == NULL || ts.from[0] == '\0')
                break;
            str_appendf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\n"
                        "To: <%s>\nSubject: Rejected\n"
                        "Auto-Submitted: auto-replied\n"
                        "X-Postern-Reject: %s\n\n%s\n", ts.host.hostname,
                        ts.from, a->kind == SIEVE_ACT_REJECT
                        ? "reject" : "ereject", a->arg);
            add_mail(&ts.outbox, str_cstr(&b), "", "", ts.from);
            break;
        default:
            break;
        }
        str_free(&b);
        free(flags);
    }
    ts.executed = res->n;
    /* duplicate: the ids are stored after a good delivery */
    for (size_t i = 0; i < res->ndups; i++)
        if (!res->dups[i].seen && duplicate_cb(NULL, res->dups[i].id,
                                               res->dups[i].len, 0, 0) !=
                                      LK_FOUND) {
            str_append(&ts.dupids, res->dups[i].id, res->dups[i].len);
            str_append_char(&ts.dupids, '\0');
        }
    str_free(&edited);
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

static void retire(struct sieve_script *s)
{
    ts.retired = xrealloc(ts.retired, (ts.nretired + 1) * sizeof(*ts.retired));
    ts.retired[ts.nretired++] = s;
}

static int is_saved(const struct sieve_script *s)
{
    for (size_t i = 0; i < ts.nbinaries; i++)
        if (ts.binaries[i].script == s)
            return 1;
    return 0;
}

/* forget the current script (a saved one stays with its name); the
   actions of a result point into the script that made them, so it is
   freed at the end only */
static void drop_script(void)
{
    if (ts.script && !is_saved(ts.script))
        retire(ts.script);
    ts.script = NULL;
}

static int script_compile_exec(struct sv_run *r, struct sv_node *n)
{
    const char *name = sv_cstr(r, &sv_pos(n, 0)->list.v[0]);
    struct str errors = STR_INIT;
    char path[8192];

    drop_script();
    snprintf(path, sizeof(path), "%s%s%s", name[0] == '/' ? "" : ts.dir,
             name[0] == '/' ? "" : "/", name);
    if (sieve_compile_file(path, name, &ts.host, &ts.script, &errors) < 0) {
        record_errors(&errors);
        compile_failed();
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

    if (ts.script == NULL)
        return 0;
    if (sv_tag(n, "append_result") == NULL)
        reset_result(res);
    else if (res->finished) {
        /* more actions follow the executed ones: the implicit keep
           test_result_execute added is decided again at the end */
        if (res->n > 0 && res->acts[res->n - 1].implicit)
            res->n--;
        if (ts.executed > res->n)
            ts.executed = res->n;
        res->finished = 0;
    }
    rc = sieve_execute(ts.script, &ts.msg, &ts.host, res);
    if (rc < 0)
        return run_failed(res);
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

/* --- settings -------------------------------------------------------------------------- */

static const char *config_get(const char *key)
{
    for (size_t i = 0; i < ts.nconfig; i++)
        if (strcasecmp(ts.config[i][0], key) == 0)
            return ts.config[i][1];
    return NULL;
}

/* a period: seconds, or a number with s, m, h or d; -1 if bad */
static long long period(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (end == s || v < 0)
        return -1;
    switch (*end) {
    case '\0': case 's': return v;
    case 'm': return v * 60;
    case 'h': return v * 3600;
    case 'd': return v * 86400;
    default: return -1;
    }
}

/* the field name of a Pigeonhole status-header setting ("X-Spam-Score:
   regex" -> "X-Spam-Score") */
static const char *field_name(const char *v, char *buf, size_t size)
{
    size_t l;

    if (v == NULL)
        return NULL;
    l = strcspn(v, ":");
    while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t'))
        l--;
    snprintf(buf, size, "%.*s", (int)l, v);
    return buf;
}

/* the regular expression of such a setting (after ':' and blanks), or
   NULL */
static const char *field_regex(const char *v)
{
    const char *c = v ? strchr(v, ':') : NULL;

    if (c == NULL)
        return NULL;
    c++;
    while (*c == ' ' || *c == '\t')
        c++;
    return *c ? c : NULL;
}

/* sieve_*test_status_type; a status header set without it is a score */
static int status_type(const char *type, const char *header)
{
    if (type && strcasecmp(type, "strlen") == 0)
        return SIEVE_STATUS_STRLEN;
    if (type && strcasecmp(type, "text") == 0)
        return SIEVE_STATUS_TEXT;
    if ((type && strcasecmp(type, "score") == 0) || header)
        return SIEVE_STATUS_SCORE;
    return SIEVE_STATUS_DEFAULT;
}

static long long period_or(const char *key, long long def)
{
    const char *v = config_get(key);
    long long p = v ? period(v) : -1;

    return p < 0 ? def : p;
}

/* apply the settings postern has to the host; the others are ignored */
static void config_apply(void)
{
    const char *v;

    v = config_get("sieve_subaddress_sep");
    if (v == NULL)
        v = config_get("recipient_delimiter");
    snprintf(ts.delims, sizeof(ts.delims), "%s", v ? v : "+");
    ts.host.user_email = config_get("sieve_user_email");
    v = config_get("sieve_spamtest_status_header");
    ts.host.spam_score_header = field_name(v, ts.spam_header,
                                           sizeof(ts.spam_header));
    ts.host.spam_status_regex = field_regex(v);
    ts.host.spam_status_type = status_type(
        config_get("sieve_spamtest_status_type"), v);
    v = config_get("sieve_spamtest_max_header");
    ts.host.spam_max_header = field_name(v, ts.spam_max_header,
                                         sizeof(ts.spam_max_header));
    ts.host.spam_max_regex = field_regex(v);
    v = config_get("sieve_virustest_status_header");
    ts.host.virus_header = field_name(v, ts.virus_header,
                                      sizeof(ts.virus_header));
    ts.host.virus_status_regex = field_regex(v);
    ts.host.virus_status_type = status_type(
        config_get("sieve_virustest_status_type"), v);
    for (int i = 0; i <= 10; i++) {
        char key[64];
        snprintf(key, sizeof(key), "sieve_spamtest_text_value%d", i);
        ts.host.spam_text_values[i] = config_get(key);
        if (i <= 5) {
            snprintf(key, sizeof(key), "sieve_virustest_text_value%d", i);
            ts.host.virus_text_values[i] = config_get(key);
        }
    }
    v = config_get("sieve_spamtest_max_value");
    ts.host.spam_score_max = v ? strtod(v, NULL) : 0;
    /* postern-lda's own keys ([lda] sieve_spam_*, sieve_virus_header) */
    if ((v = config_get("sieve_spam_score_header")) != NULL)
        ts.host.spam_score_header = v;
    if ((v = config_get("sieve_spam_score_max")) != NULL)
        ts.host.spam_score_max = strtod(v, NULL);
    ts.host.spam_flag_header = config_get("sieve_spam_flag_header");
    if ((v = config_get("sieve_virus_header")) != NULL)
        ts.host.virus_header = v;
    v = config_get("sieve_virustest_max_value");
    ts.host.virus_score_max = v ? strtod(v, NULL) : 0;
    ts.host.duplicate_default =
        period_or("sieve_duplicate_default_period", 0);
    ts.host.duplicate_max = period_or("sieve_duplicate_max_period", 0);
    ts.vacation.min_period = period_or("sieve_vacation_min_period", 86400);
    ts.vacation.default_period =
        period_or("sieve_vacation_default_period", 7 * 86400);
    ts.vacation.max_period =
        period_or("sieve_vacation_max_period", 90 * 86400);
}

static void config_unset(const char *key)
{
    for (size_t i = 0; i < ts.nconfig; i++)
        if (strcasecmp(ts.config[i][0], key) == 0) {
            free(ts.config[i][0]);
            free(ts.config[i][1]);
            ts.config[i][0] = ts.config[--ts.nconfig][0];
            ts.config[i][1] = ts.config[ts.nconfig][1];
            return;
        }
}

static int config_set_exec(struct sv_run *r, struct sv_node *n)
{
    const char *k = sv_cstr(r, &sv_pos(n, 0)->list.v[0]);
    const char *v = sv_cstr(r, &sv_pos(n, 1)->list.v[0]);

    config_unset(k);
    if (ts.nconfig == TS_CONFIG_MAX)
        return sv_rerror(r, n, "test_config_set: too many settings");
    ts.config[ts.nconfig][0] = xstrdup(k);
    ts.config[ts.nconfig++][1] = xstrdup(v);
    config_apply();
    return 0;
}

static int config_unset_exec(struct sv_run *r, struct sv_node *n)
{
    config_unset(sv_cstr(r, &sv_pos(n, 0)->list.v[0]));
    config_apply();
    return 0;
}

/* test_config_reload [:extension NAME]: the engine reads the host's
   settings at every run, so reloading is applying them */
static int config_reload_exec(struct sv_run *r, struct sv_node *n)
{
    (void)r;
    (void)n;
    config_apply();
    return 0;
}

/* --- binaries, several scripts, metadata ---------------------------------------------- */

static int binary_save_exec(struct sv_run *r, struct sv_node *n)
{
    const char *name = sv_cstr(r, &sv_pos(n, 0)->list.v[0]);
    size_t i;

    if (ts.script == NULL)
        return sv_rerror(r, n, "test_binary_save: no script compiled");
    for (i = 0; i < ts.nbinaries; i++)
        if (strcmp(ts.binaries[i].name, name) == 0)
            break;
    if (i == ts.nbinaries) {
        if (ts.nbinaries == TS_BINARIES_MAX)
            return sv_rerror(r, n, "test_binary_save: too many binaries");
        ts.binaries[ts.nbinaries++].name = xstrdup(name);
    }
    ts.binaries[i].script = ts.script;
    return 0;
}

static int binary_load_exec(struct sv_run *r, struct sv_node *n)
{
    const char *name = sv_cstr(r, &sv_pos(n, 0)->list.v[0]);

    for (size_t i = 0; i < ts.nbinaries; i++)
        if (strcmp(ts.binaries[i].name, name) == 0) {
            if (ts.script != ts.binaries[i].script)
                drop_script();
            ts.script = ts.binaries[i].script;
            return 0;
        }
    return sv_rerror(r, n, "test_binary_load: no binary \"%.60s\"", name);
}

static int multiscript_exec(struct sv_run *r, struct sv_node *n)
{
    struct sieve_result *res = sv_run_result(r);
    struct sv_strlist paths;
    int stopped = 0;

    sv_eval_list(r, &sv_pos(n, 0)->list, &paths);
    reset_result(res);
    for (size_t i = 0; i < paths.n; i++) {
        const char *name = sv_cstr(r, &paths.v[i]);
        struct str errors = STR_INIT;
        struct sieve_script *s;
        char path[8192];
        int rc;
        if (stopped && i + 1 < paths.n)
            continue; /* "stop" skips to the last script */
        snprintf(path, sizeof(path), "%s%s%s", name[0] == '/' ? "" : ts.dir,
                 name[0] == '/' ? "" : "/", name);
        if (sieve_compile_file(path, name, &ts.host, &s, &errors) < 0) {
            record_errors(&errors);
        compile_failed();
            str_free(&errors);
            return 0;
        }
        str_free(&errors);
        rc = sieve_execute(s, &ts.msg, &ts.host, res);
        retire(s);
        if (rc < 0)
            return run_failed(res);
        stopped |= rc == 1;
    }
    return result_execute_exec(r, n);
}

static int imap_metadata_set_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sv_tagval *mb = sv_tag(n, "mailbox");
    const char *box_name = mb ? sv_cstr(r, &mb->param->list.v[0]) : "";
    const char *key = sv_cstr(r, &sv_pos(n, 0)->list.v[0]);
    const char *val = sv_cstr(r, &sv_pos(n, 1)->list.v[0]);
    size_t i;

    for (i = 0; i < ts.nmetadata; i++)
        if (strcmp(ts.metadata[i][0], box_name) == 0 &&
            strcasecmp(ts.metadata[i][1], key) == 0)
            break;
    if (i == ts.nmetadata) {
        if (ts.nmetadata == TS_METADATA_MAX)
            return sv_rerror(r, n, "test_imap_metadata_set: too many");
        ts.metadata[i][0] = xstrdup(box_name);
        ts.metadata[i][1] = xstrdup(key);
        ts.metadata[i][2] = NULL;
        ts.nmetadata++;
    }
    free(ts.metadata[i][2]);
    ts.metadata[i][2] = xstrdup(val);
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
    {"test_config_unset", 0, "S", 0, 0, 0, NULL, config_unset_exec},
    {"test_config_reload", 0, "", 0, 0, 0, NULL, config_reload_exec},
    {"test_message_print", 0, "", 0, 0, 0, NULL, message_print_exec},
    {"test_mailbox_delete", 0, "S", 0, 0, 0, NULL, mailbox_delete_exec},
    {"test_binary_save", 0, "S", 0, 0, 0, NULL, binary_save_exec},
    {"test_binary_load", 0, "S", 0, 0, 0, NULL, binary_load_exec},
    {"test_multiscript", 1, "L", 0, 0, 0, NULL, multiscript_exec},
    {"test_imap_metadata_set", 0, "SS", 0, 0, 0, NULL,
     imap_metadata_set_exec},
};

static const struct sv_tagdef ts_tags[] = {
    {"smtp", SV_G_OTHER, 0, 0, " test_message "},
    {"folder", SV_G_OTHER, 1, 'S', " test_message "},
    {"mailbox", SV_G_OTHER, 2, 'S', " test_message test_imap_metadata_set "},
    {"extension", SV_G_NONE, 0, 'S', " test_config_reload "},
    {"append_result", SV_G_NONE, 0, 0, " test_script_run "},
    {"index", SV_G_NONE, 0, 'N', " test_result_action test_result test_error "},
};

static const struct sv_ext ts_ext = {
    "vnd.dovecot.testsuite", ts_cmds, sizeof(ts_cmds) / sizeof(ts_cmds[0]),
    ts_tags, sizeof(ts_tags) / sizeof(ts_tags[0]), 1, 0};

static int is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

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
    if (argc == 3 && strcmp(argv[1], "-p") == 0) {
        ts.pigeonhole = 1;
        argv++;
        argc--;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: postern-sieve-test [-p] FILE.svtest\n"
                        "       postern-sieve-test -V\n");
        return 64;
    }
    sieve_ext_register(&ts_ext);
    copy = xstrdup(argv[1]);
    {   /* absolute: ${tst.path} and paths built from it stay valid */
        char *abs = realpath(dirname(copy), NULL);
        snprintf(ts.dir, sizeof(ts.dir), "%s", abs ? abs : ".");
        free(abs);
    }
    free(copy);
    snprintf(ts.incdir, sizeof(ts.incdir), "%s/included", ts.dir);
    if (!is_dir(ts.incdir))
        snprintf(ts.incdir, sizeof(ts.incdir), "%s/include", ts.dir);
    snprintf(ts.globaldir, sizeof(ts.globaldir), "%s/included-global",
             ts.dir);
    if (!is_dir(ts.globaldir))
        snprintf(ts.globaldir, sizeof(ts.globaldir), "%s", ts.incdir);
    ts.host.personal_dir = ts.incdir;
    ts.host.global_dir = ts.globaldir;
    ts.host.delimiters = ts.delims;
    config_apply();
    ts.host.default_folder = "INBOX";
    ts.host.domain = "example.com";
    ts.host.hostname = "mx.example.com";
    ts.host.mailbox_exists = exists_cb;
    ts.host.duplicate = duplicate_cb;
    ts.host.var_namespace = var_namespace_cb;
    ts.host.allow_extra = 1;
    {   /* extlists: "tag:NAME" is the file lists/NAME beside the .svtest */
        static char listdir[4200];
        snprintf(listdir, sizeof(listdir), "%s/lists", ts.dir);
        sieve_lists_dir(&ts.host, listdir);
    }
    {   /* Pigeonhole's testsuite starts with this message */
        static const char dflt[] = "From: sender@example.com\n"
            "To: recipient@example.org\nSubject: Frop!\n\nFriep!\n";
        set_message(NULL, dflt, sizeof(dflt) - 1);
    }
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
    drop_script();
    for (size_t i = 0; i < ts.nretired; i++)
        sieve_script_free(ts.retired[i]);
    free(ts.retired);
    for (size_t i = 0; i < ts.nbinaries; i++) {
        int dup = 0;
        for (size_t k = 0; k < i; k++)
            dup |= ts.binaries[k].script == ts.binaries[i].script;
        if (!dup)
            sieve_script_free(ts.binaries[i].script);
    }
    return ts.nfail ? 1 : 0;
}
