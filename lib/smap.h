/*
 * smap.h - a small string-keyed hash map of pointers (FNV-1a, chained,
 * doubling), for the schema store's lookups and the apply cache.
 *
 *	struct smap m = SMAP_INIT;
 *	smap_put(&m, "apps/v1/Deployment", kind);	// the key is copied
 *	k = smap_get(&m, "apps/v1/Deployment", &found);
 *	smap_release(&m, free_kind);
 */
#ifndef TIDEGATE_SMAP_H
#define TIDEGATE_SMAP_H

#include <stddef.h>

struct smap_entry {
	char *key;
	void *val;
	struct smap_entry *next;
};

struct smap {
	struct smap_entry **b;
	size_t nb, n;		/* buckets (a power of two, or 0), entries */
};
#define SMAP_INIT { NULL, 0, 0 }

/* The entry of key, or NULL. */
struct smap_entry *smap_find(const struct smap *m, const char *key);
/* The value of key, NULL when absent (*found, when given, tells a stored NULL apart). */
void *smap_get(const struct smap *m, const char *key, int *found);
/* Sets key's value (a new key is copied). */
void smap_put(struct smap *m, const char *key, void *val);
/* Removes key and returns its value (NULL when absent). */
void *smap_del(struct smap *m, const char *key);
/* Frees every entry (free_val, when given, on each value); m is empty and reusable. */
void smap_release(struct smap *m, void (*free_val)(void *));

#endif
