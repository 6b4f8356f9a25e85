/*
 * status.c - thread-local last-error message and status names (see status.h).
 */
#include "mcuopt/status.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[512];

const char *mco_status_string(mco_status status)
{
    switch (status) {
    case MCO_OK: return "ok";
    case MCO_ERR_ARG: return "invalid argument";
    case MCO_ERR_NOMEM: return "out of memory";
    case MCO_ERR_IO: return "i/o error";
    case MCO_ERR_FORMAT: return "format error";
    case MCO_ERR_SHAPE: return "shape error";
    case MCO_ERR_UNSUPPORTED: return "unsupported";
    case MCO_ERR_NOT_FOUND: return "not found";
    case MCO_ERR_RANGE: return "out of range";
    }
    return "unknown status";
}

mco_status mco_error(mco_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    /* One line, as status.h promises, whatever the message quotes from the
     * input (a newline in a JSON string, an SQLite schema's text): control
     * characters become spaces. */
    for (char *c = last_error; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
    return status;
}

const char *mco_last_error(void)
{
    return last_error;
}

void mco_clear_error(void)
{
    last_error[0] = '\0';
}
