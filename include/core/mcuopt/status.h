/*
 * status.h - error codes and the last-error message of the mcuopt library.
 *
 * Every library function that can fail returns an mco_status. When it
 * returns something other than MCO_OK it has also recorded one human
 * readable line (without a trailing newline) that names the problem, e.g.
 * "model.mco: CRC mismatch (file is corrupt)". The CLI prints that line and
 * exits non-zero; the library itself never exits or prints.
 *
 * The message buffer is thread-local, so worker threads do not clobber the
 * message of the thread that reports the error.
 */
#ifndef MCUOPT_STATUS_H
#define MCUOPT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MCO_OK = 0,
    MCO_ERR_ARG,         /* invalid argument or option value */
    MCO_ERR_NOMEM,       /* an allocation failed */
    MCO_ERR_IO,          /* a file could not be opened, read or written */
    MCO_ERR_FORMAT,      /* a file's content is malformed or corrupt */
    MCO_ERR_SHAPE,       /* tensor shapes do not fit together */
    MCO_ERR_UNSUPPORTED, /* a layer, option or feature that is not supported */
    MCO_ERR_NOT_FOUND,   /* a named thing (architecture, data set, target) is missing */
    MCO_ERR_RANGE        /* a value is outside what is allowed (too large, does not fit) */
} mco_status;

/* Short fixed name of a status code, e.g. "format error". */
const char *mco_status_string(mco_status status);

/* Records the message for the current thread and returns `status`, so a
 * caller can write: return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno)); */
mco_status mco_error(mco_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The message recorded by the last failing call on this thread ("" if none). */
const char *mco_last_error(void);

/* Clears the message of the current thread. */
void mco_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
