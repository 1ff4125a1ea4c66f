/*
 * postern-sieve - a dry run of a Sieve script (like Pigeonhole's
 * sieve-test):
 *
 *   postern-sieve [-f SENDER] [-a RECIPIENT] [-m FOLDER] [-d DELIMITERS]
 *                 [-I DIR] [-G DIR] SCRIPT [MESSAGE]
 *
 * Compiles SCRIPT (errors "SCRIPT:LINE: error: ..." on stderr, exit 1),
 * runs it on MESSAGE (a file, "-" for standard input, none for an empty
 * message) and prints the actions postern-lda would take, one per line
 * in the format of docs/sieve.md ("keep", "fileinto FOLDER [flags]",
 * "redirect ADDRESS", "reject TEXT", "ereject TEXT", "discard",
 * "vacation ...", "notify ...").
 *
 *   -f SENDER     envelope sender ("" or "<>" for the null sender);
 *                 without -f the envelope "from" is unknown
 *   -a RECIPIENT  envelope recipient
 *   -m FOLDER     the folder keep files into (default INBOX)
 *   -d DELIMS     subaddress separators (default "+")
 *   -I DIR        include :personal directory (default: the script's)
 *   -G DIR        include :global directory
 *   -r FILE       write the vacation reply (if one is due) to FILE
 *   -u ADDRESS    the user's own address: a redirect to it (or to -a) is
 *                 not done, the message is kept ("note: ..." on stderr)
 *
 * vacation: the RFC 3834 rules are applied with the -a recipient as the
 * user's address and the default periods of postern-lda (1 day minimum,
 * 7 days default, 90 days maximum); the line is "vacation to=SENDER
 * period=SECONDS ... reason="..."" or "vacation suppressed: RULE".  The
 * per-sender period (the database) is not consulted.  spamtest and
 * virustest read postern-lda's default fields (X-Spam-Score with maximum
 * 10, X-Spam-Flag, X-Virus-Status); duplicate is always false.
 *
 * Exit: 0 done, 1 compile error, 2 run-time error (the error on stderr,
 * the fallback "keep" on stdout), 64 usage, 66 unreadable message.
 *
 * The migration modes, when the first argument names them:
 *
 *   postern-sieve --check [--json] [-v] [-G DIR] DIR   (sieve-check.c)
 *   postern-sieve convert [--dry-run] [--from-cyrus]
 *                 [--separator .|/] FILE...|DIR...      (sieve-convert.c)
 *
 * (a script really named "convert" is given as ./convert).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "file.h"
#include "mem.h"
#include "sieve.h"
#include "sieve-tools.h"
#include "version.h"

#define TOOL_MESSAGE_MAX (64ULL * 1024 * 1024)

static void usage(void)
{
    fprintf(stderr, "usage: postern-sieve [-f SENDER] [-a RECIPIENT] "
                    "[-m FOLDER] [-d DELIMITERS] [-I DIR] [-G DIR] "
                    "[-r FILE] [-u USER_EMAIL] SCRIPT "
                    "[MESSAGE]\n       postern-sieve --check [--json] [-v] "
                    "[-G DIR] DIR\n       postern-sieve convert [--dry-run] "
                    "[--from-cyrus] [--separator .|/] FILE...|DIR...\n"
                    "       postern-sieve -V\n");
}

/* read_message - the message as postern-lda spools it: LF line ends, NUL
   bytes as 0x80, a leading mbox "From " line dropped.  0 or -1. */
static int read_message(const char *path, struct str *text)
{
    struct str raw = STR_INIT, err = STR_INIT;
    int rc = 0;

    if (path == NULL)
        return 0;
    if (strcmp(path, "-") == 0)
        path = "/dev/stdin";
    if (file_read("message", path, TOOL_MESSAGE_MAX, 0, &raw, &err) < 0) {
        fprintf(stderr, "postern-sieve: %s\n", str_cstr(&err));
        rc = -1;
    }
    const char *p = str_cstr(&raw), *end = p + raw.len;
    if (rc == 0 && raw.len > 5 && memcmp(p, "From ", 5) == 0) {
        const char *nl = memchr(p, '\n', raw.len);
        p = nl ? nl + 1 : end;
    }
    for (; rc == 0 && p < end; p++) {
        if (*p == '\r' && p + 1 < end && p[1] == '\n')
            continue;
        str_append_char(text, *p == '\0' ? (char)0x80 : *p);
    }
    str_free(&raw);
    str_free(&err);
    return rc;
}

/* decide on each vacation action as postern-lda would (without the
   database), and write the reply to reply_path */
static void vacations(const struct sieve_message *sm,
                      struct sieve_result *res, const char *reply_path)
{
    static const struct sieve_vacation_policy pol = {86400, 7 * 86400,
                                                     90 * 86400};

    for (size_t i = 0; i < res->n; i++) {
        struct sieve_vacation *v = res->acts[i].vac;
        struct str msg = STR_INIT;
        FILE *fp;
        if (res->acts[i].kind != SIEVE_ACT_VACATION)
            continue;
        v->effective = sieve_vacation_period(v, &pol);
        v->suppressed = sieve_vacation_check(sm, v, NULL, 0);
        if (v->suppressed || reply_path == NULL)
            continue;
        sieve_vacation_compose(sm, v, sm->env_to ? sm->env_to : "",
                               "localhost", &msg);
        if ((fp = fopen(reply_path, "w")) != NULL) {
            fwrite(msg.data, 1, msg.len, fp);
            fclose(fp);
        }
        str_free(&msg);
    }
}

int main(int argc, char **argv)
{
    const char *sender = NULL, *rcpt = NULL, *folder = NULL, *delims = "+",
               *personal = NULL, *global = NULL, *reply = NULL,
               *user_email = NULL; /* -u (sverr) */
    struct str errors = STR_INIT, out = STR_INIT;
    struct sieve_script *s;
    struct sieve_message sm;
    struct sieve_result res;
    struct sieve_host host;
    struct str text = STR_INIT;
    char *dircopy;
    int opt, rc;

    if (argc > 1 && strcmp(argv[1], "--check") == 0)
        return sieve_check_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "convert") == 0)
        return sieve_convert_main(argc - 1, argv + 1);
    while ((opt = getopt(argc, argv, "f:a:m:d:I:G:r:u:hV")) != -1) {
        switch (opt) {
        case 'V': printf("postern-sieve %s\n", POSTERN_VERSION); return 0;
        case 'f': sender = optarg; break;
        case 'a': rcpt = optarg; break;
        case 'm': folder = optarg; break;
        case 'd': delims = optarg; break;
        case 'I': personal = optarg; break;
        case 'G': global = optarg; break;
        case 'r': reply = optarg; break;
        case 'u': user_email = optarg; break;
        case 'h': usage(); return 0;
        default: usage(); return EX_USAGE;
        }
    }
    if (optind >= argc || argc - optind > 2) {
        usage();
        return EX_USAGE;
    }
    dircopy = xstrdup(argv[optind]);
    memset(&host, 0, sizeof(host));
    host.personal_dir = personal ? personal : dirname(dircopy);
    host.global_dir = global;
    host.delimiters = delims;
    host.default_folder = folder ? folder : "INBOX";
    host.hostname = "localhost";
    host.user_email = user_email;
    /* spamtest/virustest: postern-lda's default fields */
    host.spam_score_header = "X-Spam-Score";
    host.spam_score_max = 10;
    host.spam_flag_header = "X-Spam-Flag";
    host.virus_header = "X-Virus-Status";
    if (sieve_compile_file(argv[optind], argv[optind], &host, &s,
                           &errors) < 0) {
        fputs(str_cstr(&errors), stderr);
        str_free(&errors);
        free(dircopy);
        return 1;
    }
    fputs(sieve_script_warnings(s), stderr); /* e.g. "Subject:" never matches */
    if (read_message(argc - optind == 2 ? argv[optind + 1] : NULL,
                     &text) < 0) {
        sieve_script_free(s);
        str_free(&text);
        free(dircopy);
        str_free(&errors);
        return EX_NOINPUT;
    }
    if (sender && strcmp(sender, "<>") == 0)
        sender = "";
    sieve_message_text(&sm, str_cstr(&text), text.len);
    sm.env_to = rcpt;
    sm.env_from = sender;
    sieve_result_init(&res, host.default_folder);
    rc = sieve_execute(s, &sm, &host, &res);
    if (rc < 0)
        fprintf(stderr, "%s\n", str_cstr(&res.error));
    sieve_result_finish(&res);
    for (size_t i = 0; i < res.n; i++)  /* e.g. a redirect to oneself */
        if (res.acts[i].note)
            fprintf(stderr, "note: %s\n", res.acts[i].note);
    vacations(&sm, &res, reply);
    sieve_result_print_to(&res, sender, &out);
    fputs(str_cstr(&out), stdout);
    sieve_result_free(&res);
    sieve_script_free(s);
    str_free(&text);
    free(dircopy);
    str_free(&out);
    str_free(&errors);
    return rc < 0 ? 2 : 0;
}
