/*
 * postern-lda - the delivery agent.  Two modes:
 *
 *   postern-lda [-c FILE] [-v] -f SENDER -a RECIPIENT [-m FOLDER]
 *               [-q QUEUEID] < message
 *       one delivery, for Postfix pipe(8); the exit code and a status line
 *       "X.Y.Z text" on stdout tell Postfix the outcome (status.c).
 *   postern-lda [-c FILE] -t | -d | -V
 *       -t checks the configuration and exits (1 with FILE:LINE on error),
 *       -d prints every setting with its default, -V the version.
 *   postern-lda --lmtp [-c FILE] [-f] [-t] [-d] [-v] [-V]
 *       the LMTP server on [lda] listen (lmtp.c); here -f means "stay in
 *       the foreground", as for every postern daemon.
 *
 * In pipe mode -f is the envelope sender, as in sendmail(1) and
 * dovecot-lda ("" or "<>" for the null sender; -r SENDER is the same);
 * there is no foreground option there: each delivery is one process.
 * logging goes to syslog unless [lda] log = stderr or -v is given, so the
 * status line stays the first thing pipe(8) reads.
 *
 * Start-up cost matters in pipe mode (one process per delivery): the
 * database library is initialised only when [lda] lookup = sql needs it,
 * after the message has been read; with lookup = maps it never is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lda.h"
#include "ldapload.h"
#include "log.h"
#include "mem.h"
#include "version.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: postern-lda [-c FILE] [-v] -f SENDER -a RECIPIENT "
            "[-m FOLDER] [-q QUEUEID] < message\n"
            "       postern-lda [-c FILE] -t | -d | -V\n"
            "       postern-lda --lmtp [-c FILE] [-f] [-t] [-d] [-v] [-V]\n"
            "  pipe mode (Postfix pipe(8)): -f SENDER (or -r SENDER) is the\n"
            "  envelope sender, not \"foreground\"; -a the recipient, -m the\n"
            "  folder (${extension}), -q Postfix's queue id (${queue_id},\n"
            "  for the logs).  -t check the configuration, -d print\n"
            "  every setting with its default, -V the version, -v verbose.\n"
            "  --lmtp: the LMTP daemon; there -f means stay in the foreground.\n");
}

/* finish - print the status line and return the exit code (one place). */
static int finish(const struct lda_result *r)
{
    struct str line = STR_INIT;

    lda_result_format(r, &line);
    printf("%s\n", str_cstr(&line));
    fflush(stdout);
    str_free(&line);
    return lda_status_info(r->status).exit_code;
}

static int read_stdin(struct lda_msg *m)
{
    char buf[65536];

    for (;;) {
        ssize_t n = read(0, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return m->io_error = errno, -1;
        if (n == 0)
            break;
        if (lda_msg_feed(m, buf, (size_t)n) < 0)
            return -1;
    }
    return lda_msg_finish(m);
}

static int pipe_main(const char *path, const char *sender,
                     const char *recipient, const char *folder,
                     const char *qid, int verbose)
{
    struct str err = STR_INIT;
    struct lda_result res;
    struct lda_mailbox mb;
    struct lda_config *cfg;
    struct lda_ctx ctx;
    struct lda_msg *m;
    struct db *db;
    int rc;

    log_open("postern-lda", LOG_TO_SYSLOG, verbose);
    if ((cfg = daemon_load_config(&lda_lmtp_app, path, &err)) == NULL) {
        log_error("%s", str_cstr(&err));
        lda_result_set(&res, LDA_CONFIG, "configuration error: %s",
                       str_cstr(&err));
        str_free(&err);
        return finish(&res);
    }
    if (cfg->log_to == LDA_LOG_STDERR || verbose)
        log_open("postern-lda", LOG_TO_STDERR, verbose);
    if (getuid() == 0 && cfg->srv.user[0] &&
        daemon_drop_user(cfg->srv.user, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    if (strcmp(sender, "<>") == 0)
        sender = "";
    m = xmalloc(sizeof(*m));
    lda_msg_init(m, (unsigned long long)cfg->max_message_size,
                 (size_t)cfg->spool_memory, cfg->temp_dir);
    read_stdin(m); /* a spool error is in m->io_error; lda_deliver says 4xx */
    db = NULL;
    if (cfg->lookup == LDA_LOOKUP_SQL) {
        db_global_init(); /* only now: libmariadb's init starts OpenSSL */
        if ((db = db_open(&cfg->db, &err)) == NULL)
            log_error("database: %s", str_cstr(&err));
    }
    lda_ctx_init(&ctx, cfg, db);
    struct lda_envelope env = {sender, recipient, folder, qid};
    lda_resolve(&ctx, recipient, &mb, &res);
    if (res.status == LDA_OK)
        lda_deliver(&ctx, &env, &mb, m, &res);
    else
        log_info("%s%sfrom=<%s> to=<%s> status=%s %s",
                 qid ? log_safe_cstr(qid) : "", qid ? ": " : "",
                 log_safe_cstr(sender),
                 log_safe_cstr(recipient), lda_status_info(res.status).dsn,
                 res.text);
    rc = finish(&res);
    if (db != NULL)
        db_close(db);
    lda_msg_free(m);
    free(m);
    daemon_free_config(&lda_lmtp_app, cfg);
    str_free(&err);
    return rc;
}

static int check_main(const char *path)
{
    struct str err = STR_INIT;
    void *cfg = daemon_load_config(&lda_lmtp_app, path, &err);

    if (cfg == NULL) {
        fprintf(stderr, "postern-lda: %s\n", str_cstr(&err));
        str_free(&err);
        return 1;
    }
    /* [lda] ldap = yes: the LDAP module must load (lib/ldapload.h) */
    if (((struct lda_config *)cfg)->ldap_on && ldapload_get(&err) == NULL) {
        fprintf(stderr, "postern-lda: %s: [lda] ldap = yes: %s\n", path,
                str_cstr(&err));
        daemon_free_config(&lda_lmtp_app, cfg);
        str_free(&err);
        return 1;
    }
    printf("postern-lda: configuration %s is valid\n", path);
    daemon_free_config(&lda_lmtp_app, cfg);
    str_free(&err);
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = DAEMON_DEFAULT_CONFIG, *sender = NULL, *rcpt = NULL,
               *folder = NULL, *qid = NULL;
    int opt, test = 0, verbose = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--lmtp") == 0) {
            db_global_init();
            for (int j = i; j < argc; j++)
                argv[j] = argv[j + 1];
            return daemon_main(argc - 1, argv, &lda_lmtp_app);
        }
    }
    while ((opt = getopt(argc, argv, "c:f:r:a:m:q:tdvVh")) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'f': /* FALLTHROUGH */
        case 'r': sender = optarg; break;
        case 'd': {
            /* the daemon life cycle prints them (lib/daemon.c) */
            char *av[] = {argv[0], (char *)"-d", NULL};
            struct daemon d;
            optind = 0;
            return daemon_start(&d, &lda_lmtp_app, 2, av);
        }
        case 'V': printf("postern-lda %s\n", POSTERN_VERSION); return 0;
        case 'a': rcpt = optarg; break;
        case 'm': folder = optarg; break;
        case 'q': qid = optarg; break;
        case 't': test = 1; break;
        case 'v': verbose++; break;
        case 'h': usage(); return 0;
        default: {
            struct lda_result r;
            usage();
            lda_result_set(&r, LDA_USAGE, "bad command line");
            return finish(&r);
        }
        }
    }
    if (test)
        return check_main(path);
    if (optind != argc || rcpt == NULL || *rcpt == '\0') {
        struct lda_result r;
        usage();
        lda_result_set(&r, LDA_USAGE, "bad command line: -a RECIPIENT is "
                                      "required");
        return finish(&r);
    }
    return pipe_main(path, sender ? sender : "", rcpt, folder,
                     qid && *qid ? qid : NULL, verbose);
}
