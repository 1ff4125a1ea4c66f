/*
 * test_lda_mutf7 - modified UTF-7 (RFC 3501 5.1.3) and folder names ->
 * Maildir++ directories.
 */
#include <stdlib.h>
#include <string.h>

#include "lda.h"
#include "unit.h"

static const char *enc(const char *in)
{
    static struct str s = STR_INIT;

    str_reset(&s);
    return mutf7_encode(in, strlen(in), &s) < 0 ? "(error)" : str_cstr(&s);
}

static const char *dec(const char *in)
{
    static struct str s = STR_INIT;

    str_reset(&s);
    return mutf7_decode(in, strlen(in), &s) < 0 ? "(error)" : str_cstr(&s);
}

static const char *fold(const char *in)
{
    static struct str s = STR_INIT;
    const char *e = NULL;

    str_reset(&s);
    return folder_to_maildir(in, &s, &e) < 0 ? "(error)" : str_cstr(&s);
}

int main(void)
{
    CHECK_STR(enc("Sent"), "Sent", "ASCII stays");
    CHECK_STR(enc("Entwürfe"), "Entw&APw-rfe", "umlaut");
    CHECK_STR(enc("&"), "&-", "ampersand");
    CHECK_STR(enc("Ärger & Co"), "&AMQ-rger &- Co", "mixed");
    CHECK_STR(enc("日本語"), "&ZeVnLIqe-", "CJK run");
    CHECK_STR(enc("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
              "RFC 3501 example (',' for '/')");
    CHECK_STR(enc("😀"), "&2D3eAA-", "astral plane via surrogates");
    CHECK_STR(enc("a\tb"), "a&AAk-b", "control char encoded");
    CHECK_STR(enc("\xc3\x28"), "(error)", "invalid UTF-8 refused");
    CHECK_STR(enc("\xc0\xaf"), "(error)", "overlong refused");
    CHECK_STR(enc("\xed\xa0\x80"), "(error)", "surrogate in UTF-8 refused");
    CHECK_STR(dec("Entw&APw-rfe"), "Entwürfe", "decode umlaut");
    CHECK_STR(dec("&2D3eAA-"), "😀", "decode surrogates");
    CHECK_STR(dec("&-"), "&", "decode ampersand");
    CHECK_STR(dec("&U,BTFw-"), "台北", "decode comma alphabet");
    CHECK_STR(dec("&AGE-"), "(error)", "ASCII in base64 refused");
    CHECK_STR(dec("&APw"), "(error)", "unterminated refused");
    CHECK_STR(dec("&-&"), "(error)", "dangling & refused");
    CHECK_STR(dec("&2D0-"), "(error)", "lone high surrogate refused");
    CHECK_STR(dec("&q0A-&q0A-"), "(error)", "adjacent encoded runs refused");
    CHECK_STR(dec("a&APw-&APw-b"), "(error)", "adjacent runs mid-name refused");
    CHECK_STR(dec("&APwA,A-"), "üü", "one run for two characters");
    CHECK_STR(dec("&APw-&-"), "ü&", "run then &- accepted");
    CHECK_STR(dec("&APw-&-&APw-"), "ü&ü", "runs separated by &- accepted");
    CHECK_STR(dec("&APw-x&APw-"), "üxü", "runs separated by ASCII accepted");
    CHECK_STR(enc("ü&ü"), "&APw-&-&APw-", "encoder: & between runs");
    CHECK_STR(dec(enc("üü")), "üü", "encoder output round-trips");

    CHECK_STR(fold("INBOX"), "", "INBOX");
    CHECK_STR(fold("inbox"), "", "inbox any case");
    CHECK_STR(fold("Sent"), ".Sent", "Sent");
    CHECK_STR(fold("INBOX.Sent"), ".Sent", "INBOX. prefix");
    CHECK_STR(fold("INBOX/Sent"), ".Sent", "INBOX/ prefix");
    CHECK_STR(fold("Archive.2024"), ".Archive.2024", "dot hierarchy");
    CHECK_STR(fold("Archive/2024"), ".Archive.2024", "slash hierarchy");
    CHECK_STR(fold("Entwürfe/Schule"), ".Entw&APw-rfe.Schule", "UTF-8 level");
    CHECK_STR(fold("INBOXES"), ".INBOXES", "INBOX prefix only at a boundary");
    CHECK_STR(fold("a//b"), "(error)", "empty level refused");
    CHECK_STR(fold("/a"), "(error)", "leading separator refused");
    CHECK_STR(fold("a/"), "(error)", "trailing separator refused");
    CHECK_STR(fold(".."), "(error)", "dots only refused");
    CHECK_STR(fold("a\nb"), "(error)", "control char refused");
    CHECK_STR(fold("INBOX."), "(error)", "INBOX. alone refused");
    {
        char big[400];
        memset(big, 'x', 300);
        big[300] = 0;
        CHECK_STR(fold(big), "(error)", "level over 255 bytes refused");
    }
    return UNIT_END();
}
