/*
 * manifest.c - Kubernetes objects out of parsed YAML documents, with
 * the structural checks every object gets before any schema: required
 * fields, names, labels and annotations, namespaces on cluster-scoped
 * kinds, YAML 1.1 traps in the string fields where they bite, and
 * duplicates across the set.
 */
#include "manifest.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---------------------------------------------------------- */

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static const char *check_label_like(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return "must not be empty";
	if (len > 63)
		return "must be no more than 63 characters";
	for (i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return "must consist of lower case alphanumeric characters or '-'";
	if (s[0] == '-' || s[len - 1] == '-')
		return "must start and end with a lower case alphanumeric character";
	return NULL;
}

const char *check_dns1123_label(const char *s)
{
	if (!s)
		return "must not be empty";
	return check_label_like(s, strlen(s));
}

const char *check_dns1123_subdomain(const char *s)
{
	size_t len, i;

	if (!s || !*s)
		return "must not be empty";
	len = strlen(s);
	if (len > 253)
		return "must be no more than 253 characters";
	for (i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-' && s[i] != '.')
			return "must consist of lower case alphanumeric characters, '-' or '.'";
	if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return "must start and end with a lower case alphanumeric character";
	for (i = 1; i < len; i++)
		if (s[i] == '.' && (s[i - 1] == '.' || s[i - 1] == '-' || s[i + 1] == '-'))
			return "each part between dots must start and end with an alphanumeric character";
	return NULL;
}

/* Role and binding names are path segments: anything but ".", ".." or text with '/' or '%'. */
static const char *check_path_segment(const char *s)
{
	if (!s || !*s)
		return "must not be empty";
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "may not be '.' or '..'";
	if (strchr(s, '/') || strchr(s, '%'))
		return "may not contain '/' or '%'";
	return NULL;
}

static const char *check_qualified_name(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return "name part must not be empty";
	if (len > 63)
		return "name part must be no more than 63 characters";
	for (i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return "name part must consist of alphanumeric characters, '-', '_' or '.'";
	if (!is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return "name part must start and end with an alphanumeric character";
	return NULL;
}

const char *check_label_key(const char *s)
{
	const char *slash;

	if (!s || !*s)
		return "must not be empty";
	slash = strchr(s, '/');
	if (slash) {
		char prefix[300];
		size_t plen = slash - s;
		const char *why;

		if (!plen)
			return "prefix part must not be empty";
		if (plen > 253)
			return "prefix part must be no more than 253 characters";
		memcpy(prefix, s, plen);
		prefix[plen] = '\0';
		if ((why = check_dns1123_subdomain(prefix)))
			return "prefix part must be a DNS subdomain (lower case alphanumerics, '-', '.')";
		s = slash + 1;
		if (strchr(s, '/'))
			return "may contain at most one '/'";
	}
	return check_qualified_name(s, strlen(s));
}

const char *check_label_value(const char *s)
{
	size_t len;

	if (!s)
		return NULL;
	len = strlen(s);
	if (!len)
		return NULL;
	if (len > 63)
		return "must be no more than 63 characters";
	return check_qualified_name(s, len) ?
		"must consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character" :
		NULL;
}

/* ---- scope ---------------------------------------------------------- */

static const struct {
	const char *group, *kind;
} cluster_scoped[] = {
	{ "", "ComponentStatus" },
	{ "", "Namespace" },
	{ "", "Node" },
	{ "", "PersistentVolume" },
	{ "admissionregistration.k8s.io", "MutatingAdmissionPolicy" },
	{ "admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding" },
	{ "admissionregistration.k8s.io", "MutatingWebhookConfiguration" },
	{ "admissionregistration.k8s.io", "ValidatingAdmissionPolicy" },
	{ "admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding" },
	{ "admissionregistration.k8s.io", "ValidatingWebhookConfiguration" },
	{ "apiextensions.k8s.io", "CustomResourceDefinition" },
	{ "apiregistration.k8s.io", "APIService" },
	{ "authentication.k8s.io", "SelfSubjectReview" },
	{ "authentication.k8s.io", "TokenReview" },
	{ "authorization.k8s.io", "SelfSubjectAccessReview" },
	{ "authorization.k8s.io", "SelfSubjectRulesReview" },
	{ "authorization.k8s.io", "SubjectAccessReview" },
	{ "certificates.k8s.io", "CertificateSigningRequest" },
	{ "certificates.k8s.io", "ClusterTrustBundle" },
	{ "flowcontrol.apiserver.k8s.io", "FlowSchema" },
	{ "flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration" },
	{ "networking.k8s.io", "IPAddress" },
	{ "networking.k8s.io", "IngressClass" },
	{ "networking.k8s.io", "ServiceCIDR" },
	{ "node.k8s.io", "RuntimeClass" },
	{ "policy", "PodSecurityPolicy" },
	{ "rbac.authorization.k8s.io", "ClusterRole" },
	{ "rbac.authorization.k8s.io", "ClusterRoleBinding" },
	{ "resource.k8s.io", "DeviceClass" },
	{ "resource.k8s.io", "ResourceSlice" },
	{ "scheduling.k8s.io", "PriorityClass" },
	{ "storage.k8s.io", "CSIDriver" },
	{ "storage.k8s.io", "CSINode" },
	{ "storage.k8s.io", "StorageClass" },
	{ "storage.k8s.io", "VolumeAttachment" },
	{ "storage.k8s.io", "VolumeAttributesClass" },
	{ "storagemigration.k8s.io", "StorageVersionMigration" },
	{ "internal.apiserver.k8s.io", "StorageVersion" },
};

int kind_is_cluster_scoped(const char *group, const char *kind)
{
	size_t i;

	if (!kind)
		return 0;
	for (i = 0; i < sizeof(cluster_scoped) / sizeof(cluster_scoped[0]); i++)
		if (kind[0] == cluster_scoped[i].kind[0] && !strcmp(kind, cluster_scoped[i].kind) &&
		    (!group || !strcmp(group, cluster_scoped[i].group)))
			return 1;
	return 0;
}

/* ---- findings with object context ---------------------------------- */

#define JSEG_MAX 256

/* The JSON path of the walk, kept as pieces and spelled only for a finding. */
struct jseg {
	const char *key;	/* NULL: an index */
	size_t index;
};

struct objcheck {
	struct findings *fs;
	const struct kobj *o;
	const char *path;
	struct jseg segs[JSEG_MAX];
	size_t nsegs;
	char jpath[512];	/* JPATH(c) spells the pieces here */
	size_t jlen;
};

#define JPATH(c) jpath_spell(c)

static void vreport(struct objcheck *c, const struct ynode *at, enum severity sev,
		    const char *rule, const char *hint, const char *jpath, const char *fmt,
		    va_list ap)
{
	struct finding *f;
	char *msg;
	unsigned line = at ? at->line : c->o ? c->o->line : 0;
	unsigned col = at ? at->col : c->o ? c->o->col : 0;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	f = findings_add(c->fs, c->path, line, col, sev, rule, hint, "%s", msg);
	free(msg);
	if (!f)
		return;
	if (jpath && *jpath)
		f->jpath = xstrdup(jpath);
	if (c->o && c->o->id)
		f->object = xstrdup(c->o->id);
}

__attribute__((format(printf, 7, 8)))
static void report(struct objcheck *c, const struct ynode *at, enum severity sev,
		   const char *rule, const char *hint, const char *jpath, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, at, sev, rule, hint, jpath, fmt, ap);
	va_end(ap);
}

/* Appends the pieces to the spelled path; a piece that would not fit is left out. */
static void jpath_add(struct objcheck *c, const char *a, const char *b, size_t blen,
		      const char *z)
{
	size_t la = strlen(a), lz = strlen(z);

	if (la + blen + lz >= sizeof(c->jpath) - c->jlen)
		return;
	memcpy(c->jpath + c->jlen, a, la);
	memcpy(c->jpath + c->jlen + la, b, blen);
	memcpy(c->jpath + c->jlen + la + blen, z, lz);
	c->jlen += la + blen + lz;
	c->jpath[c->jlen] = '\0';
}

/* The JSON path of the walk's place, as ".spec.containers[0]" or "[\"a/b\"]". */
static const char *jpath_spell(struct objcheck *c)
{
	size_t s;

	c->jlen = 0;
	c->jpath[0] = '\0';
	for (s = 0; s < c->nsegs; s++) {
		const char *key = c->segs[s].key;

		if (key) {
			size_t i, plain = 1;

			for (i = 0; key[i]; i++)
				if (!is_alnum(key[i]) && key[i] != '_' && key[i] != '-')
					plain = 0;
			if (plain && *key)
				jpath_add(c, ".", key, i, "");
			else
				jpath_add(c, "[\"", key, i, "\"]");
		} else {
			char num[24];
			size_t n = sizeof(num), v = c->segs[s].index;

			do {
				num[--n] = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			jpath_add(c, "[", num + n, sizeof(num) - n, "]");
		}
	}
	return c->jpath;
}

static size_t jpath_push_key(struct objcheck *c, const char *key)
{
	size_t old = c->nsegs;

	if (old < JSEG_MAX) {
		c->segs[old].key = key;
		c->nsegs++;
	}
	return old;
}

static size_t jpath_push_index(struct objcheck *c, size_t i)
{
	size_t old = c->nsegs;

	if (old < JSEG_MAX) {
		c->segs[old].key = NULL;
		c->segs[old].index = i;
		c->nsegs++;
	}
	return old;
}

static void jpath_pop(struct objcheck *c, size_t old)
{
	c->nsegs = old;
}

static const char *scalar_type_name(const struct ynode *n)
{
	if (n->kind == YN_MAP)
		return "a map";
	if (n->kind == YN_SEQ)
		return "a list";
	switch (n->stype) {
	case YS_BOOL:
		return "a bool";
	case YS_INT:
		return "an int";
	case YS_FLOAT:
		return "a float";
	case YS_NULL:
		return "null";
	case YS_STRING:
		return "a string";
	}
	return "a value";
}

/* A plain scalar whose meaning differs in YAML 1.1 (kubectl's reader among them). */
static void check_trap(struct objcheck *c, const struct ynode *v, const char *what)
{
	const char *m = ynode_yaml11(v);

	if (!m)
		return;
	report(c, v, SEV_WARNING, "yaml11-trap",
	       "quote the value (\"...\") so every YAML reader sees the same thing", JPATH(c),
	       "%s %s is a string in YAML 1.2 but a YAML 1.1 reader (such as kubectl) reads it as %s %s",
	       what, v->str, !strcmp(m, "int") || !strncmp(m, "octal", 5) ? "an" : "a", m);
}

static void check_label_map(struct objcheck *c, const struct ynode *m, int annotations)
{
	size_t i, total = 0;

	if (!m || m->kind != YN_MAP) {
		if (m && !ynode_is_null(m))
			report(c, m, SEV_ERROR, "invalid-label", NULL, JPATH(c),
			       "%s must be a map of strings, not %s",
			       annotations ? "annotations" : "labels", scalar_type_name(m));
		return;
	}
	for (i = 0; i < m->n; i++) {
		const struct ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1];
		const char *key = k->kind == YN_SCALAR ? k->str : NULL, *why;
		size_t old;

		if (!key) {
			report(c, k, SEV_ERROR, "invalid-label", NULL, JPATH(c),
			       "%s key must be a string", annotations ? "annotation" : "label");
			continue;
		}
		old = jpath_push_key(c, key);
		if (!k->quoted && ynode_yaml11(k))
			report(c, k, SEV_WARNING, "yaml11-trap", "quote the key", JPATH(c),
			       "%s key %s is a string in YAML 1.2 but a YAML 1.1 reader (such as kubectl) reads it as a %s",
			       annotations ? "annotation" : "label", key, ynode_yaml11(k));
		if ((why = check_label_key(key)))
			report(c, k, SEV_ERROR, "invalid-label",
			       "keys are [prefix/]name: a DNS subdomain prefix, a name of up to 63 alphanumerics, '-', '_', '.'",
			       JPATH(c), "%s key \"%s\" is invalid: %s",
			       annotations ? "annotation" : "label", key, why);
		/* null is read as "" by the API server */
		if (v->kind != YN_SCALAR || (v->stype != YS_STRING && v->stype != YS_NULL)) {
			report(c, v, SEV_ERROR, "invalid-label", "quote the value so it is a string",
			       JPATH(c), "%s value %s%s%s is %s, not a string: Kubernetes refuses it",
			       annotations ? "annotation" : "label",
			       v->kind == YN_SCALAR ? "\"" : "", v->kind == YN_SCALAR ? v->str : "",
			       v->kind == YN_SCALAR ? "\"" : "", scalar_type_name(v));
		} else {
			if (!annotations && (why = check_label_value(v->str)))
				report(c, v, SEV_ERROR, "invalid-label",
				       "label values are up to 63 alphanumerics, '-', '_', '.' (or empty)",
				       JPATH(c), "label value \"%s\" is invalid: %s", v->str, why);
			if (v->stype == YS_STRING)
				check_trap(c, v, annotations ? "annotation value" : "label value");
			total += strlen(key) + v->len;
		}
		jpath_pop(c, old);
	}
	if (annotations && total > 256 * 1024)
		report(c, m, SEV_ERROR, "invalid-label", "move large data into a ConfigMap",
		       JPATH(c), "annotations total %zu bytes, over Kubernetes' limit of 262144", total);
}

static int is_octal_looking(const struct ynode *v)
{
	const char *m = ynode_yaml11(v);

	return m && !strcmp(m, "octal int");
}

/*
 * One walk over the object: labels and annotations in any metadata,
 * selectors, env values, file modes. Depth is bounded by the YAML
 * limits (aliases included), so recursion is safe.
 */
static void walk(struct objcheck *c, const struct ynode *n, const char *parent_key)
{
	size_t i, old;

	if (!n)
		return;
	if (n->kind == YN_SEQ) {
		int env = parent_key && !strcmp(parent_key, "env");

		for (i = 0; i < n->n; i++) {
			const struct ynode *item = n->kids[i];

			old = jpath_push_index(c, i);
			if (env && item->kind == YN_MAP) {
				const struct ynode *v = ynode_get(item, "value");

				if (v) {
					size_t o2 = jpath_push_key(c, "value");

					if (v->kind == YN_SCALAR && v->stype == YS_STRING)
						check_trap(c, v, "env value");
					jpath_pop(c, o2);
				}
			}
			walk(c, item, NULL);
			jpath_pop(c, old);
		}
		return;
	}
	if (n->kind != YN_MAP)
		return;
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
		const char *key = k->kind == YN_SCALAR ? k->str : NULL;

		if (!key)
			continue;
		old = jpath_push_key(c, key);
		if (parent_key && !strcmp(parent_key, "metadata") &&
		    (!strcmp(key, "labels") || !strcmp(key, "annotations"))) {
			check_label_map(c, v, key[0] == 'a');
		} else if (!strcmp(key, "matchLabels") && v->kind == YN_MAP) {
			check_label_map(c, v, 0);
		} else if ((!strcmp(key, "defaultMode") || !strcmp(key, "mode")) &&
			   is_octal_looking(v)) {
			long long dec = 0;

			ynode_int(v, &dec);
			report(c, v, SEV_WARNING, "yaml11-trap",
			       "write the mode in decimal (0644 is 420) or as 0o644", JPATH(c),
			       "file mode %s is the decimal %lld in YAML 1.2 but octal %s in YAML 1.1 (kubectl): readers disagree",
			       v->str, dec, v->str);
		} else {
			walk(c, v, key);
		}
		jpath_pop(c, old);
	}
}

static void check_object(struct objcheck *c, const struct kobj *o, int service_selector)
{
	const struct ynode *data;
	size_t i, old;

	c->nsegs = 0;
	if (!strcmp(o->kind, "CustomResourceDefinition")) {
		/* its spec is a schema, where "labels" and "env" are property names */
		const struct ynode *md = ynode_get(o->root, "metadata");

		if (md) {
			old = jpath_push_key(c, "metadata");
			walk(c, md, "metadata");
			jpath_pop(c, old);
		}
		return;
	}
	walk(c, o->root, NULL);
	if (service_selector) {
		const struct ynode *sel = ynode_path(o->root, "spec.selector");

		if (sel && sel->kind == YN_MAP) {
			jpath_push_key(c, "spec");
			jpath_push_key(c, "selector");
			check_label_map(c, sel, 0);
			c->nsegs = 0;
		}
	}
	if (!strcmp(o->kind, "ConfigMap") && !*o->group &&
	    (data = ynode_get(o->root, "data")) && data->kind == YN_MAP) {
		old = jpath_push_key(c, "data");
		for (i = 0; i < data->n; i++) {
			const struct ynode *k = data->kids[2 * i], *v = data->kids[2 * i + 1];
			size_t o2;

			if (k->kind != YN_SCALAR)
				continue;
			o2 = jpath_push_key(c, k->str);
			if (v->kind == YN_SCALAR && v->stype == YS_STRING)
				check_trap(c, v, "ConfigMap value");
			jpath_pop(c, o2);
		}
		jpath_pop(c, old);
	}
}

/* ---- objects -------------------------------------------------------- */

static void kobj_release(struct kobj *o)
{
	free(o->group);
	free(o->version);
	free(o->id);
}

static void skip_doc(struct kset *set, struct findings *fs, const char *path,
		     const struct ynode *n, enum severity sev, const char *why)
{
	set->skipped++;
	findings_add(fs, path, n->line, n->col, sev, "not-kubernetes",
		     "a Kubernetes object needs apiVersion, kind and metadata.name",
		     "document is not a Kubernetes object (%s); skipped", why);
}

static int is_list_kind(const char *kind)
{
	size_t len = strlen(kind);

	return len >= 4 && !strcmp(kind + len - 4, "List");
}

static const char *name_rule_for(const char *group, const char *kind,
				 const char *(**check)(const char *))
{
	if (!*group && (!strcmp(kind, "Namespace") || !strcmp(kind, "Service"))) {
		*check = check_dns1123_label;
		return "a DNS-1123 label (lower case alphanumerics and '-', at most 63)";
	}
	if (!strcmp(group, "rbac.authorization.k8s.io") &&
	    (!strcmp(kind, "Role") || !strcmp(kind, "ClusterRole") ||
	     !strcmp(kind, "RoleBinding") || !strcmp(kind, "ClusterRoleBinding"))) {
		*check = check_path_segment;
		return "a path segment (no '/' or '%')";
	}
	*check = check_dns1123_subdomain;
	return "a DNS-1123 subdomain (lower case alphanumerics, '-' and '.', at most 253)";
}

static void add_object(struct kset *set, struct yfile *yf, size_t doc,
		       const struct ynode *n, int in_list, struct findings *fs)
{
	const struct ynode *av = ynode_get(n, "apiVersion"), *kd = ynode_get(n, "kind");
	const struct ynode *md, *nm, *gn, *ns;
	struct objcheck c;
	struct kobj o;
	const char *slash, *(*check)(const char *), *want, *why;

	c.fs = fs;	/* segs and jpath are written before they are read */
	c.o = NULL;
	c.nsegs = 0;
	c.jlen = 0;
	c.jpath[0] = '\0';
	c.path = yf->path;
	if (!av || !kd || ynode_is_null(av) || ynode_is_null(kd)) {
		findings_add(fs, yf->path, n->line, n->col, SEV_ERROR, "object-missing-field",
			     "every object needs apiVersion and kind",
			     "%sobject has no %s", in_list ? "List item: " : "",
			     !av || ynode_is_null(av) ? "apiVersion" : "kind");
		return;
	}
	if (av->kind != YN_SCALAR || av->stype != YS_STRING || !*av->str ||
	    kd->kind != YN_SCALAR || kd->stype != YS_STRING || !*kd->str) {
		const struct ynode *bad = av->kind != YN_SCALAR || av->stype != YS_STRING ||
			!*av->str ? av : kd;

		findings_add(fs, yf->path, bad->line, bad->col, SEV_ERROR, "object-missing-field",
			     "apiVersion and kind are non-empty strings such as \"apps/v1\" and \"Deployment\"",
			     "%s must be a non-empty string", bad == av ? "apiVersion" : "kind");
		return;
	}

	memset(&o, 0, sizeof(o));
	o.path = yf->path;
	o.line = n->line;
	o.col = n->col;
	o.doc = doc;
	o.root = n;
	o.api_version = av->str;
	o.kind = kd->str;
	slash = strchr(av->str, '/');
	if (slash) {
		o.group = xstrndup(av->str, slash - av->str);
		o.version = xstrdup(slash + 1);
	} else {
		o.group = xstrdup("");
		o.version = xstrdup(av->str);
	}
	md = ynode_get(n, "metadata");
	nm = ynode_get(md, "name");
	gn = ynode_get(md, "generateName");
	ns = ynode_get(md, "namespace");
	if (nm && nm->kind == YN_SCALAR && nm->stype == YS_STRING)
		o.name = nm->str;
	if (gn && gn->kind == YN_SCALAR && gn->stype == YS_STRING)
		o.generate_name = gn->str;
	if (ns && ns->kind == YN_SCALAR && ns->stype == YS_STRING)
		o.namespace = ns->str;
	if (o.name)
		o.id = o.namespace ? xstrfmt("%s/%s/%s", o.kind, o.namespace, o.name) :
			xstrfmt("%s/%s", o.kind, o.name);
	else
		o.id = o.namespace ? xstrfmt("%s/%s/%s*", o.kind, o.namespace,
					     o.generate_name ? o.generate_name : "") :
			xstrfmt("%s/%s*", o.kind, o.generate_name ? o.generate_name : "");
	c.o = &o;

	if (md && md->kind != YN_MAP && !ynode_is_null(md))
		report(&c, md, SEV_ERROR, "object-missing-field", NULL, ".metadata",
		       "metadata must be a map, not %s", scalar_type_name(md));
	else if (!o.name && !o.generate_name) {
		if (nm && !ynode_is_null(nm))
			report(&c, nm, SEV_ERROR, "invalid-name", "quote the name so it is a string",
			       ".metadata.name", "metadata.name %s is %s, not a string",
			       nm->kind == YN_SCALAR ? nm->str : "", scalar_type_name(nm));
		else
			report(&c, md ? md : n, SEV_ERROR, "object-missing-field",
			       "give the object a metadata.name", ".metadata.name",
			       "%s has no metadata.name", o.kind);
	}

	want = name_rule_for(o.group, o.kind, &check);
	if (o.name && (why = check(o.name)))
		report(&c, nm, SEV_ERROR, "invalid-name", NULL, ".metadata.name",
		       "name \"%s\" is invalid: %s (%s needs %s)", o.name, why, o.kind, want);
	if (!o.name && o.generate_name && check != check_path_segment) {
		/* the server appends 5 characters [a-z0-9] */
		char *full = xstrfmt("%sx", o.generate_name);

		if ((why = check(full)))
			report(&c, gn, SEV_ERROR, "invalid-name", NULL, ".metadata.generateName",
			       "generateName \"%s\" is invalid: %s", o.generate_name, why);
		free(full);
	}
	if (ns && !ynode_is_null(ns)) {
		if (!o.namespace)
			report(&c, ns, SEV_ERROR, "invalid-name", "quote the namespace",
			       ".metadata.namespace", "metadata.namespace %s is %s, not a string",
			       ns->kind == YN_SCALAR ? ns->str : "", scalar_type_name(ns));
		else if ((why = check_dns1123_label(o.namespace)))
			report(&c, ns, SEV_ERROR, "invalid-name", NULL, ".metadata.namespace",
			       "namespace \"%s\" is invalid: %s", o.namespace, why);
		else if (kind_is_cluster_scoped(o.group, o.kind))
			report(&c, ns, SEV_WARNING, "namespace-on-cluster-scoped",
			       "remove metadata.namespace: the object is cluster-scoped",
			       ".metadata.namespace", "%s is cluster-scoped but sets namespace \"%s\"",
			       o.kind, o.namespace);
	}
	check_object(&c, &o, !*o.group && !strcmp(o.kind, "Service"));

	XGROW(set->objs, set->nobjs + 1, set->alloc_objs);
	set->objs[set->nobjs++] = o;
}

static void add_doc(struct kset *set, struct yfile *yf, size_t doc, const struct ynode *n,
		    enum severity skip_sev, struct findings *fs)
{
	const struct ynode *av, *kd, *items;

	if (!n) {
		set->empty_docs++;
		return;
	}
	if (n->kind != YN_MAP) {
		skip_doc(set, fs, yf->path, n, skip_sev,
			 n->kind == YN_SEQ ? "a list" : "a scalar");
		return;
	}
	av = ynode_get(n, "apiVersion");
	kd = ynode_get(n, "kind");
	if (!av && !kd) {
		skip_doc(set, fs, yf->path, n, skip_sev, "no apiVersion and kind");
		return;
	}
	if (ynode_str(av) && !strncmp(av->str, "kustomize.config.k8s.io/", 24)) {
		/* kustomization.yaml: a build file for kustomize, not an object */
		skip_doc(set, fs, yf->path, n, skip_sev, "a kustomize file");
		return;
	}
	items = ynode_get(n, "items");
	if (kd && ynode_str(kd) && is_list_kind(kd->str) && items &&
	    (items->kind == YN_SEQ || ynode_is_null(items))) {
		size_t i;

		if (ynode_is_null(items))
			return;
		for (i = 0; i < items->n; i++) {
			const struct ynode *it = items->kids[i];

			if (it->kind != YN_MAP) {
				findings_add(fs, yf->path, it->line, it->col, SEV_ERROR,
					     "object-missing-field", "List items are objects",
					     "List item is %s, not an object", scalar_type_name(it));
				continue;
			}
			add_object(set, yf, doc, it, 1, fs);
		}
		return;
	}
	add_object(set, yf, doc, n, 0, fs);
}

static int has_braces(const struct ynode *n)
{
	return n && n->kind == YN_SCALAR && strstr(n->str, "{{") != NULL;
}

/*
 * Templates that happen to parse as YAML ("name: web-{{id}}"): a
 * placeholder where Kubernetes allows none, in a name or a label; the
 * API server would refuse such an object, so skipping it hides nothing.
 */
static int has_placeholders(const struct ynode *root)
{
	const struct ynode *md = ynode_get(root, "metadata"), *labels;
	size_t j;

	if (has_braces(ynode_get(md, "name")) || has_braces(ynode_get(md, "namespace")) ||
	    has_braces(ynode_get(md, "generateName")))
		return 1;
	labels = ynode_get(md, "labels");
	if (labels && labels->kind == YN_MAP)
		for (j = 0; j < labels->n; j++)
			if (has_braces(labels->kids[2 * j + 1]))
				return 1;
	return 0;
}

int kset_add_file(struct kset *set, const char *path, const char *data, size_t len,
		  const struct yaml_limits *lim, enum severity skip_sev,
		  struct findings *fs)
{
	struct yfile *yf;
	size_t i, nobjs;
	int ret, has_markers;

	XGROW(set->files, set->nfiles + 1, set->alloc_files);
	yf = &set->files[set->nfiles++];
	memset(yf, 0, sizeof(*yf));
	ret = yaml_parse(yf, path, data, len, lim, fs);
	if (yf->is_template && yf->failed) {
		/* a template that is not YAML: the documents before the error still count */
		set->skipped++;
		findings_add(fs, yf->path, 0, 0, skip_sev, "template-skipped",
			     "render the template (helm template, ...) and lint the output",
			     "file holds template markers ({{ ... }}) and is not valid YAML; skipped");
		ret = 0;
	}
	nobjs = set->nobjs;
	has_markers = yaml_has_braces(data, len);	/* once per file, not per document */
	for (i = 0; i < yf->ndocs; i++) {
		const struct ydoc *d = &yf->docs[i];

		/* only what no API server would accept is skipped, never a valid object */
		if (d->is_template || (has_markers && has_placeholders(d->root))) {
			set->skipped++;
			yf->is_template = 1;
			findings_add(fs, yf->path, d->root ? d->root->line : d->line,
				     d->root ? d->root->col : d->col, skip_sev, "template-skipped",
				     "render the template (helm template, ...) and lint the output",
				     "document holds template markers ({{ ... }}) where Kubernetes takes no template; skipped");
			continue;
		}
		add_doc(set, yf, i, d->root, skip_sev, fs);
	}
	if (set->nobjs == nobjs)
		yfile_drop_tree(yf);	/* nothing points into it: keep memory to the objects */
	return ret;
}

/* ---- duplicates ----------------------------------------------------- */

static size_t hash_bytes(size_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (h ^ 0xff) * 1099511628211u;
}

static int same_object(const struct kobj *a, const struct kobj *b)
{
	const char *na = a->namespace ? a->namespace : "", *nb = b->namespace ? b->namespace : "";

	return !strcmp(a->kind, b->kind) && !strcmp(a->group, b->group) &&
		!strcmp(a->name, b->name) && !strcmp(na, nb);
}

static int same_dir(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
	size_t la = sa ? (size_t)(sa - a) : 0, lb = sb ? (size_t)(sb - b) : 0;

	return la == lb && !strncmp(a, b, la);
}

void kset_check_duplicates(const struct kset *set, struct findings *fs)
{
	size_t nslots = 16, i, *slots;

	while (nslots < set->nobjs * 2)
		nslots *= 2;
	slots = xcalloc(nslots, sizeof(*slots));	/* index + 1; 0 is empty */
	for (i = 0; i < set->nobjs; i++) {
		const struct kobj *o = &set->objs[i];
		size_t h, s;

		if (!o->name)
			continue;
		h = hash_bytes(hash_bytes(hash_bytes(hash_bytes(14695981039346656037u, o->group),
						     o->kind), o->namespace), o->name);
		for (s = h & (nslots - 1); slots[s]; s = (s + 1) & (nslots - 1)) {
			const struct kobj *first = &set->objs[slots[s] - 1];

			if (same_object(first, o)) {
				int same = same_dir(first->path, o->path);
				struct finding *f = findings_add(fs, o->path, o->line, o->col,
					same ? SEV_ERROR : SEV_WARNING, "duplicate-object",
					same ? "keep one definition: the later one would overwrite the first" :
					"fine for separate apps or overlays; otherwise keep one definition",
					"%s is defined twice (first at %s:%u:%u%s)",
					o->id, first->path, first->line, first->col,
					same ? "" : ", another directory");

				if (f)
					f->object = xstrdup(o->id);
				break;
			}
		}
		if (!slots[s])
			slots[s] = i + 1;
	}
	free(slots);
}

void kset_shrink_file(struct kset *set, size_t file, size_t from, size_t to,
		      const struct yprune *(*keep)(const struct kobj *o))
{
	size_t i;

	if (file >= set->nfiles)
		return;
	if (!set->kept)
		set->kept = yarena_new();
	for (i = from; i < to && i < set->nobjs; i++) {
		struct kobj *o = &set->objs[i];

		o->root = ynode_copy(set->kept, o->root, keep(o));
		o->api_version = yarena_strdup(set->kept, o->api_version);
		o->kind = yarena_strdup(set->kept, o->kind);
		o->name = yarena_strdup(set->kept, o->name);
		o->generate_name = yarena_strdup(set->kept, o->generate_name);
		o->namespace = yarena_strdup(set->kept, o->namespace);
		o->pod_spec_known = 0;	/* the memo pointed into the old tree */
		o->pod_spec = NULL;
		o->pod_spec_jpath = NULL;
	}
	yfile_drop_tree(&set->files[file]);
}

void kset_release(struct kset *set)
{
	size_t i;

	for (i = 0; i < set->nobjs; i++)
		kobj_release(&set->objs[i]);
	free(set->objs);
	for (i = 0; i < set->nfiles; i++)
		yfile_release(&set->files[i]);
	free(set->files);
	yarena_free(set->kept);
	memset(set, 0, sizeof(*set));
}

const struct ynode *kobj_node(const struct kobj *o, const char *dotted)
{
	const struct ynode *n = ynode_path(o->root, dotted);

	return n ? n : o->root;
}
