/* Thread-local error state behind reptile_error_last(). */
#include "core/error_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[RP_ERROR_MAX];
static _Thread_local int last_code;

const char *reptile_strerror(int code)
{
    switch (code) {
    case REPTILE_OK: return "success";
    case REPTILE_EINVAL: return "invalid argument";
    case REPTILE_ENOMEM: return "out of memory";
    case REPTILE_EIO: return "input/output error";
    case REPTILE_EFORMAT: return "malformed file";
    case REPTILE_ENOTFOUND: return "not found";
    case REPTILE_ESHAPE: return "shape mismatch";
    case REPTILE_EDIVERGED: return "training diverged (NaN or Inf)";
    case REPTILE_EUNSUPPORTED: return "unsupported";
    case REPTILE_ESTATE: return "call not allowed in this state";
    case REPTILE_EVERSION: return "unknown version";
    case REPTILE_ETHREAD: return "thread error";
    case REPTILE_EDATA: return "unsuitable data set";
    default: return "unknown error";
    }
}

const char *reptile_error_last(void) { return last_message; }

int reptile_error_last_code(void) { return last_code; }

void reptile_error_clear(void)
{
    last_message[0] = '\0';
    last_code = 0;
}

int rp_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    last_code = code;
    return code;
}

int rp_error_wrap(int code, const char *fmt, ...)
{
    /* Build "prefix: old message", truncated to the buffer (deliberately). */
    char out[RP_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, sizeof out, fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n < sizeof out ? (size_t)n : sizeof out - 1;
    static const char sep[] = ": ";
    for (size_t i = 0; sep[i] && used < sizeof out - 1; ++i)
        out[used++] = sep[i];
    size_t old = strlen(last_message);
    size_t room = sizeof out - 1 - used;
    size_t take = old < room ? old : room;
    memcpy(out + used, last_message, take);
    out[used + take] = '\0';
    memcpy(last_message, out, used + take + 1);
    last_code = code;
    return code;
}

void rp_error_save(rp_error_saved *saved, int code)
{
    saved->code = code;
    memcpy(saved->message, last_message, sizeof saved->message);
}

int rp_error_raise(const rp_error_saved *saved)
{
    return rp_error(saved->code, "%s", saved->message);
}
