/*
 * ext_include - "include" (RFC 6609):
 *
 *   include [:personal / :global] [:once] [:optional] <name: string>
 *   return
 *   global <names: string-list>          (needs "variables")
 *
 * :personal (the default) finds NAME.sieve in the host's personal
 * directory (postern-lda: <mailbox>/sieve), :global in the global one
 * ([lda] sieve_global_dir).  A name holding '/' or starting with '.' is
 * refused.  Included scripts are compiled when first reached and kept
 * for the rest of the run; :once skips a script included before or
 * running now (no loop error then, RFC 6609 3.2); an include without
 * :once runs the script again.  :optional makes a missing script (a file
 * that does not exist) no error; a script that exists but does not
 * compile is an error with or without it.  An included script has its
 * own variables except those declared "global" (shared through the
 * "global." namespace too).  "return" ends the current script; "stop"
 * ends all of them.
 *
 * The script the run started with counts as running when it was compiled
 * from a file (sieve_compile_file): an include naming that file (also
 * through a symlink, as <mailbox>/.postern.sieve is) is a loop, or
 * skipped with :once.
 *
 * Limits: SIEVE_INCLUDE_DEPTH nested includes, SIEVE_INCLUDES_MAX
 * distinct scripts per run (the top script takes one); a script
 * including itself (directly or not) without :once is a run-time error
 * "include loop".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sieve-int.h"

static int name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 255 || s[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '/' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int include_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);
    const struct sv_str *s = &a->list.v[0];

    if (sv_literal(s) && !name_ok(s->s, s->len)) {
        sv_verror(v, a->line, "invalid script name \"%.60s\"", s->s);
        return -1;
    }
    return 0;
}

static int global_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);

    if (!sv_has(v->s, &sv_ext_variables)) {
        sv_verror(v, n->line, "'global' requires the \"variables\" "
                  "extension");
        return -1;
    }
    for (size_t i = 0; i < a->list.n; i++)
        if (!sv_literal(&a->list.v[i]) ||
            !sv_var_name_valid(a->list.v[i].s, a->list.v[i].len, 0)) {
            sv_verror(v, a->line, "invalid variable name \"%.60s\"",
                      a->list.v[i].s);
            return -1;
        }
    return 0;
}

/* two paths naming one file (the top script may be a symlink) */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* the included script at path; the top script (entry without a
   compiled script) also when path is another name of its file */
static struct sv_included *lookup(struct sv_run *r, const char *path)
{
    for (size_t i = 0; i < r->ninc; i++)
        if (strcmp(r->inc[i].path, path) == 0 ||
            (r->inc[i].s == NULL && same_file(r->inc[i].path, path)))
            return &r->inc[i];
    return NULL;
}

/* the first include of a run happens in the top script: note it as an
   entry that is running, so that including it again is a loop (or
   skipped with :once) like any running script */
static void note_top(struct sv_run *r)
{
    const char *top = r->fr->s->path;

    if (r->depth != 0 || top == NULL || r->ninc >= SIEVE_INCLUDES_MAX)
        return;
    for (size_t i = 0; i < r->ninc; i++)
        if (r->inc[i].s == NULL)
            return;
    r->inc[r->ninc].path = xstrdup(top);
    r->inc[r->ninc].s = NULL;
    r->inc[r->ninc].done = 1;
    r->inc[r->ninc].active = 1;
    r->ninc++;
}

static int include_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str name = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    int global = sv_tag(n, "global") != NULL;
    const char *dir = r->host ? (global ? r->host->global_dir
                                        : r->host->personal_dir) : NULL;
    struct sv_included *inc;
    struct sv_frame fr, *saved;
    char path[4096];
    int rc, sl;

    if (!name_ok(name.s, name.len))
        return sv_rerror(r, n, "invalid script name \"%.60s\"", name.s);
    note_top(r);
    if (dir == NULL || dir[0] == '\0')
        return sv_rerror(r, n, "no %s script directory is configured",
                         global ? "global" : "personal");
    sl = name.len > 6 && memcmp(name.s + name.len - 6, ".sieve", 6) == 0;
    if ((size_t)snprintf(path, sizeof(path), "%s/%.*s%s", dir,
                         (int)name.len, name.s, sl ? "" : ".sieve") >=
        sizeof(path))
        return sv_rerror(r, n, "script path too long");
    if ((inc = lookup(r, path)) != NULL) {
        /* :once: a script running now counts as included (RFC 6609 3.2:
           no error for a recursive include :once) */
        if (sv_tag(n, "once") && (inc->done || inc->active))
            return 0;
        if (inc->active)
            return sv_rerror(r, n, "include loop: \"%.60s\" is already "
                             "running", name.s);
    } else {
        struct str err = STR_INIT;
        struct sieve_script *s;
        char sname[300];
        if (r->ninc >= SIEVE_INCLUDES_MAX)
            return sv_rerror(r, n, "too many included scripts (max %d)",
                             SIEVE_INCLUDES_MAX);
        snprintf(sname, sizeof(sname), "%.*s", (int)name.len, name.s);
        if (sieve_compile_file(path, sname, r->host, &s, &err) < 0) {
            int missing = errno == ENOENT;
            char *nl;
            if (missing && sv_tag(n, "optional")) {
                str_free(&err);
                return 0;
            }
            if ((nl = strchr(str_cstr(&err), '\n')) != NULL)
                *nl = '\0';
            rc = missing ? sv_rerror(r, n, "included script \"%s\" not "
                                     "found", sname)
                         : sv_rerror(r, n, "included script \"%s\" does "
                                     "not compile: %s", sname,
                                     str_cstr(&err));
            str_free(&err);
            return rc;
        }
        str_free(&err);
        inc = &r->inc[r->ninc++];
        inc->path = xstrdup(path);
        inc->s = s;
        inc->done = 0;
        inc->active = 0;
    }
    if (r->depth >= SIEVE_INCLUDE_DEPTH)
        return sv_rerror(r, n, "includes nested too deep (max %d)",
                         SIEVE_INCLUDE_DEPTH);
    memset(&fr, 0, sizeof(fr));
    fr.s = inc->s;
    saved = r->fr;
    r->fr = &fr;
    r->depth++;
    inc->active = 1;
    inc->done = 1;
    rc = sv_run_script(r, inc->s);
    inc->active = 0;
    r->depth--;
    r->fr = saved;
    return rc;
}

static int return_exec(struct sv_run *r, struct sv_node *n)
{
    (void)n;
    r->ret = 1;
    return 0;
}

static int global_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);
    struct sv_frame *f = r->fr;

    for (size_t i = 0; i < a->list.n; i++) {
        if (f->nglobals == f->gcap) {
            const char **ng;
            f->gcap = f->gcap ? f->gcap * 2 : 8;
            ng = arena_alloc(r->a, f->gcap * sizeof(*ng));
            if (f->nglobals)
                memcpy(ng, f->globals, f->nglobals * sizeof(*ng));
            f->globals = ng;
        }
        f->globals[f->nglobals++] = a->list.v[i].s;
    }
    return 0;
}

void sv_include_free(struct sv_run *r)
{
    for (size_t i = 0; i < r->ninc; i++) {
        sieve_script_free(r->inc[i].s);
        free(r->inc[i].path);
    }
    r->ninc = 0;
}

static const struct sv_cmddef cmds[] = {
    {"include", 0, "S", 0, 0, 0, include_validate, include_exec},
    {"return", 0, "", 0, 0, 0, NULL, return_exec},
    {"global", 0, "L", 0, 0, 0, global_validate, global_exec},
};

static const struct sv_tagdef tags[] = {
    {"personal", SV_G_LOCATION, 0, 0, " include "},
    {"global", SV_G_LOCATION, 1, 0, " include "},
    {"once", SV_G_NONE, 0, 0, " include "},
    {"optional", SV_G_NONE, 0, 0, " include "},
};

const struct sv_ext sv_ext_include = {"include", cmds, 3, tags, 4, 0, 0};
