/*
 * fuzz_sieve_run - the Sieve interpreter on any message: three fixed
 * scripts that together use every test that reads the message (header,
 * address in all its parts, envelope, date and currentdate in every date
 * part, :matches/:regex/:count/:value, body :raw/:text/:content,
 * editheader, variables with modifiers fed from the message, vacation,
 * notify, duplicate, spamtest/virustest, environment, mailboxexists),
 * then sieve_result_finish/print, and for vacation and notify actions the
 * RFC 3834 check and the composition of the reply (lib-sieve/vacation.c).
 * Input: byte 0 picks the script, the rest is the message (header, empty
 * line, body; LF line ends as postern-lda spools it).
 * Checks: execute returns -1, 0 or 1, and -1 exactly when the result is
 * marked failed; a finished result has at least one action unless
 * something cancelled the implicit keep.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "sieve.h"

static const char *const scripts[] = {
    /* 0: header, address, envelope, date */
    "require [\"date\", \"index\", \"relational\", \"variables\", \"regex\",\n"
    "  \"subaddress\", \"envelope\", \"comparator-i;ascii-numeric\",\n"
    "  \"fileinto\", \"imap4flags\"];\n"
    "if date :originalzone :matches \"date\" \"std11\" \"*\" { set \"d\" \"${1}\"; }\n"
    "if date :zone \"-1200\" :value \"ge\" :comparator \"i;ascii-numeric\"\n"
    "   \"date\" \"year\" \"2000\" { addflag \"\\\\Seen\"; }\n"
    "if anyof (date :is \"date\" \"julian\" \"1\", date :is \"date\" \"iso8601\" \"x\",\n"
    "  date :is \"date\" \"month\" \"1\", date :is \"date\" \"day\" \"1\",\n"
    "  date :is \"date\" \"date\" \"1\", date :is \"date\" \"hour\" \"1\",\n"
    "  date :is \"date\" \"minute\" \"1\", date :is \"date\" \"second\" \"1\",\n"
    "  date :is \"date\" \"time\" \"1\", date :is \"date\" \"zone\" \"1\",\n"
    "  date :is \"date\" \"weekday\" \"1\", date :is \"date\" \"std11\" \"1\") { stop; }\n"
    "if date :index 2 :last :matches \"received\" \"iso8601\" \"*T*\" { set \"r\" \"${2}\"; }\n"
    "if date :originalzone :is \"received\" \"zone\" \"+0000\" { addflag \"r\"; }\n"
    "if currentdate :value \"gt\" :comparator \"i;ascii-numeric\" \"julian\" \"0\" { set \"c\" \"1\"; }\n"
    "if header :matches \"subject\" \"*a*b*c*?\" { fileinto \"INBOX.${1}\"; }\n"
    "if header :regex \"from\" \"^(.*)<([^@]*)@(.*)>$\" {\n"
    "  set :lower :upperfirst \"x\" \"${2}\"; set :length \"l\" \"${3}\";\n"
    "  set :quotewildcard \"q\" \"${1}\"; }\n"
    "if address :all :comparator \"i;ascii-casemap\" :contains [\"from\", \"to\", \"cc\"] \"example\" { addflag \"\\\\Flagged\"; }\n"
    "if address :localpart :matches \"to\" \"*+*\" { set \"lp\" \"${1}\"; }\n"
    "if address :domain :is \"from\" \"example.org\" { keep; }\n"
    "if address :user :is \"to\" \"anna\" { keep; }\n"
    "if address :detail :is \"to\" \"list\" { fileinto \"Lists\"; }\n"
    "if envelope :all :is \"from\" \"\" { discard; }\n"
    "if envelope :detail :matches \"to\" \"*\" { set \"e\" \"${1}\"; }\n"
    "if header :count \"ge\" :comparator \"i;ascii-numeric\" \"received\" \"2\" { addflag \"many\"; }\n"
    "if header :value \"lt\" :comparator \"i;ascii-numeric\" \"x-num\" \"5\" { addflag \"small\"; }\n"
    "if exists [\"list-id\", \"x-spam\"] { fileinto \"${d}${x}${q}\"; }\n"
    "if size :over 100 { keep; } elsif size :under 10 { discard; }\n",

    /* 1: body and editheader */
    "require [\"body\", \"editheader\", \"variables\", \"encoded-character\",\n"
    "  \"fileinto\", \"copy\", \"index\"];\n"
    "if body :raw :contains \"unsubscribe\" { fileinto :copy \"Lists\"; }\n"
    "if body :text :matches \"*hello*\" { set \"b\" \"${1}\"; }\n"
    "if body :content \"text\" :contains \"offer\" { addheader \"X-B\" \"${b}\"; }\n"
    "if body :content [\"multipart\", \"image/png\"] :matches \"*\" { keep; }\n"
    "if header :matches \"subject\" \"*\" { addheader :last \"X-Subject\" \"${1}\"; }\n"
    "deleteheader :matches \"received\" \"*from*\";\n"
    "deleteheader :index 1 \"subject\";\n"
    "deleteheader :index 1 :last :contains \"x-num\" \"1\";\n"
    "addheader \"X-Enc\" \"${hex:41 42}${unicode:263a}\";\n"
    "if header :contains \"x-subject\" \"a\" { deleteheader \"x-subject\"; }\n",

    /* 2: vacation, notify, duplicate, spamtest, environment, mailbox */
    "require [\"vacation\", \"enotify\", \"duplicate\", \"spamtest\",\n"
    "  \"virustest\", \"relational\", \"comparator-i;ascii-numeric\",\n"
    "  \"environment\", \"mailbox\", \"variables\", \"reject\", \"fileinto\"];\n"
    "if duplicate :header \"message-id\" :seconds 60 { discard; stop; }\n"
    "if duplicate :uniqueid \"${subject}\" { keep; }\n"
    "if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"5\" { fileinto :create \"Junk\"; }\n"
    "if virustest :value \"eq\" :comparator \"i;ascii-numeric\" \"5\" { reject \"virus\"; }\n"
    "if environment :matches \"domain\" \"*\" { set \"dom\" \"${1}\"; }\n"
    "if mailboxexists \"Archive\" { keep; }\n"
    "if header :matches \"subject\" \"*\" { set \"subject\" \"${1}\"; }\n"
    "if header :matches \"from\" \"*\" { set \"from\" \"${1}\"; }\n"
    "vacation :days 1 :subject \"Re: ${subject}\" :addresses [\"anna@example.org\"]\n"
    "  \"I am away (${from}).\";\n"
    "notify :importance \"1\" :message \"${from}: ${subject}\"\n"
    "  \"mailto:boss@example.org?subject=fwd\";\n"
    "if valid_notify_method \"mailto:${from}\" { keep; }\n",
};
#define NSCRIPTS (sizeof(scripts) / sizeof(scripts[0]))

static struct sieve_script *compiled[NSCRIPTS];
static struct sieve_host host;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memset(&host, 0, sizeof(host));
    host.delimiters = "+";
    host.domain = "example.org";
    host.hostname = "mx.example.org";
    host.remote_ip = "192.0.2.1";
    host.spam_score_header = "X-Spam-Score";
    host.spam_score_max = 10;
    host.spam_flag_header = "X-Spam-Flag";
    host.virus_header = "X-Virus-Status";
    for (size_t i = 0; i < NSCRIPTS; i++) {
        struct str err = STR_INIT;
        if (sieve_compile("fuzz", scripts[i], strlen(scripts[i]), &host,
                          &compiled[i], &err) < 0) {
            fprintf(stderr, "fuzz_sieve_run: script %zu: %s\n", i,
                    str_cstr(&err));
            abort();
        }
        str_free(&err);
    }
    return 0;
}

static void replies(const struct sieve_result *res,
                    const struct sieve_message *m)
{
    static const char *const own[] = {"anna@example.org"};
    struct str out = STR_INIT, to = STR_INIT;

    for (size_t i = 0; i < res->n; i++) {
        const struct sieve_action *a = &res->acts[i];
        if (a->kind == SIEVE_ACT_VACATION && a->vac) {
            (void)sieve_vacation_check(m, a->vac, own, 1);
            (void)sieve_vacation_compose(m, a->vac, "anna@example.org",
                                         "mx.example.org", &out);
        } else if (a->kind == SIEVE_ACT_NOTIFY && a->notify) {
            (void)sieve_notify_compose(m, a->notify, "anna@example.org",
                                       "mx.example.org", &out, &to);
        }
        str_reset(&out);
        str_reset(&to);
    }
    str_free(&out);
    str_free(&to);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    unsigned which = fuzz_byte(&in) % NSCRIPTS;
    struct sieve_message m;
    struct sieve_result res;
    struct str out = STR_INIT;
    int rc;

    sieve_message_text(&m, in.p, in.left);
    m.env_from = in.left > 0 && in.p[0] == 'F' ? "" : "sender@example.com";
    m.env_to = "anna+list@example.org";
    sieve_result_init(&res, "INBOX");
    rc = sieve_execute(compiled[which], &m, &host, &res);
    if (rc < -1 || rc > 1 || (rc == -1) != (res.failed != 0))
        abort();
    replies(&res, &m);
    sieve_result_finish(&res);
    if (res.n == 0 && !res.keep_cancelled)
        abort(); /* the implicit keep went missing */
    sieve_result_print_to(&res, m.env_from, &out);
    sieve_result_free(&res);
    str_free(&out);
    return 0;
}
