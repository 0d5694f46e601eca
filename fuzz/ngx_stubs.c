
/*
 * ngx_mcp_oauth_module fuzzing: the few symbols the harnesses define in
 * place of nginx's.
 *
 * The harnesses link nginx's own objects from build/fuzz/nginx-objs/
 * libnginx.a (fuzz/build.sh), so only the objects the parsers reach are
 * linked: ngx_alloc.o, ngx_palloc.o, ngx_array.o, ngx_list.o, ngx_buf.o,
 * ngx_string.o, ngx_inet.o.  What those refer to in nginx's cycle and log
 * objects is defined here instead: taking ngx_cycle.o or ngx_log.o from the
 * archive would pull in the configuration parser, the modules and main().
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>
#include <stdlib.h>


/* ngx_string.c's ngx_sort() logs to ngx_cycle->log: no parser sorts */

volatile ngx_cycle_t  *ngx_cycle;


/*
 * In place of ngx_log.c's, which writes to log->file with the cached time
 * (nginx's main() sets both up): formats the message as nginx would, so
 * that every %V / %s argument is read, and drops it; MCP_FUZZ_LOG=1 in the
 * environment prints it.
 */

void ngx_cdecl
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    u_char      buf[NGX_MAX_ERROR_STR], *p;
    va_list     args;
    static int  print = -1;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (print == -1) {
        print = getenv("MCP_FUZZ_LOG") != NULL;
    }

    if (print) {
        fprintf(stderr, "[log %d] %.*s\n", (int) level, (int) (p - buf), buf);
    }
}


/*
 * UndefinedBehaviorSanitizer: harnesses are built with recoverable checks
 * (-fsanitize-recover=undefined) so that fuzz/ubsan.supp can suppress
 * reports already known and reported; any other report still ends the run
 * (halt_on_error=1), as with -fno-sanitize-recover.  UBSAN_OPTIONS in the
 * environment is applied after these defaults.  The suppressions file is
 * fuzz/ubsan.supp by its absolute path at build time (it must exist).
 */

#ifdef MCP_FUZZ_UBSAN_SUPP
#define MCP_FUZZ_UBSAN_SUPPRESSIONS  ":suppressions=" MCP_FUZZ_UBSAN_SUPP
#else
#define MCP_FUZZ_UBSAN_SUPPRESSIONS  ""
#endif

/* called before the process is set up: a constant, no libc */

const char *__ubsan_default_options(void);

const char *
__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1" MCP_FUZZ_UBSAN_SUPPRESSIONS;
}
