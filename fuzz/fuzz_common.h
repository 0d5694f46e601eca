
/*
 * ngx_mcp_oauth_module fuzzing: what every harness shares.
 *
 * A failed invariant prints what broke and calls abort(): libFuzzer reports
 * it as a crash ("deadly signal") with the stack and keeps the input.
 */

#ifndef _MCP_FUZZ_COMMON_H_INCLUDED_
#define _MCP_FUZZ_COMMON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sanitizer/allocator_interface.h>

/* weak: a coverage build (fuzz/coverage.sh) has no sanitizer allocator */
#pragma weak __sanitizer_get_allocated_size


#define MCP_FUZZ_CHECK(cond, ...)                                             \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "\n==mcp-fuzz== invariant failed at %s:%d: %s\n", \
                    __FILE__, __LINE__, #cond);                               \
            fprintf(stderr, "==mcp-fuzz== " __VA_ARGS__);                     \
            fprintf(stderr, "\n");                                            \
            abort();                                                          \
        }                                                                     \
    } while (0)


static ngx_log_t  mcp_fuzz_log;


/* once per process: what nginx's main() would have set */

static void
mcp_fuzz_init(ngx_uint_t log_level)
{
    static int  done;

    if (done) {
        return;
    }

    done = 1;

    ngx_pagesize = getpagesize();
    for (ngx_pagesize_shift = 0; (1UL << ngx_pagesize_shift) < ngx_pagesize;
         ngx_pagesize_shift++)
    {
        /* void */
    }

    ngx_cacheline_size = NGX_CPU_CACHE_LINE;

    mcp_fuzz_log.log_level = log_level;
}


static ngx_pool_t *
mcp_fuzz_pool(void)
{
    ngx_pool_t  *pool;

    pool = ngx_create_pool(1024, &mcp_fuzz_log);
    if (pool == NULL) {
        abort();
    }

    return pool;
}


/*
 * The input in a heap block of its own, exactly its size (an empty input
 * still gets a valid pointer): reads past the end are caught, and writes
 * into it are found by mcp_fuzz_input_done().
 */

static u_char *
mcp_fuzz_input(const uint8_t *data, size_t size)
{
    u_char  *p;

    p = malloc(size ? size : 1);
    if (p == NULL) {
        abort();
    }

    if (size) {
        memcpy(p, data, size);
    }

    return p;
}


static void
mcp_fuzz_input_done(u_char *copy, const uint8_t *data, size_t size)
{
    MCP_FUZZ_CHECK(size == 0 || memcmp(copy, data, size) == 0,
                   "the parser wrote into its input buffer");
    free(copy);
}


/* [p, p + len) inside [start, start + size) */

static int
mcp_fuzz_within(const u_char *p, size_t len, const u_char *start,
    size_t size)
{
    uintptr_t  a, s;

    /* as integers: no pointer arithmetic on NULL or across objects */

    a = (uintptr_t) p;
    s = (uintptr_t) start;

    return start != NULL && a >= s && a - s <= size
           && len <= size - (a - s);
}


/*
 * [p, p + len) inside one allocation of the pool.  With NGX_DEBUG_PALLOC
 * every allocation is a "large" one: a malloc() block whose size the
 * sanitizer allocator knows; the pool's own blocks are checked as well.
 */

static int
mcp_fuzz_in_pool(ngx_pool_t *pool, const u_char *p, size_t len)
{
    ngx_pool_t        *b;
    ngx_pool_large_t  *l;

    if (&__sanitizer_get_allocated_size == NULL) {
        return 1;
    }

    for (l = pool->large; l; l = l->next) {
        if (l->alloc
            && mcp_fuzz_within(p, len, l->alloc,
                               __sanitizer_get_allocated_size(l->alloc)))
        {
            return 1;
        }
    }

    for (b = pool; b; b = b->d.next) {
        if (mcp_fuzz_within(p, len, (u_char *) b, b->d.end - (u_char *) b)) {
            return 1;
        }
    }

    return 0;
}


/* a returned string: empty, or inside the input or inside the pool */

static void
mcp_fuzz_check_str(const char *what, ngx_str_t *s, ngx_pool_t *pool,
    const u_char *in, size_t size)
{
    if (s->len == 0) {
        return;
    }

    MCP_FUZZ_CHECK(s->data != NULL, "%s: NULL data with len %zu", what,
                   (size_t) s->len);

    MCP_FUZZ_CHECK(mcp_fuzz_within(s->data, s->len, in, size)
                   || mcp_fuzz_in_pool(pool, s->data, s->len),
                   "%s (%p, len %zu) is neither inside the input "
                   "(%p, len %zu) nor inside a pool allocation",
                   what, (void *) s->data, (size_t) s->len, (void *) in,
                   size);
}


/*
 * RFC 3629 well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF);
 * NUL is allowed (JSON "\u0000").
 */

static int
mcp_fuzz_utf8(const u_char *p, size_t len)
{
    size_t  i, n, k;
    u_char  c, lo, hi;

    for (i = 0; i < len; /* void */) {
        c = p[i];

        if (c < 0x80) {
            i++;
            continue;
        }

        lo = 0x80;
        hi = 0xbf;

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            lo = (c == 0xe0) ? 0xa0 : 0x80;
            hi = (c == 0xed) ? 0x9f : 0xbf;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            lo = (c == 0xf0) ? 0x90 : 0x80;
            hi = (c == 0xf4) ? 0x8f : 0xbf;

        } else {
            return 0;
        }

        if (len - i <= n) {
            return 0;
        }

        for (k = 1; k <= n; k++) {
            c = p[i + k];

            if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf)) {
                return 0;
            }
        }

        i += n + 1;
    }

    return 1;
}


static int
mcp_fuzz_str_eq(ngx_str_t *s, const char *p, size_t len)
{
    return s->len == len && (len == 0 || memcmp(s->data, p, len) == 0);
}


#endif /* _MCP_FUZZ_COMMON_H_INCLUDED_ */
