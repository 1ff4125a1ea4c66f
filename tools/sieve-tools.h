/*
 * sieve-tools - the migration modes of postern-sieve (tools/sieve.c
 * dispatches to them):
 *
 *   sieve-check.c    postern-sieve --check DIR: compile every user's
 *                    scripts under a mail root (postern layout, Dovecot
 *                    homes, Cyrus sieve directories)
 *   sieve-convert.c  postern-sieve convert FILE...|DIR: rewrite folder
 *                    names and Cyrus-isms of old scripts
 *
 * The tree walk both use (sv_walk) is bounded (depth) and never follows
 * a symbolic link: a linked directory is not entered.
 */
#ifndef POSTERN_SIEVE_TOOLS_H
#define POSTERN_SIEVE_TOOLS_H

#include <stddef.h>

#include "str.h"

#define SV_WALK_DEPTH 8              /* default --max-depth */
#define SV_SCRIPTS_MAX 1000000L      /* default --max-scripts */
/* entries read in one directory (a mail root's domain directory may hold
   every user); a larger directory is reported and not searched */
#define SV_DIR_ENTRIES_MAX 10000000L

/* called for every directory: path (DIR/...), rel ("" for DIR itself);
   return 1 to enter its subdirectories, 0 not to, -1 to stop the walk */
typedef int sv_walk_fn(void *ctx, const char *path, const char *rel,
                       int depth);

/*
 * sv_walk - depth-first from root (depth 0) to max_depth.  Not entered:
 * symbolic links, names starting with '.' (Maildir++ folders), and the
 * Maildir subdirectories cur, new and tmp.  0 done, 1 stopped by fn, -1
 * when a directory cannot be read (each one is reported through err_fn
 * and the walk goes on; the return says it happened).
 */
int sv_walk(const char *root, int max_depth, sv_walk_fn *fn, void *ctx,
            void (*err_fn)(void *ctx, const char *path, int errnum));

/* sv_path_inside - 1 if path (resolved, symbolic links followed) lies
   below or at the resolved root, 0 if not or if it cannot be resolved */
int sv_path_inside(const char *root_real, const char *path);

/* sv_json_string - append s as a JSON string (quotes, escapes) */
void sv_json_string(struct str *out, const char *s, size_t len);

int sieve_check_main(int argc, char **argv);
int sieve_convert_main(int argc, char **argv);

/*
 * sieve_convert_folder - one folder name from an old script: modified
 * UTF-7 (when it is pure ASCII and valid mUTF-7) -> UTF-8, "INBOX<sep>"
 * removed when strip_inbox ("INBOX" alone stays), the hierarchy
 * separator sep ('.' or '/') -> '/'.  Names with "${" (variables) are left
 * alone.  Pure; out gets the name (unchanged if nothing applies), *warn a
 * static note or NULL.  Returns 1 changed, 0 unchanged.
 */
int sieve_convert_folder(const char *in, size_t len, char sep,
                         int strip_inbox, struct str *out, const char **warn);

/* the options of one conversion */
struct sv_convert_opts {
    char sep;          /* the old hierarchy separator */
    int from_cyrus;    /* INBOX. prefixes, imapflags */
};

/*
 * sieve_convert_text - the converted script: every string literal that
 * names a folder (fileinto, :fcc, :mailbox, mailboxexists, metadata,
 * metadataexists, specialuse_exists) through sieve_convert_folder and,
 * with from_cyrus, require "imapflags" -> "imap4flags", mark/unmark ->
 * addflag/removeflag "\\Flagged".  Everything else (comments, layout) is
 * copied byte for byte.  The number of changes; notes (one line each,
 * "LINE: text") are appended to *notes.  -1 when the text cannot be
 * scanned (an unterminated string or comment), with *notes.
 */
int sieve_convert_text(const char *text, size_t len,
                       const struct sv_convert_opts *o, struct str *out,
                       struct str *notes);

/* sieve_scan_includes - fn for every include command of text whose name
   is a constant (no variables): its line, :global, :optional and the
   name.  0, or -1 when the text cannot be scanned. */
typedef void sv_include_fn(void *ctx, unsigned line, int global,
                           int optional, const char *name);
int sieve_scan_includes(const char *text, size_t len, sv_include_fn *fn,
                        void *ctx);

#endif
