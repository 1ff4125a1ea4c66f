/*
 * fuzz - what every libFuzzer target of fuzz/ shares: the entry points'
 * prototypes (-Wmissing-prototypes) and a reader that splits one input
 * into parts (a control byte, then NUL-separated fields).
 */
#ifndef POSTERN_FUZZ_H
#define POSTERN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct fuzz_in {
    const char *p;
    size_t left;
};

/* fuzz_byte - the next byte, 0 when the input is used up */
static inline unsigned fuzz_byte(struct fuzz_in *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return (unsigned char)*in->p++;
}

/* fuzz_field - the bytes up to the next NUL (or the end); *len its length;
   NULL when nothing is left */
static inline const char *fuzz_field(struct fuzz_in *in, size_t *len)
{
    const char *s = in->p, *nul;

    if (in->left == 0) {
        *len = 0;
        return NULL;
    }
    nul = memchr(s, '\0', in->left);
    *len = nul ? (size_t)(nul - s) : in->left;
    in->p += *len + (nul != NULL);
    in->left -= *len + (nul != NULL);
    return s;
}

#endif
