/*
 * rules-security.c - rules about what a pod may do to its node: privileges,
 * users, capabilities, host namespaces and host paths.
 */
#include "rules-impl.h"

#include <string.h>
#include <strings.h>

/* A field of map that is set (null counts as unset), or NULL. */
static const struct ynode *field_set(const struct ynode *map, const char *field)
{
	const struct ynode *v = ynode_get(map, field);

	return ynode_is_null(v) ? NULL : v;
}

/* A container's securityContext field, or NULL. */
static const struct ynode *csc(const struct kcontainer *c, const char *field)
{
	return field_set(ynode_get(c->node, "securityContext"), field);
}

/* Where to point when a securityContext field is missing. */
static const struct ynode *csc_at(const struct kcontainer *c, char *jp)
{
	const struct ynode *k = ynode_get_key(c->node, "securityContext");

	if (k) {
		jpath_join(jp, c->jpath, ".securityContext");
		return k;
	}
	jpath_join(jp, c->jpath, "%s", "");
	return c->node;
}

static int pod_is_windows(const struct kobj *o)
{
	const char *os = ynode_str(ynode_path(kobj_pod_spec(o, NULL), "os.name"));

	return os && !strcmp(os, "windows");
}

/* ---- privileges ---- */

static void privileged_one(const struct rule_ctx *ctx, const struct kobj *o,
			   const struct kcontainer *c)
{
	const struct ynode *v = csc(c, "privileged");
	char jp[RULE_JPATH_MAX];

	if (!ynode_is_bool(v, 1))
		return;
	jpath_join(jp, c->jpath, ".securityContext.privileged");
	rule_report(ctx, o, v, jp, "container '%s' runs privileged", c->name);
}

RULE_OBJ(check_privileged)
{
	kobj_for_each_container(ctx, o, KC_ALL, privileged_one);
}

static void escalation_one(const struct rule_ctx *ctx, const struct kobj *o,
			   const struct kcontainer *c)
{
	const struct ynode *v = csc(c, "allowPrivilegeEscalation");
	const struct ynode *at;
	char jp[RULE_JPATH_MAX];

	if (ynode_is_bool(v, 0))
		return;
	if (v) {
		jpath_join(jp, c->jpath, ".securityContext.allowPrivilegeEscalation");
		rule_report(ctx, o, v, jp, "container '%s' allows privilege escalation", c->name);
		return;
	}
	at = csc_at(c, jp);
	rule_report(ctx, o, at, jp,
		    "container '%s' does not set allowPrivilegeEscalation: false", c->name);
}

RULE_OBJ(check_privilege_escalation)
{
	if (!pod_is_windows(o))
		kobj_for_each_container(ctx, o, KC_ALL, escalation_one);
}

static void non_root_one(const struct rule_ctx *ctx, const struct kobj *o,
			 const struct kcontainer *c)
{
	const struct ynode *psc = ynode_get(c->pod, "securityContext");
	const struct ynode *nr = csc(c, "runAsNonRoot");
	const struct ynode *uid = csc(c, "runAsUser");
	const struct ynode *at;
	char jp[RULE_JPATH_MAX];
	long long u;

	if (!nr)
		nr = field_set(psc, "runAsNonRoot");
	if (!uid)
		uid = field_set(psc, "runAsUser");
	if (ynode_is_bool(nr, 1))
		return;
	if (uid && ynode_int(uid, &u) == 0 && u > 0)
		return;
	if (uid && ynode_int(uid, &u) == 0 && u == 0) {
		if (uid == csc(c, "runAsUser"))
			jpath_join(jp, c->jpath, ".securityContext.runAsUser");
		else
			jpath_join(jp, c->pod_jpath, ".securityContext.runAsUser");
		rule_report(ctx, o, uid, jp, "container '%s' runs as root (runAsUser: 0)", c->name);
		return;
	}
	if (nr && nr == csc(c, "runAsNonRoot")) {
		jpath_join(jp, c->jpath, ".securityContext.runAsNonRoot");
		rule_report(ctx, o, nr, jp, "container '%s' sets runAsNonRoot: false", c->name);
		return;
	}
	at = csc_at(c, jp);
	rule_report(ctx, o, at, jp,
		    "container '%s' may run as root: neither it nor the pod sets runAsNonRoot: "
		    "true or a non-zero runAsUser", c->name);
}

RULE_OBJ(check_run_as_non_root)
{
	if (!pod_is_windows(o))
		kobj_for_each_container(ctx, o, KC_ALL, non_root_one);
}

static void read_only_one(const struct rule_ctx *ctx, const struct kobj *o,
			  const struct kcontainer *c)
{
	const struct ynode *v = csc(c, "readOnlyRootFilesystem");
	const struct ynode *at;
	char jp[RULE_JPATH_MAX];

	if (ynode_is_bool(v, 1))
		return;
	if (v) {
		jpath_join(jp, c->jpath, ".securityContext.readOnlyRootFilesystem");
		rule_report(ctx, o, v, jp, "container '%s' has a writable root filesystem", c->name);
		return;
	}
	at = csc_at(c, jp);
	rule_report(ctx, o, at, jp,
		    "container '%s' does not set readOnlyRootFilesystem: true", c->name);
}

RULE_OBJ(check_read_only_root_fs)
{
	if (!pod_is_windows(o))
		kobj_for_each_container(ctx, o, KC_ALL, read_only_one);
}

/* ---- capabilities ---- */

static const char *cap_name(const char *s)
{
	return strncasecmp(s, "CAP_", 4) ? s : s + 4;
}

static void caps_one(const struct rule_ctx *ctx, const struct kobj *o,
		     const struct kcontainer *c)
{
	static const char *const dangerous[] = {
		"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "SYS_RAWIO",
		"SYS_BOOT", "SYS_TIME", "DAC_READ_SEARCH", "BPF", "PERFMON", "MAC_ADMIN",
		"MAC_OVERRIDE", "SYSLOG", "LINUX_IMMUTABLE",
	};
	const struct ynode *add = ynode_get(csc(c, "capabilities"), "add");
	size_t i, j;

	if (!add || add->kind != YN_SEQ)
		return;
	for (i = 0; i < add->n; i++) {
		const char *cap = ynode_str(add->kids[i]);
		char jp[RULE_JPATH_MAX];

		if (!cap)
			continue;
		for (j = 0; j < sizeof(dangerous) / sizeof(*dangerous); j++)
			if (!strcasecmp(cap_name(cap), dangerous[j]))
				break;
		if (j == sizeof(dangerous) / sizeof(*dangerous))
			continue;
		jpath_join(jp, c->jpath, ".securityContext.capabilities.add[%zu]", i);
		rule_report(ctx, o, add->kids[i], jp, "container '%s' adds the capability %s",
			    c->name, cap);
	}
}

RULE_OBJ(check_dangerous_caps)
{
	kobj_for_each_container(ctx, o, KC_ALL, caps_one);
}

static void net_raw_one(const struct rule_ctx *ctx, const struct kobj *o,
			const struct kcontainer *c)
{
	const struct ynode *caps = csc(c, "capabilities");
	const struct ynode *drop = ynode_get(caps, "drop");
	const struct ynode *at;
	char jp[RULE_JPATH_MAX];
	size_t i;

	if (ynode_is_bool(csc(c, "privileged"), 1))
		return;	/* privileged-container covers it */
	if (drop && drop->kind == YN_SEQ)
		for (i = 0; i < drop->n; i++) {
			const char *cap = ynode_str(drop->kids[i]);

			if (cap && (!strcasecmp(cap_name(cap), "NET_RAW") ||
				    !strcasecmp(cap_name(cap), "ALL")))
				return;
		}
	if (drop) {
		at = ynode_key_or(caps, "drop");
		jpath_join(jp, c->jpath, ".securityContext.capabilities.drop");
	} else {
		at = csc_at(c, jp);
	}
	rule_report(ctx, o, at, jp, "container '%s' does not drop NET_RAW", c->name);
}

RULE_OBJ(check_drop_net_raw)
{
	if (!pod_is_windows(o))
		kobj_for_each_container(ctx, o, KC_ALL, net_raw_one);
}

/* ---- host namespaces ---- */

static void host_ns(const struct rule_ctx *ctx, const struct kobj *o, const char *field,
		    const char *what)
{
	const char *pj;
	const struct ynode *pod = kobj_pod_spec(o, &pj);
	const struct ynode *v = ynode_get(pod, field);
	char jp[RULE_JPATH_MAX];

	if (!ynode_is_bool(v, 1))
		return;
	jpath_join(jp, pj, ".%s", field);
	rule_report(ctx, o, v, jp, "the pod shares the host's %s namespace (%s: true)", what, field);
}

RULE_OBJ(check_host_network)
{
	host_ns(ctx, o, "hostNetwork", "network");
}

RULE_OBJ(check_host_pid)
{
	host_ns(ctx, o, "hostPID", "process");
}

RULE_OBJ(check_host_ipc)
{
	host_ns(ctx, o, "hostIPC", "IPC");
}

/* ---- host paths ---- */

/* path with trailing slashes dropped ("/" stays "/") into buf. */
static const char *clean_path(const char *path, char *buf, size_t size)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
	return buf;
}

static int sensitive_path(const char *p)
{
	static const char *const exact[] = {
		"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/proc",
		"/root", "/run", "/sbin", "/sys", "/usr", "/var", "/var/lib", "/var/run",
		"/var/lib/docker", "/var/lib/containerd", "/var/lib/etcd",
	};
	/* Whole subtrees: node credentials and the kubelet's state. */
	static const char *const tree[] = {
		"/var/lib/kubelet", "/etc/kubernetes", "/root", "/etc/ssh", "/var/lib/etcd",
	};
	size_t i;

	for (i = 0; i < sizeof(exact) / sizeof(*exact); i++)
		if (!strcmp(p, exact[i]))
			return 1;
	for (i = 0; i < sizeof(tree) / sizeof(*tree); i++) {
		size_t n = strlen(tree[i]);

		if (!strncmp(p, tree[i], n) && (p[n] == '\0' || p[n] == '/'))
			return 1;
	}
	return 0;
}

static int runtime_socket(const char *p)
{
	static const char *const socks[] = {
		"docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock", "podman.sock",
	};
	size_t i, n = strlen(p);

	for (i = 0; i < sizeof(socks) / sizeof(*socks); i++) {
		size_t sn = strlen(socks[i]);

		if (n >= sn && !strcmp(p + n - sn, socks[i]) && (n == sn || p[n - sn - 1] == '/'))
			return 1;
	}
	return 0;
}

static void host_paths(const struct rule_ctx *ctx, const struct kobj *o, int sockets)
{
	const char *pj;
	const struct ynode *pod = kobj_pod_spec(o, &pj);
	const struct ynode *vols = ynode_get(pod, "volumes");
	size_t i;

	if (!vols || vols->kind != YN_SEQ)
		return;
	for (i = 0; i < vols->n; i++) {
		const struct ynode *pn = ynode_path(vols->kids[i], "hostPath.path");
		const char *path = ynode_str(pn);
		const char *vname = ynode_str(ynode_get(vols->kids[i], "name"));
		char buf[1024], jp[RULE_JPATH_MAX];
		const char *p;

		if (!path)
			continue;
		p = clean_path(path, buf, sizeof(buf));
		jpath_join(jp, pj, ".volumes[%zu].hostPath.path", i);
		if (sockets && runtime_socket(p))
			rule_report(ctx, o, pn, jp,
				    "volume '%s' mounts the container runtime socket %s",
				    vname ? vname : "", path);
		else if (!sockets && sensitive_path(p))
			rule_report(ctx, o, pn, jp, "volume '%s' mounts the host path %s",
				    vname ? vname : "", path);
	}
}

RULE_OBJ(check_sensitive_host_mounts)
{
	host_paths(ctx, o, 0);
}

RULE_OBJ(check_runtime_sock)
{
	host_paths(ctx, o, 1);
}

/* ---- sysctls, /proc, host path writes ---- */

/* The sysctls Kubernetes calls safe: any other needs the kubelet's allow-list. */
static int safe_sysctl(const char *name)
{
	static const char *const safe[] = {
		"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
		"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
		"net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
		"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
		"net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
		"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
	};
	size_t i;

	for (i = 0; i < sizeof(safe) / sizeof(*safe); i++)
		if (!strcmp(name, safe[i]))
			return 1;
	return 0;
}

RULE_OBJ(check_unsafe_sysctls)
{
	const char *pj;
	const struct ynode *pod = kobj_pod_spec(o, &pj);
	const struct ynode *sysctls = ynode_path(pod, "securityContext.sysctls");
	size_t i;

	if (!sysctls || sysctls->kind != YN_SEQ)
		return;
	for (i = 0; i < sysctls->n; i++) {
		const struct ynode *nn = ynode_get(sysctls->kids[i], "name");
		const char *name = ynode_str(nn);
		char jp[RULE_JPATH_MAX];

		if (!name || safe_sysctl(name))
			continue;
		jpath_join(jp, pj, ".securityContext.sysctls[%zu].name", i);
		rule_report(ctx, o, nn, jp,
			    "the pod sets the unsafe sysctl %s (nodes refuse it unless allowed)", name);
	}
}

static void proc_mount_one(const struct rule_ctx *ctx, const struct kobj *o,
			   const struct kcontainer *c)
{
	const struct ynode *v = csc(c, "procMount");
	char jp[RULE_JPATH_MAX];

	if (!ynode_str(v) || strcmp(ynode_str(v), "Unmasked"))
		return;
	jpath_join(jp, c->jpath, ".securityContext.procMount");
	rule_report(ctx, o, v, jp, "container '%s' mounts /proc unmasked", c->name);
}

RULE_OBJ(check_unsafe_proc_mount)
{
	kobj_for_each_container(ctx, o, KC_ALL, proc_mount_one);
}

static void writable_host_one(const struct rule_ctx *ctx, const struct kobj *o,
			      const struct kcontainer *c)
{
	const struct ynode *mounts = ynode_get(c->node, "volumeMounts");
	const struct ynode *vols = ynode_get(c->pod, "volumes");
	size_t i, j;

	if (!mounts || mounts->kind != YN_SEQ || !vols || vols->kind != YN_SEQ)
		return;
	for (i = 0; i < mounts->n; i++) {
		const struct ynode *m = mounts->kids[i];
		const char *vn = ynode_str(ynode_get(m, "name"));
		char jp[RULE_JPATH_MAX];

		if (!vn || ynode_is_bool(ynode_get(m, "readOnly"), 1))
			continue;
		for (j = 0; j < vols->n; j++) {
			const char *name = ynode_str(ynode_get(vols->kids[j], "name"));

			if (name && !strcmp(name, vn) && ynode_get(vols->kids[j], "hostPath"))
				break;
		}
		if (j == vols->n)
			continue;
		jpath_join(jp, c->jpath, ".volumeMounts[%zu]", i);
		rule_report(ctx, o, m, jp, "container '%s' mounts the host path volume '%s' writable",
			    c->name, vn);
	}
}

RULE_OBJ(check_writable_host_mount)
{
	kobj_for_each_container(ctx, o, KC_ALL, writable_host_one);
}
