/*
 * fuzz_managesieve - postern-managesieve's command parser
 * (managesieve/parse.c, ms_parse_cmd: atoms, quoted strings, literals
 * {n} and {n+}) on the byte stream a client sends, consumed as
 * managesieve/proto.c consumes it (a bad line is skipped, a literal over
 * the limit is skipped with the rest of its line), and ms_quote.
 * Input: byte 0 picks the literal limit, the rest is the stream.
 * Checks: a parse that succeeds consumes at least one byte and no more
 * than it was given, with at most MS_ARGS_MAX arguments; every argument
 * quoted with ms_quote parses back to the same bytes.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "msieve.h"

static void roundtrip(const struct str *arg)
{
    struct str line = STR_INIT;
    struct ms_cmd cmd;
    size_t used;
    unsigned long long big;

    memset(&cmd, 0, sizeof(cmd));
    str_append_cstr(&line, "PUTSCRIPT ");
    ms_quote(&line, arg->data ? arg->data : "", arg->len);
    str_append(&line, "\r\n", 2);
    if (ms_parse_cmd(line.data, line.len, 1 << 20, &cmd, &used, &big) !=
            MS_P_OK ||
        used != line.len || cmd.nargs != 1 || cmd.arg[0].len != arg->len ||
        (arg->len && memcmp(cmd.arg[0].data, arg->data, arg->len) != 0))
        abort();
    ms_cmd_free(&cmd);
    str_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    size_t max_lit = fuzz_byte(&in) & 1 ? 64 : 1 << 20;
    struct ms_cmd cmd;
    const char *p = in.p;
    size_t left = in.left;

    memset(&cmd, 0, sizeof(cmd));
    while (left > 0) {
        size_t used = 0;
        unsigned long long big = 0;
        enum ms_parse r = ms_parse_cmd(p, left, max_lit, &cmd, &used, &big);
        if (r == MS_P_MORE || (r == MS_P_BAD && used == 0))
            break;
        if (used > left || (r == MS_P_OK && used == 0))
            abort();
        if (r == MS_P_OK) {
            if (cmd.nargs > MS_ARGS_MAX)
                abort();
            for (size_t i = 0; i < cmd.nargs; i++)
                roundtrip(&cmd.arg[i]);
        }
        p += used;
        left -= used;
        if (r == MS_P_TOOBIG) {
            const char *nl;
            size_t skip = big < left ? (size_t)big : left;
            p += skip;
            left -= skip;
            if ((nl = memchr(p, '\n', left)) == NULL)
                break;
            left -= (size_t)(nl + 1 - p);
            p = nl + 1;
        }
    }
    ms_cmd_free(&cmd);
    return 0;
}
