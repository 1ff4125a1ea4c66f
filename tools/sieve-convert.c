/*
 * sieve-convert - postern-sieve convert: rewrite Sieve scripts written for
 * Cyrus or an old Dovecot so that postern-lda files mail where they did.
 *
 *   postern-sieve convert [--dry-run] [--from-cyrus] [--separator .|/]
 *                 [-G GLOBALDIR] [--max-depth N] FILE...|DIR...
 *
 * Folder names (the folder of fileinto, the strings after :fcc and
 * :mailbox, the names of mailboxexists, the mailbox of metadata,
 * metadataexists and specialuse_exists) are converted by
 * sieve_convert_folder: modified UTF-7 (RFC 3501 5.1.3; "Entw&APw-rfe")
 * to UTF-8 ("Entwürfe"), the old hierarchy separator (--separator,
 * default '.') to '/', and with --from-cyrus the Cyrus "INBOX." prefix
 * removed ("INBOX.Sent" -> "Sent"; "INBOX" stays).  With --from-cyrus
 * also: require "imapflags" -> "imap4flags", and its commands "mark" /
 * "unmark" -> addflag / removeflag "\\Flagged" (setflag, addflag,
 * removeflag and hasflag are the same in both).  Vacation (:days ...) is
 * left as it is.
 *
 * The script is scanned token by token as RFC 5228 section 8.1 defines
 * them (comments, quoted strings with escapes, text: blocks); only the
 * string literals named above are replaced, everything else is copied
 * byte for byte.  A name with a variable ("${...}") or in a text: block
 * is left alone (noted).
 *
 * A DIR argument is walked (sv_walk: bounded, no symbolic links, no
 * Maildir folders) and every regular file NAME.sieve, NAME.script
 * (Cyrus), .postern.sieve or .dovecot.sieve in it converted.  A FILE
 * argument that is a symbolic link converts the file it names.
 *
 * Safety: the converted script must compile (include :personal in the
 * script's directory, or <dir>/sieve for an active script; :global in
 * GLOBALDIR), else the file is left untouched and the errors are printed.
 * The new text is written to a temporary file beside the script (mode and,
 * as root, owner copied; fsync), the original is kept as FILE.bak
 * (FILE.bak.1 ... .9 when taken; a hard link, so the script never
 * disappears) and the new file renamed over FILE.  --dry-run writes
 * nothing there: it prints a unified diff (diff -u) of each change.
 *
 * Output: one line per file on stderr ("FILE: converted (N changes,
 * backup FILE.bak)", "unchanged", "would convert", "refused: ...") with
 * notes below it, then "N files, N converted, N unchanged, N refused".
 * Exit: 0 no file refused, 1 at least one refused, 75 an I/O error, 64
 * usage.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "file.h"
#include "mem.h"
#include "mutf7.h"
#include "sieve.h"
#include "sieve-tools.h"
#include "storage.h"

/* --- one folder name ------------------------------------------------------ */

int sieve_convert_folder(const char *in, size_t len, char sep,
                         int strip_inbox, struct str *out, const char **warn)
{
    struct str dec = STR_INIT;
    const char *p = in;
    size_t n = len;
    int ascii = 1;

    *warn = NULL;
    str_reset(out);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)in[i] >= 0x80)
            ascii = 0;
    if (memmem(in, len, "${", 2) != NULL) {
        *warn = "contains a variable; left as it is";
        str_append(out, in, len);
        return 0;
    }
    if (ascii && memchr(in, '&', len) != NULL) {
        if (mutf7_decode(in, len, &dec) == 0)
            p = dec.data, n = dec.len;
        else
            *warn = "'&' but not valid modified UTF-7; left as written";
    }
    if (strip_inbox && n > 6 && strncasecmp(p, "INBOX", 5) == 0 &&
        p[5] == sep)
        p += 6, n -= 6;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == sep)
            c = '/';
        else if (sep == '/' && c == '.' && *warn == NULL)
            *warn = "'.' is a hierarchy separator for postern-lda too";
        str_append_char(out, c);
    }
    str_free(&dec);
    return out->len != len || memcmp(str_cstr(out), in, len) != 0;
}

/* --- the scanner (RFC 5228 8.1) ------------------------------------------- */

enum tok_type { T_IDENT, T_TAG, T_NUM, T_STR, T_TEXT, T_PUNCT };

struct tok {
    enum tok_type type;
    size_t start, end;   /* the raw bytes [start, end) */
    unsigned line;
    struct str value;    /* T_STR: the decoded value */
};

struct scan {
    const char *t;
    size_t len, pos;
    unsigned line;
    struct tok *toks;
    size_t n, cap;
};

static void scan_note(struct str *notes, unsigned line, const char *what)
{
    str_appendf(notes, "line %u: %s\n", line, what);
}

static struct tok *tok_add(struct scan *s, enum tok_type type, size_t start)
{
    struct tok *k;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->toks = xrealloc(s->toks, s->cap * sizeof(*s->toks));
    }
    k = &s->toks[s->n++];
    memset(k, 0, sizeof(*k));
    k->type = type;
    k->start = start;
    k->line = s->line;
    return k;
}

static int scan_string(struct scan *s, struct str *notes)
{
    struct tok *k = tok_add(s, T_STR, s->pos);
    unsigned line = s->line;

    s->pos++;
    while (s->pos < s->len && s->t[s->pos] != '"') {
        char c = s->t[s->pos];
        if (c == '\\' && s->pos + 1 < s->len)
            c = s->t[++s->pos];
        if (c == '\n')
            s->line++;
        str_append_char(&k->value, c);
        s->pos++;
    }
    if (s->pos >= s->len)
        return scan_note(notes, line, "unterminated string"), -1;
    k->end = ++s->pos;
    return 0;
}

/* text: [ws] [# comment] LF ... LF "." LF */
static int scan_text(struct scan *s, struct str *notes)
{
    struct tok *k = tok_add(s, T_TEXT, s->pos);
    unsigned line = s->line;
    const char *nl;

    for (;;) {
        nl = memchr(s->t + s->pos, '\n', s->len - s->pos);
        if (nl == NULL)
            return scan_note(notes, line, "unterminated text: block"), -1;
        s->pos = (size_t)(nl - s->t) + 1;
        s->line++;
        if (s->pos + 1 < s->len && s->t[s->pos] == '.' &&
            (s->t[s->pos + 1] == '\n' ||
             (s->t[s->pos + 1] == '\r' && s->pos + 2 < s->len &&
              s->t[s->pos + 2] == '\n')))
            break;
    }
    s->pos += s->t[s->pos + 1] == '\r' ? 3 : 2;
    s->line++;
    k->end = s->pos;
    return 0;
}

static int scan(struct scan *s, struct str *notes)
{
    while (s->pos < s->len) {
        const char *t = s->t;
        char c = t[s->pos];
        size_t st = s->pos;
        if (c == '\n') {
            s->line++;
            s->pos++;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            s->pos++;
        } else if (c == '#') {
            while (s->pos < s->len && t[s->pos] != '\n')
                s->pos++;
        } else if (c == '/' && s->pos + 1 < s->len && t[s->pos + 1] == '*') {
            unsigned line = s->line;
            s->pos += 2;
            while (s->pos + 1 < s->len &&
                   !(t[s->pos] == '*' && t[s->pos + 1] == '/'))
                s->line += t[s->pos++] == '\n';
            if (s->pos + 1 >= s->len)
                return scan_note(notes, line, "unterminated comment"), -1;
            s->pos += 2;
        } else if (c == '"') {
            if (scan_string(s, notes) < 0)
                return -1;
        } else if (s->len - s->pos >= 5 &&
                   strncasecmp(t + s->pos, "text:", 5) == 0) {
            if (scan_text(s, notes) < 0)
                return -1;
        } else if (isalpha((unsigned char)c) || c == '_' || c == ':') {
            s->pos++;
            while (s->pos < s->len && (isalnum((unsigned char)t[s->pos]) ||
                                       t[s->pos] == '_'))
                s->pos++;
            tok_add(s, c == ':' ? T_TAG : T_IDENT, st)->end = s->pos;
        } else if (isdigit((unsigned char)c)) {
            while (s->pos < s->len && isalnum((unsigned char)t[s->pos]))
                s->pos++;
            tok_add(s, T_NUM, st)->end = s->pos;
        } else {
            s->pos++;
            tok_add(s, T_PUNCT, st)->end = s->pos;
        }
    }
    return 0;
}

/* --- which strings are folder names ---------------------------------------- */

/* tags that take one argument (the next string, list or number) */
static const char *const tag_args[] = {
    "comparator", "flags", "specialuse", "mailboxid", "fcc", "mailbox",
    "from", "subject", "handle", "addresses", "days", "seconds",
    "importance", "message", "options", "value", "count", "index", "zone",
    "header", "uniqueid", "param", "first", "method", "list", NULL};

struct edit {
    size_t start, end;
    struct str text;
};

struct conv {
    struct scan *s;
    const struct sv_convert_opts *o;
    struct edit *edits;
    size_t nedits, cap;
    int imapflags;       /* require "imapflags" seen */
    struct str *notes;
};

static int tok_is(const struct conv *c, size_t i, const char *word)
{
    const struct tok *k = &c->s->toks[i];
    size_t n = strlen(word);

    return k->end - k->start == n &&
           strncasecmp(c->s->t + k->start, word, n) == 0;
}

static void edit_add(struct conv *c, size_t start, size_t end,
                     const char *text, size_t len)
{
    struct edit *e;

    if (c->nedits == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->edits = xrealloc(c->edits, c->cap * sizeof(*c->edits));
    }
    e = &c->edits[c->nedits++];
    e->start = start;
    e->end = end;
    memset(&e->text, 0, sizeof(e->text));
    str_append(&e->text, text, len);
}

static void quote(struct str *out, const char *s, size_t n)
{
    str_append_char(out, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            str_append_char(out, '\\');
        str_append_char(out, s[i]);
    }
    str_append_char(out, '"');
}

static void folder_tok(struct conv *c, size_t i)
{
    struct tok *k = &c->s->toks[i];
    struct str out = STR_INIT, raw = STR_INIT, note = STR_INIT;
    const char *warn;

    if (k->type == T_TEXT) {
        scan_note(c->notes, k->line, "a folder name in a text: block is "
                  "not converted");
        return;
    }
    if (k->type != T_STR)
        return;
    if (sieve_convert_folder(str_cstr(&k->value), k->value.len, c->o->sep,
                             c->o->from_cyrus, &out, &warn)) {
        quote(&raw, str_cstr(&out), out.len);
        edit_add(c, k->start, k->end, raw.data, raw.len);
    }
    if (warn) {
        str_append_char(&note, '"');
        str_append(&note, str_cstr(&k->value), k->value.len);
        str_appendf(&note, "\": %s", warn);
        scan_note(c->notes, k->line, str_cstr(&note));
    }
    str_free(&out);
    str_free(&raw);
    str_free(&note);
}

/* an argument of the command: tokens [first, last] (a list: its brackets) */
struct arg {
    size_t first, last;
    int tag_arg;         /* the argument of a tag (see tag_args) */
    int is_tag;
};

static int takes_arg(const struct conv *c, size_t i)
{
    for (size_t t = 0; tag_args[t]; t++) {
        size_t n = strlen(tag_args[t]);
        const struct tok *k = &c->s->toks[i];
        if (k->end - k->start == n + 1 &&
            strncasecmp(c->s->t + k->start + 1, tag_args[t], n) == 0)
            return 1;
    }
    return 0;
}

/* every string of the argument */
static void folder_arg(struct conv *c, const struct arg *a)
{
    for (size_t i = a->first; i <= a->last; i++)
        folder_tok(c, i);
}

static void cyrus_require(struct conv *c, const struct arg *a)
{
    for (size_t i = a->first; i <= a->last; i++) {
        struct tok *k = &c->s->toks[i];
        if (k->type == T_STR && strcmp(str_cstr(&k->value), "imapflags") == 0) {
            c->imapflags = 1;
            edit_add(c, k->start, k->end, "\"imap4flags\"", 12);
        }
    }
}

/* finish - the command or test that began at token cmd, with its
   arguments, ended by token end (or the end of the text) */
static void finish(struct conv *c, size_t cmd, const struct arg *args,
                   size_t nargs, size_t end)
{
    const struct arg *pos[64];
    size_t npos = 0;

    for (size_t i = 0; i < nargs; i++) {
        if (args[i].is_tag && i + 1 < nargs && args[i + 1].tag_arg &&
            (tok_is(c, args[i].first, ":fcc") ||
             tok_is(c, args[i].first, ":mailbox")))
            folder_arg(c, &args[i + 1]);
        if (!args[i].is_tag && !args[i].tag_arg && npos < 64)
            pos[npos++] = &args[i];
    }
    if (tok_is(c, cmd, "fileinto") && npos > 0)
        folder_arg(c, pos[npos - 1]);
    else if (tok_is(c, cmd, "mailboxexists"))
        for (size_t i = 0; i < npos; i++)
            folder_arg(c, pos[i]);
    else if ((tok_is(c, cmd, "metadata") || tok_is(c, cmd, "metadataexists")) &&
             npos > 0)
        folder_arg(c, pos[0]);
    else if (tok_is(c, cmd, "specialuse_exists") && npos == 2)
        folder_arg(c, pos[0]);
    else if (c->o->from_cyrus && tok_is(c, cmd, "require"))
        for (size_t i = 0; i < npos; i++)
            cyrus_require(c, pos[i]);
    else if (c->o->from_cyrus && c->imapflags && nargs == 0 &&
             end < c->s->n && tok_is(c, end, ";") &&
             (tok_is(c, cmd, "mark") || tok_is(c, cmd, "unmark"))) {
        const char *r = tok_is(c, cmd, "mark") ? "addflag \"\\\\Flagged\""
                                               : "removeflag \"\\\\Flagged\"";
        edit_add(c, c->s->toks[cmd].start, c->s->toks[cmd].end, r,
                 strlen(r));
    }
}

static void convert_tokens(struct conv *c)
{
    struct arg args[256];
    size_t nargs = 0, cmd = (size_t)-1, list_start = 0;
    int in_list = 0, next_tag_arg = 0;

    for (size_t i = 0; i < c->s->n; i++) {
        const struct tok *k = &c->s->toks[i];
        char p = k->type == T_PUNCT ? c->s->t[k->start] : 0;
        if (in_list) {
            if (p == ']') {
                in_list = 0;
                if (cmd != (size_t)-1 && nargs < 256)
                    args[nargs++] = (struct arg){list_start, i, next_tag_arg,
                                                 0};
                next_tag_arg = 0;
            }
            continue;
        }
        if (k->type == T_IDENT) {
            if (cmd != (size_t)-1)
                finish(c, cmd, args, nargs, i);
            cmd = i;
            nargs = 0;
            next_tag_arg = 0;
        } else if (k->type == T_TAG) {
            if (cmd != (size_t)-1 && nargs < 256)
                args[nargs++] = (struct arg){i, i, 0, 1};
            next_tag_arg = takes_arg(c, i);
        } else if (k->type != T_PUNCT) {
            if (cmd != (size_t)-1 && nargs < 256)
                args[nargs++] = (struct arg){i, i, next_tag_arg, 0};
            next_tag_arg = 0;
        } else if (p == '[') {
            in_list = 1;
            list_start = i;
        } else if (cmd != (size_t)-1) {
            finish(c, cmd, args, nargs, i);
            cmd = (size_t)-1;
            nargs = 0;
            next_tag_arg = 0;
        }
    }
    if (cmd != (size_t)-1)
        finish(c, cmd, args, nargs, c->s->n);
}

static int cmp_edits(const void *a, const void *b)
{
    const struct edit *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

int sieve_convert_text(const char *text, size_t len,
                       const struct sv_convert_opts *o, struct str *out,
                       struct str *notes)
{
    struct scan s;
    struct conv c;
    size_t at = 0;
    int rc;

    memset(&s, 0, sizeof(s));
    memset(&c, 0, sizeof(c));
    s.t = text;
    s.len = len;
    s.line = 1;
    c.s = &s;
    c.o = o;
    c.notes = notes;
    str_reset(out);
    if (scan(&s, notes) < 0) {
        rc = -1;
    } else {
        convert_tokens(&c);
        if (c.nedits > 1)
            qsort(c.edits, c.nedits, sizeof(*c.edits), cmp_edits);
        for (size_t i = 0; i < c.nedits; i++) {
            if (c.edits[i].start < at)
                continue;
            str_append(out, text + at, c.edits[i].start - at);
            str_append(out, c.edits[i].text.data, c.edits[i].text.len);
            at = c.edits[i].end;
        }
        str_append(out, text + at, len - at);
        rc = (int)c.nedits;
    }
    for (size_t i = 0; i < c.nedits; i++)
        str_free(&c.edits[i].text);
    free(c.edits);
    for (size_t i = 0; i < s.n; i++)
        str_free(&s.toks[i].value);
    free(s.toks);
    return rc;
}

/* --- files ------------------------------------------------------------------ */

struct run {
    struct sv_convert_opts o;
    const char *global_dir;
    int dry_run;
    long files, converted, unchanged, refused, io_errors;
};

static void print_notes(const struct str *notes)
{
    const char *p = str_cstr(notes);

    while (*p) {
        const char *nl = strchr(p, '\n');
        int n = (int)(nl ? nl - p : (long)strlen(p));
        fprintf(stderr, "  %.*s\n", n, p);
        p += n + (nl != NULL);
    }
}

/* write_temp - text into a new file made from templ (mkstemp), mode and
   owner of st; the fd closed; 0 or -1 (errno) */
static int write_temp(char *templ, const struct str *text,
                      const struct stat *st)
{
    int fd = mkstemp(templ), rc = 0;

    if (fd < 0)
        return -1;
    if (file_write_all(fd, text->data ? text->data : "", text->len) < 0 ||
        (st && fchmod(fd, st->st_mode & 07777) < 0) ||
        (st && geteuid() == 0 && fchown(fd, st->st_uid, st->st_gid) < 0) ||
        fsync(fd) < 0)
        rc = -1;
    if (close(fd) < 0)
        rc = -1;
    if (rc < 0) {
        int e = errno;
        (void)unlink(templ);
        errno = e;
    }
    return rc;
}

/* show_diff - diff -u of path and the new text; 0 or -1 */
static int show_diff(const char *path, const struct str *text)
{
    const char *tmpdir = getenv("TMPDIR");
    struct str templ = STR_INIT, label = STR_INIT;
    pid_t pid;
    int status = -1, rc = 0;

    str_appendf(&templ, "%s/postern-sieve-convert.XXXXXX",
                tmpdir && tmpdir[0] ? tmpdir : "/tmp");
    str_appendf(&label, "%s (converted)", path);
    if (write_temp(templ.data, text, NULL) < 0) {
        fprintf(stderr, "postern-sieve: %s: %s\n", str_cstr(&templ),
                strerror(errno));
        str_free(&templ);
        str_free(&label);
        return -1;
    }
    fflush(stdout);
    if ((pid = fork()) == 0) {
        execlp("diff", "diff", "-u", "--label", path, "--label",
               str_cstr(&label), path, str_cstr(&templ), (char *)NULL);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) > 1) {
        fprintf(stderr, "postern-sieve: diff -u failed\n");
        rc = -1;
    }
    (void)unlink(str_cstr(&templ));
    str_free(&templ);
    str_free(&label);
    return rc;
}

/* replace - the new text over path, the old one kept as a backup;
   0 or -1 with *err */
static int replace(const char *path, const struct stat *st,
                   const struct str *text, struct str *backup,
                   struct str *err)
{
    char *dcopy = xstrdup(path), *bcopy = xstrdup(path);
    const char *dir = dirname(dcopy), *base = basename(bcopy);
    struct str templ = STR_INIT;
    int rc = -1, dfd;

    str_appendf(&templ, "%s/.%s.convert.XXXXXX", dir, base);
    if (write_temp(templ.data, text, st) < 0) {
        str_appendf(err, "%s: %s", str_cstr(&templ), strerror(errno));
        goto out;
    }
    for (int k = 0; k < 10; k++) {
        str_reset(backup);
        str_appendf(backup, k ? "%s.bak.%d" : "%s.bak", path, k);
        if (link(path, str_cstr(backup)) == 0)
            break;
        if (errno != EEXIST || k == 9) {
            str_appendf(err, "backup %s: %s", str_cstr(backup),
                        strerror(errno));
            (void)unlink(str_cstr(&templ));
            goto out;
        }
    }
    if (rename(str_cstr(&templ), path) < 0) {
        str_appendf(err, "rename %s: %s", str_cstr(&templ), strerror(errno));
        (void)unlink(str_cstr(&templ));
        (void)unlink(str_cstr(backup));
        goto out;
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    str_free(&templ);
    free(dcopy);
    free(bcopy);
    return rc;
}

/* personal_dir - where include :personal looks for this script */
static void personal_dir(const char *path, struct str *out)
{
    char *dcopy = xstrdup(path), *bcopy = xstrdup(path);
    const char *base = basename(bcopy);

    str_append_cstr(out, dirname(dcopy));
    if (strcmp(base, SIEVE_STORAGE_ACTIVE) == 0 ||
        strcmp(base, ".dovecot.sieve") == 0)
        str_append_cstr(out, "/" SIEVE_STORAGE_DIR);
    free(dcopy);
    free(bcopy);
}

static void convert_file(struct run *r, const char *path)
{
    struct str text = STR_INIT, out = STR_INIT, notes = STR_INIT,
               errors = STR_INIT, personal = STR_INIT, backup = STR_INIT;
    struct sieve_host host;
    struct sieve_script *s;
    struct stat st;
    int n;

    r->files++;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        r->io_errors++;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "%s: not a regular file\n", path);
        r->io_errors++;
        goto out;
    }
    if (file_read("script", path, SIEVE_SCRIPT_MAX, 0, &text, &errors) < 0) {
        fprintf(stderr, "%s\n", str_cstr(&errors));
        r->io_errors++;
        goto out;
    }
    n = sieve_convert_text(text.data ? text.data : "", text.len, &r->o,
                           &out, &notes);
    if (n < 0) {
        fprintf(stderr, "%s: refused: cannot be read as Sieve\n", path);
        print_notes(&notes);
        r->refused++;
        goto out;
    }
    if (n == 0) {
        fprintf(stderr, "%s: unchanged\n", path);
        print_notes(&notes);
        r->unchanged++;
        goto out;
    }
    personal_dir(path, &personal);
    memset(&host, 0, sizeof(host));
    host.personal_dir = str_cstr(&personal);
    host.global_dir = r->global_dir;
    host.default_folder = "INBOX";
    if (sieve_compile(path, out.data, out.len, &host, &s, &errors) < 0) {
        fprintf(stderr, "%s: refused: the converted script does not compile; "
                "the file is left as it is\n", path);
        print_notes(&errors);
        print_notes(&notes);
        r->refused++;
        goto out;
    }
    sieve_script_free(s);
    if (r->dry_run) {
        fprintf(stderr, "%s: would convert (%d change%s)\n", path, n,
                n == 1 ? "" : "s");
        print_notes(&notes);
        if (show_diff(path, &out) < 0)
            r->io_errors++;
        r->converted++;
        goto out;
    }
    str_reset(&errors);
    if (replace(path, &st, &out, &backup, &errors) < 0) {
        fprintf(stderr, "%s: not converted: %s\n", path, str_cstr(&errors));
        r->io_errors++;
        goto out;
    }
    fprintf(stderr, "%s: converted (%d change%s, backup %s)\n", path, n,
            n == 1 ? "" : "s", str_cstr(&backup));
    print_notes(&notes);
    r->converted++;
out:
    str_free(&text);
    str_free(&out);
    str_free(&notes);
    str_free(&errors);
    str_free(&personal);
    str_free(&backup);
}

static int script_name(const char *n)
{
    size_t len = strlen(n);

    if (strcmp(n, SIEVE_STORAGE_ACTIVE) == 0 ||
        strcmp(n, ".dovecot.sieve") == 0)
        return 1;
    if (n[0] == '.')
        return 0;
    return (len > 6 && strcmp(n + len - 6, ".sieve") == 0) ||
           (len > 7 && strcmp(n + len - 7, ".script") == 0);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int convert_dir(void *ctx, const char *path, const char *rel,
                       int depth)
{
    struct run *r = ctx;
    DIR *d = opendir(path);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    long seen = 0;

    (void)rel;
    (void)depth;
    if (d == NULL) {
        fprintf(stderr, "postern-sieve: %s: %s\n", path, strerror(errno));
        r->io_errors++;
        return 0;
    }
    while ((e = readdir(d)) != NULL && seen++ < SV_DIR_ENTRIES_MAX) {
        struct str p = STR_INIT;
        struct stat st;
        str_appendf(&p, "%s/%s", path, e->d_name);
        if (script_name(e->d_name) && lstat(str_cstr(&p), &st) == 0 &&
            S_ISREG(st.st_mode)) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                names = xrealloc(names, cap * sizeof(char *));
            }
            names[n++] = xstrdup(str_cstr(&p));
        }
        str_free(&p);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(char *), cmp_names);
    for (size_t i = 0; i < n; i++) {
        if (r->files < SV_SCRIPTS_MAX)
            convert_file(r, names[i]);
        free(names[i]);
    }
    free(names);
    return r->files < SV_SCRIPTS_MAX ? 1 : -1;
}

static void convert_err(void *ctx, const char *path, int errnum)
{
    struct run *r = ctx;

    r->io_errors++;
    fprintf(stderr, "postern-sieve: %s: %s\n", path,
            errnum == E2BIG ? "too many entries; not searched"
                            : strerror(errnum));
}

static void convert_usage(void)
{
    fprintf(stderr, "usage: postern-sieve convert [--dry-run] [--from-cyrus] "
                    "[--separator .|/] [-G GLOBALDIR] [--max-depth N] "
                    "FILE...|DIR...\n");
}

int sieve_convert_main(int argc, char **argv)
{
    struct run r;
    long depth = SV_WALK_DEPTH;
    int i;

    memset(&r, 0, sizeof(r));
    r.o.sep = '.';
    r.global_dir = "/etc/postern/sieve";
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--dry-run") == 0 || strcmp(a, "-n") == 0)
            r.dry_run = 1;
        else if (strcmp(a, "--from-cyrus") == 0)
            r.o.from_cyrus = 1;
        else if (strcmp(a, "--separator") == 0 && i + 1 < argc &&
                 (strcmp(argv[i + 1], ".") == 0 ||
                  strcmp(argv[i + 1], "/") == 0))
            r.o.sep = argv[++i][0];
        else if (strcmp(a, "-G") == 0 && i + 1 < argc)
            r.global_dir = argv[++i];
        else if (strcmp(a, "--max-depth") == 0 && i + 1 < argc) {
            char *end;
            depth = strtol(argv[++i], &end, 10);
            if (*end || depth < 0 || depth > 64)
                return convert_usage(), EX_USAGE;
        } else
            return convert_usage(), EX_USAGE;
    }
    if (i >= argc)
        return convert_usage(), EX_USAGE;
    for (; i < argc; i++) {
        struct stat st;
        if (lstat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            (void)sv_walk(argv[i], (int)depth, convert_dir, &r, convert_err);
        } else {
            char *real = realpath(argv[i], NULL);
            convert_file(&r, real ? real : argv[i]);
            free(real);
        }
    }
    fprintf(stderr, "%ld files, %ld %sconverted, %ld unchanged, %ld refused",
            r.files, r.converted, r.dry_run ? "to be " : "", r.unchanged,
            r.refused);
    if (r.io_errors)
        fprintf(stderr, ", %ld I/O errors", r.io_errors);
    fprintf(stderr, "\n");
    if (r.io_errors)
        return EX_TEMPFAIL;
    return r.refused ? 1 : 0;
}

/* --- includes (for --check) --------------------------------------------------- */

int sieve_scan_includes(const char *text, size_t len, sv_include_fn *fn,
                        void *ctx)
{
    struct scan s;
    struct str notes = STR_INIT;
    int rc = 0;

    memset(&s, 0, sizeof(s));
    s.t = text;
    s.len = len;
    s.line = 1;
    if (scan(&s, &notes) < 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < s.n; i++) {
        const struct tok *k = &s.toks[i];
        int global = 0, optional = 0;
        if (k->type != T_IDENT || k->end - k->start != 7 ||
            strncasecmp(text + k->start, "include", 7) != 0)
            continue;
        for (size_t j = i + 1; j < s.n; j++) {
            const struct tok *a = &s.toks[j];
            size_t n = a->end - a->start;
            if (a->type == T_TAG && n == 7 &&
                strncasecmp(text + a->start, ":global", 7) == 0)
                global = 1;
            else if (a->type == T_TAG && n == 9 &&
                     strncasecmp(text + a->start, ":optional", 9) == 0)
                optional = 1;
            else if (a->type == T_STR) {
                if (!memmem(a->value.data ? a->value.data : "", a->value.len,
                            "${", 2))
                    fn(ctx, k->line, global, optional, str_cstr(&a->value));
                break;
            } else if (a->type != T_TAG)
                break;
        }
    }
    for (size_t i = 0; i < s.n; i++)
        str_free(&s.toks[i].value);
    free(s.toks);
    str_free(&notes);
    return rc;
}
