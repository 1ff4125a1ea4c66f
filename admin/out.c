/*
 * out.c - what postern prints: rows as tab-separated values under a header
 * line ("# col1<TAB>col2"), or with --json one JSON array of objects keyed
 * by column name.  Values are printed as given; TSV replaces tab and
 * newline inside a value by a space so one row stays one line.
 */
#include <string.h>

#include "admin.h"

void admin_json_str(struct str *out, const char *s)
{
    str_append_char(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': str_append_cstr(out, "\\\""); break;
        case '\\': str_append_cstr(out, "\\\\"); break;
        case '\n': str_append_cstr(out, "\\n"); break;
        case '\r': str_append_cstr(out, "\\r"); break;
        case '\t': str_append_cstr(out, "\\t"); break;
        default:
            if (*p < 0x20)
                str_appendf(out, "\\u%04x", *p);
            else
                str_append_char(out, (char)*p);
        }
    }
    str_append_char(out, '"');
}

void admin_out_begin(struct admin_out *o, struct admin *a,
                     const char *const *cols)
{
    o->a = a;
    o->cols = cols;
    o->nrows = 0;
    for (o->ncols = 0; cols[o->ncols]; o->ncols++)
        ;
    if (a->json) {
        fputs("[", stdout);
        return;
    }
    fputs("#", stdout);
    for (unsigned i = 0; i < o->ncols; i++)
        printf("%s%s", i ? "\t" : " ", cols[i]);
    fputc('\n', stdout);
}

void admin_out_row(struct admin_out *o, char *const *vals)
{
    struct str line = {0};
    if (o->a->json) {
        str_append_cstr(&line, o->nrows ? ",\n {" : "\n {");
        for (unsigned i = 0; i < o->ncols; i++) {
            if (i)
                str_append_cstr(&line, ", ");
            admin_json_str(&line, o->cols[i]);
            str_append_cstr(&line, ": ");
            if (vals[i])
                admin_json_str(&line, vals[i]);
            else
                str_append_cstr(&line, "null");
        }
        str_append_char(&line, '}');
    } else {
        for (unsigned i = 0; i < o->ncols; i++) {
            const char *v = vals[i] ? vals[i] : "-";
            size_t at = line.len;
            if (i)
                str_append_char(&line, '\t');
            at = line.len;
            str_append_cstr(&line, v);
            for (size_t k = at; k < line.len; k++)
                if (line.data[k] == '\t' || line.data[k] == '\n' ||
                    line.data[k] == '\r')
                    line.data[k] = ' ';
        }
        str_append_char(&line, '\n');
    }
    fwrite(line.data, 1, line.len, stdout);
    str_free(&line);
    o->nrows++;
}

void admin_out_end(struct admin_out *o)
{
    if (o->a->json)
        fputs(o->nrows ? "\n]\n" : "]\n", stdout);
}

int admin_out_dbrow(void *ctx, unsigned ncols, char **vals,
                    const unsigned long *lens)
{
    struct admin_out *o = ctx;
    (void)lens;
    (void)ncols;
    admin_out_row(o, vals);
    return 0;
}
