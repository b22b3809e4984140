#include "smap.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static size_t smap_hash(const char *s)
{
	size_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

struct smap_entry *smap_find(const struct smap *m, const char *key)
{
	struct smap_entry *e;

	if (!m->nb)
		return NULL;
	for (e = m->b[smap_hash(key) & (m->nb - 1)]; e; e = e->next)
		if (!strcmp(e->key, key))
			return e;
	return NULL;
}

void *smap_get(const struct smap *m, const char *key, int *found)
{
	struct smap_entry *e = smap_find(m, key);

	if (found)
		*found = e != NULL;
	return e ? e->val : NULL;
}

void smap_put(struct smap *m, const char *key, void *val)
{
	struct smap_entry *e = smap_find(m, key);
	size_t i, h;

	if (e) {
		e->val = val;
		return;
	}
	if (m->n + 1 > m->nb) {
		size_t nb = m->nb ? m->nb * 2 : 64;
		struct smap_entry **b = xcalloc(nb, sizeof(*b));

		for (i = 0; i < m->nb; i++) {
			struct smap_entry *x, *next;

			for (x = m->b[i]; x; x = next) {
				next = x->next;
				h = smap_hash(x->key) & (nb - 1);
				x->next = b[h];
				b[h] = x;
			}
		}
		free(m->b);
		m->b = b;
		m->nb = nb;
	}
	e = xmalloc(sizeof(*e));
	e->key = xstrdup(key);
	e->val = val;
	h = smap_hash(key) & (m->nb - 1);
	e->next = m->b[h];
	m->b[h] = e;
	m->n++;
}

void *smap_del(struct smap *m, const char *key)
{
	struct smap_entry **p, *e;
	void *val;

	if (!m->nb)
		return NULL;
	for (p = &m->b[smap_hash(key) & (m->nb - 1)]; (e = *p); p = &e->next) {
		if (strcmp(e->key, key))
			continue;
		*p = e->next;
		val = e->val;
		free(e->key);
		free(e);
		m->n--;
		return val;
	}
	return NULL;
}

void smap_release(struct smap *m, void (*free_val)(void *))
{
	size_t i;

	for (i = 0; i < m->nb; i++) {
		struct smap_entry *e, *next;

		for (e = m->b[i]; e; e = next) {
			next = e->next;
			if (free_val)
				free_val(e->val);
			free(e->key);
			free(e);
		}
	}
	free(m->b);
	memset(m, 0, sizeof(*m));
}
