/*
 * postfixq - postsuper and postqueue for the admin command (postfixq.h).
 */
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "log.h"
#include "postfixq.h"
#include "str.h"

#define PFQ_OUTPUT_MAX 65536

/* summary - N of postsuper's "<what>: N message(s)" line; -1 if none */
static int summary(const char *out, const char *what)
{
    size_t wl = strlen(what);
    const char *l = out;

    for (;;) {
        const char *nl = strchr(l, '\n');
        const char *p = strstr(l, what);
        char *end;
        long n;

        if (p && (!nl || p < nl) && !strncmp(p + wl, ": ", 2)) {
            n = strtol(p + wl + 2, &end, 10);
            if (end != p + wl + 2 && n >= 0 && !strncmp(end, " message", 8))
                return n > PFQ_IDS_MAX ? PFQ_IDS_MAX : (int)n;
        }
        if (!nl)
            return -1;
        l = nl + 1;
    }
}

/* first_line - the first line of out, sanitized, for an error */
static const char *first_line(const char *out)
{
    return log_safe(out, strcspn(out, "\n"));
}

int pfq_hold_op(const char *path, const char *op, char *const *ids, int n,
                struct str *err)
{
    char *argv[2 * PFQ_IDS_MAX + 3];
    struct str out = STR_INIT;
    const char *what = !strcmp(op, "-H") ? "Released from hold" : "Deleted";
    int k = 0, st, count = -1;

    if (n < 1 || n > PFQ_IDS_MAX)
        return str_appendf(err, "%d queue IDs (1..%d per run)", n,
                           PFQ_IDS_MAX), -1;
    argv[k++] = "postsuper";
    for (int i = 0; i < n; i++) {
        argv[k++] = (char *)op;
        argv[k++] = ids[i];
    }
    argv[k++] = "hold";
    argv[k] = NULL;
    st = child_run(path, argv, NULL, 0, &out, PFQ_OUTPUT_MAX, PFQ_TIMEOUT_MS,
                   err);
    if (st > 0)
        str_appendf(err, "%s %s exited with status %d: %s", path, op, st,
                    first_line(str_cstr(&out)));
    else if (st == 0 && (count = summary(str_cstr(&out), what)) < 0)
        str_appendf(err, "%s %s printed no \"%s: N messages\" line (%s), so "
                    "what it did is unknown", path, op, what,
                    first_line(str_cstr(&out)));
    str_free(&out);
    return count;
}

int pfq_flush_one(const char *path, const char *id, struct str *err)
{
    char *argv[] = {"postqueue", "-i", (char *)id, NULL};
    struct str out = STR_INIT;
    int st = child_run(path, argv, NULL, 0, &out, PFQ_OUTPUT_MAX,
                       PFQ_TIMEOUT_MS, err);

    if (st > 0)
        str_appendf(err, "%s -i %s exited with status %d: %s", path, id, st,
                    first_line(str_cstr(&out)));
    str_free(&out);
    return st == 0 ? 0 : -1;
}
