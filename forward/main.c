/*
 * postern-forward - SRS and the forwarding rate limit for copies that
 * leave because of a forward; a pipe(8) transport (forward.c).
 *
 *   postern-forward [-c FILE] [-v] -f SENDER [-o ORIGINAL_RECIPIENT]
 *                   [-s SIZE] [-q QUEUEID] -- RECIPIENT < message
 *   postern-forward [-c FILE] -t | -d | -V
 *
 * master.cf (scripts/postern-postconf --srs yes):
 *   postern-forward unix - n n - - pipe flags=q user=postern null_sender=
 *     argv=/usr/local/sbin/postern-forward -c /etc/postern/postern.conf
 *     -f ${sender} -o ${original_recipient} -s ${size} -q ${queue_id}
 *     -- ${recipient}
 * with postern-forward_destination_recipient_limit = 1 (one copy, one
 * recipient, one forwarding account per run).
 *
 * Every failure, a bad command line included, exits 75 (EX_TEMPFAIL):
 * Postfix defers the copy; a configuration mistake never bounces mail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forward.h"
#include "log.h"
#include "mem.h"
#include "version.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: postern-forward [-c FILE] [-v] -f SENDER "
            "[-o ORIGINAL_RECIPIENT] [-s SIZE] [-q QUEUEID] -- RECIPIENT "
            "< message\n"
            "       postern-forward [-c FILE] -t | -d | -V\n"
            "  -t check the configuration, -d print every setting with its\n"
            "  default ([forward], [database]; the srs_* keys are [maps]'s),\n"
            "  -V the version, -v log to stderr.\n");
}

static int check_main(const char *path)
{
    struct str err = STR_INIT;
    struct fwd_config *cfg = fwd_load_config(path, &err);

    if (cfg == NULL) {
        fprintf(stderr, "postern-forward: %s\n", str_cstr(&err));
        str_free(&err);
        return 1;
    }
    printf("postern-forward: configuration %s is valid%s\n", path,
           cfg->srs_state ? "" : " (but [maps] srs_domain is empty: every "
           "copy would be deferred)");
    fwd_free_config(cfg);
    return 0;
}

static int print_defaults(void)
{
    struct cfg_section secs[DAEMON_MAX_SECTIONS];
    struct fwd_config *cfg = xcalloc(1, sizeof(*cfg));
    struct str err = STR_INIT;
    size_t n = fwd_app.sections(cfg, secs);

    if (cfg_defaults(secs, n, &err) < 0)
        return fprintf(stderr, "postern-forward: %s\n", str_cstr(&err)), 1;
    cfg_print_defaults(stdout, secs, n);
    cfg_free(secs, n);
    free(cfg);
    return 0;
}

static int tempfail(const char *why)
{
    printf("4.3.5 postern-forward: %s\n", why);
    return FWD_EX_TEMPFAIL;
}

int main(int argc, char **argv)
{
    const char *path = DAEMON_DEFAULT_CONFIG;
    struct fwd_args a = {NULL, NULL, NULL, "NOQUEUE", -1};
    struct str err = STR_INIT, text = STR_INIT;
    struct fwd_config *cfg;
    int opt, test = 0, verbose = 0, rc;

    while ((opt = getopt(argc, argv, "c:f:o:s:q:tdvVh")) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'f': a.sender = optarg; break;
        case 'o': a.orig_rcpt = optarg; break;
        case 's': a.size = strtoll(optarg, NULL, 10); break;
        case 'q': a.queue_id = optarg[0] ? optarg : "NOQUEUE"; break;
        case 't': test = 1; break;
        case 'd': return print_defaults();
        case 'v': verbose++; break;
        case 'V': printf("postern-forward %s\n", POSTERN_VERSION); return 0;
        case 'h': usage(); return 0;
        default: usage(); return tempfail("bad command line");
        }
    }
    if (test)
        return check_main(path);
    if (a.sender == NULL || optind != argc - 1 || argv[optind][0] == '\0') {
        usage();
        return tempfail("bad command line (-f SENDER -- RECIPIENT)");
    }
    a.recipient = argv[optind];
    if (strcmp(a.sender, "<>") == 0)
        a.sender = "";
    log_open("postern-forward", verbose ? LOG_TO_STDERR : LOG_TO_SYSLOG,
             verbose);
    if ((cfg = fwd_load_config(path, &err)) == NULL) {
        log_error("%s", str_cstr(&err));
        str_free(&err);
        return tempfail("configuration error (logged)");
    }
    str_free(&err);
    if (cfg->log_to == FWD_LOG_STDERR)
        log_open("postern-forward", LOG_TO_STDERR, verbose);
    rc = fwd_run(cfg, &a, &text);
    printf("%s\n", str_cstr(&text));
    fflush(stdout);
    fwd_free_config(cfg);
    str_free(&text);
    return rc;
}
