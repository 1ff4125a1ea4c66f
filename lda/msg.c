/*
 * msg - reading one message into a spool, normalized for a Maildir.
 *
 * Input may use CRLF or bare LF line ends (pipe(8) sends LF, LMTP CRLF);
 * the spool holds LF lines.  A bare CR is kept.  NUL bytes become 0x80 so
 * no IMAP server ever sees a NUL.  A leading mbox "From " line is dropped
 * (the decision holds back the first bytes, so it does not depend on how
 * the input is split into reads; a "From:" header field is kept).
 * The message is kept in memory up to memmax bytes, then moved to an
 * unlinked file in temp_dir (O_TMPFILE, or mkstemp + unlink): a huge
 * message is streamed, never held in memory.  Bytes beyond max_size are
 * counted as "too big" and discarded, so the caller can still read its
 * input to the end and answer cleanly.
 *
 * The header section (up to the first empty line, at most
 * LDA_HDR_KEEP_MAX bytes) is also kept in m->header for header.c.
 *
 * Diagnostics: a spool failure sets m->io_error (errno) and makes
 * lda_msg_feed/lda_msg_finish return -1; the caller answers "temporary".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lda.h"
#include "file.h"
#include "mem.h"

void lda_msg_init(struct lda_msg *m, unsigned long long max_size,
                  size_t memmax, const char *temp_dir)
{
    /* m is fresh or was released with lda_msg_free() */
    memset(m, 0, offsetof(struct lda_msg, out));
    m->outlen = 0;
    m->fd = -1;
    m->max_size = max_size;
    m->memmax = memmax;
    m->temp_dir = temp_dir;
    m->at_bol = 1;
    m->in_header = 1;
}

void lda_msg_free(struct lda_msg *m)
{
    free(m->mem);
    m->mem = NULL;
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
    str_free(&m->header);
}

static int spool_open(struct lda_msg *m)
{
    char path[LDA_PATH_MAX];
    int fd;

    fd = open(m->temp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    if ((size_t)snprintf(path, sizeof(path), "%s/postern-lda.XXXXXX",
                         m->temp_dir) >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = mkstemp(path)) < 0)
        return -1;
    unlink(path);
    return fd;
}

static int flush_out(struct lda_msg *m)
{
    if (m->outlen == 0 || m->io_error)
        return m->io_error ? -1 : 0;
    if (m->fd < 0 && m->memlen + m->outlen <= m->memmax) {
        if (m->memlen + m->outlen > m->memcap) {
            size_t cap = m->memcap ? m->memcap : 65536;
            while (cap < m->memlen + m->outlen)
                cap *= 2;
            m->mem = xrealloc(m->mem, cap);
            m->memcap = cap;
        }
        memcpy(m->mem + m->memlen, m->out, m->outlen);
        m->memlen += m->outlen;
        m->outlen = 0;
        return 0;
    }
    if (m->fd < 0) {
        if ((m->fd = spool_open(m)) < 0 ||
            file_write_all(m->fd, m->mem ? m->mem : "", m->memlen) < 0)
            return m->io_error = errno ? errno : EIO, -1;
        free(m->mem);
        m->mem = NULL;
        m->memlen = m->memcap = 0;
    }
    if (file_write_all(m->fd, m->out, m->outlen) < 0)
        return m->io_error = errno ? errno : EIO, -1;
    m->outlen = 0;
    return 0;
}

static inline int emit(struct lda_msg *m, unsigned char c)
{
    if (m->size >= m->max_size) {
        m->too_big = 1;
        return 0;
    }
    m->size++;
    if (m->in_header) {
        if (m->at_bol && c == '\n')
            m->in_header = 0;
        else if (m->header.len < LDA_HDR_KEEP_MAX)
            str_append_char(&m->header, (char)c);
        else
            m->header_truncated = 1;
    }
    m->at_bol = c == '\n';
    if (c == '\n')
        m->lines++;
    m->out[m->outlen++] = (char)c;
    if (m->outlen == sizeof(m->out))
        return flush_out(m);
    return 0;
}

/* put - one input byte: CRLF -> LF, NUL -> 0x80, From_ line skipped */
static int put(struct lda_msg *m, unsigned char c)
{
    if (m->skipping_from) {
        if (c == '\n')
            m->skipping_from = 0;
        return 0;
    }
    if (m->pending_cr) {
        m->pending_cr = 0;
        if (c == '\n')
            return emit(m, '\n');
        if (emit(m, '\r') < 0)
            return -1;
    }
    if (c == '\r') {
        m->pending_cr = 1;
        return 0;
    }
    return emit(m, c == '\0' ? 0x80 : c);
}

/* release_lead - the From_ decision is made: pass the held bytes on */
static int release_lead(struct lda_msg *m)
{
    m->started = 1;
    for (size_t i = 0; i < m->leadlen; i++)
        if (put(m, (unsigned char)m->lead[i]) < 0)
            return -1;
    m->leadlen = 0;
    return 0;
}

/*
 * The From_ decision looks at the first five bytes however the input is
 * split into reads: they are held in m->lead until they either spell
 * "From " (the line is dropped) or stop matching it (a "From:" header, a
 * short first line, anything else: kept).
 */
int lda_msg_feed(struct lda_msg *m, const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = 0;

    if (m->io_error)
        return -1;
    while (!m->started && i < len) {
        m->lead[m->leadlen++] = (char)p[i++];
        if (memcmp(m->lead, "From ", m->leadlen) != 0) {
            if (release_lead(m) < 0)
                return -1;
        } else if (m->leadlen == 5) {
            m->started = 1;
            m->skipping_from = 1;
            m->leadlen = 0;
        }
    }
    for (; i < len; i++)
        if (put(m, p[i]) < 0)
            return -1;
    return 0;
}

int lda_msg_finish(struct lda_msg *m)
{
    if (m->io_error)
        return -1;
    if (!m->started && release_lead(m) < 0) /* under 5 bytes in all */
        return -1;
    if (m->pending_cr) {
        m->pending_cr = 0;
        if (emit(m, '\r') < 0)
            return -1;
    }
    return flush_out(m);
}

int lda_msg_write_to(struct lda_msg *m, int fd)
{
    char buf[65536];
    loff_t off = 0;

    if (m->fd < 0)
        return file_write_all(fd, m->mem ? m->mem : "", m->memlen);
    while ((unsigned long long)off < m->size) {
        ssize_t n = copy_file_range(m->fd, &off, fd, NULL,
                                    (size_t)(m->size - (unsigned long long)off),
                                    0);
        if (n > 0)
            continue;
        if (n == 0)
            return errno = EIO, -1; /* the spool shrank */
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
            errno != EOPNOTSUPP)
            return -1;
        /* fall back to plain copying */
        while ((unsigned long long)off < m->size) {
            ssize_t r = pread(m->fd, buf, sizeof(buf), off);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return errno = r == 0 ? EIO : errno, -1;
            if (file_write_all(fd, buf, (size_t)r) < 0)
                return -1;
            off += r;
        }
    }
    return 0;
}
