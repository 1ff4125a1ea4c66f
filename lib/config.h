/*
 * config - the one postern configuration file: INI style, table driven.
 *
 *   # comment          ; comment
 *   [section]
 *   key = value
 *
 * Every key is declared in a table (struct cfg_def): name, type, default (as
 * text, parsed like a value from the file), minimum and maximum.  Unknown
 * sections, unknown keys, duplicate keys and bad values are errors reported
 * as "FILE:LINE: message".  Values are whole lines after '=' with surrounding
 * blanks removed; there are no inline comments and no quoting.
 *
 * Types and their storage (at def->offset inside the section's struct):
 *   CFG_STR   char *        (malloc'd; max = longest accepted length, 0 = 4096)
 *   CFG_INT   long long     (decimal)
 *   CFG_BOOL  int           yes/no, true/false, on/off, 1/0
 *   CFG_TIME  long long     milliseconds; "250ms", "5" or "5s", "2m", "1h", "1d"
 *   CFG_SIZE  long long     bytes; "512", "64k", "10M", "1G" (powers of 1024)
 *   CFG_ENUM  int           index into def->choices ("a|b|c")
 *
 * Limits: CFG_LINE_MAX bytes per line, CFG_FILE_MAX bytes per file.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "str.h"

#define CFG_LINE_MAX 4096
#define CFG_FILE_MAX (1024 * 1024)
#define CFG_STR_DEFAULT_MAX 4096

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_TIME, CFG_SIZE, CFG_ENUM };

struct cfg_def {
    const char *name;
    enum cfg_type type;
    const char *def;     /* default, as it would be written in the file */
    long long min, max;  /* numeric bounds; for CFG_STR max is the length */
    size_t offset;       /* where the value lives in the section struct */
    const char *choices; /* CFG_ENUM: "a|b|c" */
};

struct cfg_section {
    const char *name;          /* "maps" */
    const struct cfg_def *defs;/* terminated by a row with name == NULL */
    void *target;              /* the struct the values are stored in */
};

/*
 * cfg_load - set every declared key to its default, then read path.
 * Sections in `ignored` (NULL-terminated list of names, may be NULL) are
 * skipped without checking (they belong to another program).  Returns 0, or
 * -1 with the message in *err.  On error the targets hold partial values:
 * call cfg_free() on them.
 */
int cfg_load(const char *path, const struct cfg_section *sections,
             size_t nsections, const char *const *ignored, struct str *err);

/*
 * cfg_load_keys - set the keys of defs to their defaults, then read only
 * those keys of [section] from path: other sections and the section's
 * other keys (another program's) are skipped unchecked; the keys read are
 * checked as by cfg_load (bounds, duplicates, FILE:LINE).  For a program
 * that shares a few settings of another's section (postern-forward reads
 * the srs_* keys of [maps]).  0, or -1 with *err.
 */
int cfg_load_keys(const char *path, const char *section,
                  const struct cfg_def *defs, void *target, struct str *err);

/* cfg_defaults - set every key of the sections to its default. */
int cfg_defaults(const struct cfg_section *sections, size_t nsections,
                 struct str *err);

/*
 * cfg_print_defaults - write every key of the sections with its default,
 * type and bounds, as a commented configuration file (the -d option).
 */
void cfg_print_defaults(FILE *fp, const struct cfg_section *sections,
                        size_t nsections);

/* cfg_free - free the strings the sections own. */
void cfg_free(const struct cfg_section *sections, size_t nsections);

/*
 * cfg_parse_value - parse one value for def into the target struct.  Returns
 * 0, or -1 with a message (without file:line) in *err.
 */
int cfg_parse_value(const struct cfg_def *def, void *target, const char *val,
                    struct str *err);

/*
 * cfg_list_next - iterate over a comma- or blank-separated list: copies the
 * next item into item (size itemsize) and advances *cursor.  Returns 1 for
 * an item, 0 at the end, -1 if an item is longer than itemsize - 1.
 */
int cfg_list_next(const char **cursor, char *item, size_t itemsize);

#define CFG_FIELD(type, field) offsetof(type, field)

/* cfg_octal_mode - a mode written in octal digits (660) as a number
   (0660); cfg_octal_valid - 1 if every digit is 0-7. */
unsigned cfg_octal_mode(long long digits);
int cfg_octal_valid(long long digits);

#endif
