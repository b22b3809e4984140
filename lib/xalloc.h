/*
 * xalloc.h - allocation helpers that check for size overflow.
 *
 * Every x*() function either returns usable memory or aborts the process
 * with a message on stderr: running out of memory is not something the
 * callers can recover from, and a size overflow is a bug (all untrusted
 * sizes are capped before they reach an allocator). abort() rather than
 * exit() so a core dump shows where it happened.
 *
 * Callers that must survive a hostile size use size_mul()/size_add(),
 * which report overflow instead.
 *
 * Ownership: the caller owns every pointer returned and frees it with free().
 */
#ifndef TIDEGATE_XALLOC_H
#define TIDEGATE_XALLOC_H

#include <stddef.h>

/* *out = a * b; returns 0, or -1 when the product overflows size_t. */
int size_mul(size_t a, size_t b, size_t *out);
/* *out = a + b; returns 0, or -1 when the sum overflows size_t. */
int size_add(size_t a, size_t b, size_t *out);

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* malloc(nmemb * size), aborting on overflow. */
void *xmallocarray(size_t nmemb, size_t size);
/* realloc(ptr, nmemb * size), aborting on overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Formats into a freshly allocated string. */
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Grows *ptr (an array of *alloc elements of elem_size bytes) so that it
 * holds at least need elements, roughly doubling; git's ALLOC_GROW.
 */
void xgrow(void **ptr, size_t elem_size, size_t need, size_t *alloc);
#define XGROW(ptr, need, alloc) \
	xgrow((void **)&(ptr), sizeof(*(ptr)), (need), &(alloc))

#endif
