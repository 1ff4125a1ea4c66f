/*
 * test_store_ext - the engine's mail-store extensions with a host that
 * answers (ext_specialuse.c, ext_mailboxid.c, ext_fcc.c): specialuse_exists
 * with and without a mailbox, mailboxidexists, a host that cannot answer
 * (a run-time error), and what fileinto :specialuse/:mailboxid and
 * vacation/notify :fcc record in the action for the caller.
 */
#include <string.h>
#include <strings.h>

#include "sieve.h"
#include "unit.h"

/* the host: Junk has \Junk, Sent has \Sent; folder ids F-junk, F-sent */
static int temp;

static int exists(void *ctx, const char *folder)
{
    (void)ctx;
    return strcasecmp(folder, "INBOX") == 0 || strcmp(folder, "Junk") == 0 ||
                   strcmp(folder, "Sent") == 0 || strcmp(folder, "Plain") == 0
               ? LK_FOUND : LK_NOTFOUND;
}

static int special(void *ctx, const char *folder, const char *flag)
{
    const char *has = strcasecmp(flag, "\\Junk") == 0   ? "Junk"
                      : strcasecmp(flag, "\\Sent") == 0 ? "Sent" : NULL;

    (void)ctx;
    if (temp)
        return LK_TEMP;
    if (has == NULL)
        return LK_NOTFOUND;
    return folder == NULL || strcmp(folder, has) == 0 ? LK_FOUND
                                                      : LK_NOTFOUND;
}

static int mbid(void *ctx, const char *id)
{
    (void)ctx;
    if (temp)
        return LK_TEMP;
    return strcmp(id, "F-junk") == 0 || strcmp(id, "F-sent") == 0
               ? LK_FOUND : LK_NOTFOUND;
}

static struct sieve_host host;

/* run script on a small message; the printed result (or "error: ...") */
static const char *run(const char *script)
{
    static struct str out = STR_INIT;
    struct str errors = STR_INIT;
    const char *msg = "From: a@example.org\nTo: b@example.com\n"
                      "Subject: s\n\nbody\n";
    struct sieve_message m;
    struct sieve_script *s;
    struct sieve_result res;

    str_reset(&out);
    if (sieve_compile("t", script, strlen(script), &host, &s, &errors) < 0) {
        str_appendf(&out, "compile: %s", str_cstr(&errors));
        str_free(&errors);
        return str_cstr(&out);
    }
    sieve_message_text(&m, msg, strlen(msg));
    m.env_from = "a@example.org";
    m.env_to = "b@example.com";
    sieve_result_init(&res, "INBOX");
    if (sieve_execute(s, &m, &host, &res) < 0)
        str_appendf(&out, "error: %s", str_cstr(&res.error));
    else {
        sieve_result_finish(&res);
        sieve_result_print(&res, &out);
    }
    sieve_result_free(&res);
    sieve_script_free(s);
    str_free(&errors);
    return str_cstr(&out);
}

#define SU "require [\"special-use\", \"fileinto\"];\n"
#define ID "require [\"mailboxid\", \"fileinto\"];\n"

int main(void)
{
    host.mailbox_exists = exists;
    host.specialuse_exists = special;
    host.mailboxid_exists = mbid;

    CHECK_STR(run(SU "if specialuse_exists \"\\\\Junk\" { discard; }"),
              "discard\n", "specialuse_exists: some folder has \\Junk");
    CHECK_STR(run(SU "if specialuse_exists [\"\\\\Junk\", \"\\\\Sent\"] "
                  "{ discard; }"),
              "discard\n", "specialuse_exists: every flag somewhere");
    CHECK_STR(run(SU "if specialuse_exists [\"\\\\Junk\", \"\\\\Trash\"] "
                  "{ discard; }"),
              "keep\n", "specialuse_exists: one flag nowhere");
    CHECK_STR(run(SU "if specialuse_exists \"Junk\" \"\\\\junk\" "
                  "{ discard; }"),
              "discard\n", "specialuse_exists Junk \\junk (no case)");
    CHECK_STR(run(SU "if specialuse_exists \"Plain\" \"\\\\Junk\" "
                  "{ discard; }"),
              "keep\n", "specialuse_exists: a folder without the flag");
    CHECK_STR(run(SU "if specialuse_exists \"Gone\" \"\\\\Junk\" "
                  "{ discard; }"),
              "keep\n", "specialuse_exists: a folder that does not exist");
    CHECK_STR(run(SU "fileinto :specialuse \"\\\\Junk\" \"Spam\";"),
              "fileinto Spam specialuse=\\Junk\n",
              "fileinto :specialuse recorded for the caller");
    CHECK_STR(run(ID "if mailboxidexists [\"F-junk\", \"F-sent\"] "
                  "{ discard; }"),
              "discard\n", "mailboxidexists: both ids");
    CHECK_STR(run(ID "if mailboxidexists [\"F-junk\", \"F-none\"] "
                  "{ discard; }"),
              "keep\n", "mailboxidexists: one unknown id");
    CHECK_STR(run(ID "fileinto :mailboxid \"F-junk\" \"Junk\";"),
              "fileinto Junk mailboxid=F-junk\n",
              "fileinto :mailboxid recorded for the caller");
    CHECK_STR(run("require [\"vacation\", \"fcc\"];\n"
                  "vacation :fcc \"Sent\" \"away\";"),
              "vacation to= period=-1 subject=\"\" reason=\"away\" "
              "fcc=\"Sent\"\nkeep\n",
              "vacation :fcc: no :flags (the caller stores \\Seen)");
    CHECK_STR(run("require [\"enotify\", \"fcc\", \"imap4flags\", "
                  "\"mailbox\"];\nnotify :fcc \"Sent\" :create :flags "
                  "\"$Notified\" \"mailto:c@example.net\";"),
              "notify mailto:c@example.net importance=2 fcc=\"Sent\" "
              "[$Notified] create\nkeep\n",
              "notify :fcc with :create and :flags");
    CHECK_STR(run("require [\"imap4flags\", \"vacation\", \"fcc\"];\n"
                  "addflag \"\\\\Flagged\";\n"
                  "vacation :fcc \"Sent\" \"away\";"),
              "vacation to= period=-1 subject=\"\" reason=\"away\" "
              "fcc=\"Sent\"\nkeep [\\Flagged]\n",
              "the internal flags are not the fcc copy's");
    temp = 1;
    CHECK(strstr(run(SU "if specialuse_exists \"\\\\Junk\" { discard; }"),
                 "cannot be looked up") != NULL,
          "specialuse_exists: host cannot answer: run-time error");
    CHECK(strstr(run(ID "if mailboxidexists \"F-junk\" { discard; }"),
                 "cannot be looked up") != NULL,
          "mailboxidexists: host cannot answer: run-time error");
    temp = 0;
    host.specialuse_exists = NULL;
    host.mailboxid_exists = NULL;
    CHECK_STR(run(SU "if specialuse_exists \"\\\\Junk\" { discard; }"),
              "keep\n", "no host callback: no special-use folder");
    CHECK_STR(run(ID "if mailboxidexists \"F-junk\" { discard; }"),
              "keep\n", "no host callback: no mailbox id");
    return UNIT_END();
}
