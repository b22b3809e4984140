/*
 * rules-rbac.c - Roles, ClusterRoles and their bindings.
 */
#include "rules-impl.h"

#include <string.h>

static void wildcards_in(const struct rule_ctx *ctx, const struct kobj *o,
			 const struct ynode *seq, size_t rule, const char *field)
{
	size_t i;

	if (!seq || seq->kind != YN_SEQ)
		return;
	for (i = 0; i < seq->n; i++) {
		const char *s = ynode_str(seq->kids[i]);
		char jp[RULE_JPATH_MAX];

		if (!s || strcmp(s, "*"))
			continue;
		jpath_join(jp, ".rules", "[%zu].%s[%zu]", rule, field, i);
		rule_report(ctx, o, seq->kids[i], jp, "rules[%zu] of %s grants every %s (\"*\")",
			    rule, o->id ? o->id : o->kind,
			    !strcmp(field, "verbs") ? "verb" : "resource");
	}
}

RULE_OBJ(check_wildcard_in_rules)
{
	const struct ynode *rules;
	size_t i;

	if (!kobj_is(o, "rbac.authorization.k8s.io", "Role") &&
	    !kobj_is(o, "rbac.authorization.k8s.io", "ClusterRole"))
		return;
	rules = ynode_get(o->root, "rules");
	if (!rules || rules->kind != YN_SEQ)
		return;
	for (i = 0; i < rules->n; i++) {
		wildcards_in(ctx, o, ynode_get(rules->kids[i], "verbs"), i, "verbs");
		wildcards_in(ctx, o, ynode_get(rules->kids[i], "resources"), i, "resources");
	}
}

RULE_OBJ(check_cluster_admin_binding)
{
	const struct ynode *ref, *name;
	const char *kind;

	if (!kobj_is(o, "rbac.authorization.k8s.io", "RoleBinding") &&
	    !kobj_is(o, "rbac.authorization.k8s.io", "ClusterRoleBinding"))
		return;
	ref = ynode_get(o->root, "roleRef");
	name = ynode_get(ref, "name");
	kind = ynode_str(ynode_get(ref, "kind"));
	if (!ynode_str(name) || strcmp(ynode_str(name), "cluster-admin"))
		return;
	if (kind && strcmp(kind, "ClusterRole"))
		return;
	rule_report(ctx, o, name, ".roleRef.name", "%s grants the cluster-admin role",
		    o->id ? o->id : o->kind);
}
