#include "tap.h"
#include "../../lib/kubeconfig.h"
#include "../../lib/log.h"
#include "../../lib/spawn.h"
#include "../../lib/xalloc.h"

#include <fcntl.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/t-kubeconfig.XXXXXX";

static char *tpath(const char *name)
{
	return xstrfmt("%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *text, int mode)
{
	char *p = tpath(name);
	FILE *f = fopen(p, "w");

	fputs(text, f);
	fclose(f);
	chmod(p, mode);
	free(p);
}

/* base64 of "CA PEM\n", "CERT\n", "KEY\n" */
#define CA_B64 "Q0EgUEVNCg=="
#define CERT_B64 "Q0VSVAo="
#define KEY_B64 "S0VZCg=="

static const char basic[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"clusters:\n"
	"- name: one\n"
	"  cluster:\n"
	"    server: https://127.0.0.1:6443/\n"
	"    certificate-authority-data: " CA_B64 "\n"
	"    certificate-authority: does-not-matter.crt\n"
	"    tls-server-name: kubernetes.default\n"
	"- name: two\n"
	"  cluster:\n"
	"    server: https://two.example:443\n"
	"    certificate-authority: ca.crt\n"
	"    insecure-skip-tls-verify: true\n"
	"    proxy-url: http://proxy:3128\n"
	"users:\n"
	"- name: admin\n"
	"  user:\n"
	"    client-certificate-data: " CERT_B64 "\n"
	"    client-key-data: " KEY_B64 "\n"
	"- name: bot\n"
	"  user:\n"
	"    token: abc123\n"
	"    as: alice\n"
	"    as-groups: [devs, ops]\n"
	"contexts:\n"
	"- name: c1\n"
	"  context: {cluster: one, user: admin, namespace: web}\n"
	"- name: c2\n"
	"  context: {cluster: two, user: bot}\n"
	"current-context: c1\n";

static void test_basic(void)
{
	struct kubeconfig kc = KUBECONFIG_INIT;
	const struct kube_creds *cr;

	ok(kubeconfig_load_data(&kc, "basic", basic, sizeof(basic) - 1, tmpdir, NULL) == 0,
	   "a kubeconfig loads");
	is_str(kc.context, "c1", "current-context is used");
	is_str(kc.server, "https://127.0.0.1:6443", "trailing slash is dropped from server");
	is_str(kc.namespace, "web", "context namespace");
	ok(kc.ca_pem && kc.ca_len == 7 && !memcmp(kc.ca_pem, "CA PEM\n", 7),
	   "certificate-authority-data wins over the path");
	ok(kc.cert_pem && !strcmp(kc.cert_pem, "CERT\n"), "client certificate from data");
	ok(kc.key_pem && !strcmp(kc.key_pem, "KEY\n"), "client key from data");
	is_str(kc.tls_server_name, "kubernetes.default", "tls-server-name");
	ok(kubeconfig_credentials(&kc, &cr) == 0 && !cr->token, "no token for a cert user");
	kubeconfig_release(&kc);

	write_file("ca.crt", "FILE CA\n", 0600);
	ok(kubeconfig_load_data(&kc, "basic", basic, sizeof(basic) - 1, tmpdir, "c2") == 0,
	   "--context picks another context");
	ok(kc.ca_pem && !strcmp(kc.ca_pem, "FILE CA\n"), "relative CA path is read relative to the file");
	ok(kc.insecure, "insecure-skip-tls-verify");
	is_str(kc.proxy_url, "http://proxy:3128", "proxy-url");
	is_str(kc.impersonate, "alice", "as");
	ok(kc.impersonate_groups && !strcmp(kc.impersonate_groups[0], "devs") &&
	   !strcmp(kc.impersonate_groups[1], "ops") && !kc.impersonate_groups[2], "as-groups");
	ok(kubeconfig_credentials(&kc, &cr) == 0 && cr->token && !strcmp(cr->token, "abc123"),
	   "static token");
	ok(kc.namespace == NULL, "no namespace in the context");
	kubeconfig_release(&kc);

	ok(kubeconfig_load_data(&kc, "basic", basic, sizeof(basic) - 1, tmpdir, "nope") < 0,
	   "an unknown context is an error");
	kubeconfig_release(&kc);
}

static void test_errors(void)
{
	struct kubeconfig kc = KUBECONFIG_INIT;
	static const char nocluster[] =
		"contexts:\n- name: x\n  context: {cluster: gone, user: u}\ncurrent-context: x\n";
	static const char noserver[] =
		"clusters:\n- name: c\n  cluster: {insecure-skip-tls-verify: true}\n"
		"contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n";
	static const char badb64[] =
		"clusters:\n- name: c\n  cluster: {server: 'https://h', certificate-authority-data: '@@@'}\n"
		"contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n";
	static const char halfcert[] =
		"clusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
		"users:\n- name: u\n  user: {client-certificate-data: " CERT_B64 "}\n"
		"contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
	static const char missingfile[] =
		"clusters:\n- name: c\n  cluster: {server: 'https://h', certificate-authority: nothere.pem}\n"
		"contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n";
	static const char garbage[] = "clusters: [\n";

	ok(kubeconfig_load_data(&kc, "f", nocluster, sizeof(nocluster) - 1, tmpdir, NULL) < 0,
	   "a context naming a missing cluster fails");
	kubeconfig_release(&kc);
	ok(kubeconfig_load_data(&kc, "f", noserver, sizeof(noserver) - 1, tmpdir, NULL) < 0,
	   "a cluster without server fails");
	kubeconfig_release(&kc);
	ok(kubeconfig_load_data(&kc, "f", badb64, sizeof(badb64) - 1, tmpdir, NULL) < 0,
	   "bad base64 fails");
	kubeconfig_release(&kc);
	ok(kubeconfig_load_data(&kc, "f", halfcert, sizeof(halfcert) - 1, tmpdir, NULL) < 0,
	   "a certificate without key fails");
	kubeconfig_release(&kc);
	ok(kubeconfig_load_data(&kc, "f", missingfile, sizeof(missingfile) - 1, tmpdir, NULL) < 0,
	   "a missing CA file fails");
	kubeconfig_release(&kc);
	ok(kubeconfig_load_data(&kc, "f", garbage, sizeof(garbage) - 1, tmpdir, NULL) < 0,
	   "invalid YAML fails");
	kubeconfig_release(&kc);
	ok(kubeconfig_load(&kc, "/nonexistent/kubeconfig", NULL) < 0, "a missing --kubeconfig fails");
	kubeconfig_release(&kc);
}

static void test_merge(void)
{
	struct kubeconfig kc = KUBECONFIG_INIT;
	char *a = tpath("a.yaml"), *b = tpath("b.yaml"), *env;

	write_file("a.yaml",
		   "clusters:\n- name: c\n  cluster: {server: 'https://first'}\n"
		   "contexts:\n- name: x\n  context: {cluster: c, namespace: from-a}\n", 0600);
	write_file("b.yaml",
		   "clusters:\n- name: c\n  cluster: {server: 'https://second'}\n"
		   "- name: d\n  cluster: {server: 'https://d'}\n"
		   "contexts:\n- name: x\n  context: {cluster: d}\n- name: y\n  context: {cluster: d}\n"
		   "current-context: x\n", 0600);
	env = xstrfmt("%s::/nonexistent/file:%s", a, b);
	setenv("KUBECONFIG", env, 1);
	ok(kubeconfig_load(&kc, NULL, NULL) == 0, "KUBECONFIG with several files loads");
	is_str(kc.context, "x", "current-context from the second file");
	is_str(kc.server, "https://first", "the first file to define a name wins");
	is_str(kc.namespace, "from-a", "the context from the first file");
	kubeconfig_release(&kc);
	ok(kubeconfig_load(&kc, NULL, "y") == 0 && !strcmp(kc.server, "https://d"),
	   "entries only in a later file are found");
	kubeconfig_release(&kc);
	ok(kubeconfig_load(&kc, b, NULL) == 0 && !strcmp(kc.server, "https://d"),
	   "--kubeconfig ignores KUBECONFIG");
	kubeconfig_release(&kc);
	unsetenv("KUBECONFIG");
	free(env);
	free(a);
	free(b);
}

static void test_token_file(void)
{
	struct kubeconfig kc = KUBECONFIG_INIT;
	const struct kube_creds *cr;
	static const char cfg[] =
		"clusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
		"users:\n- name: u\n  user: {tokenFile: tok}\n"
		"contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";

	write_file("tok", "sekrit-1\n", 0600);
	ok(kubeconfig_load_data(&kc, "f", cfg, sizeof(cfg) - 1, tmpdir, NULL) == 0, "tokenFile config");
	ok(kubeconfig_credentials(&kc, &cr) == 0 && cr->token && !strcmp(cr->token, "sekrit-1"),
	   "token read from the file, newline stripped");
	write_file("tok", "sekrit-2\n", 0600);
	ok(kubeconfig_credentials(&kc, &cr) == 0 && !strcmp(cr->token, "sekrit-1"),
	   "cached within a minute");
	kubeconfig_invalidate(&kc);
	ok(kubeconfig_credentials(&kc, &cr) == 0 && !strcmp(cr->token, "sekrit-2"),
	   "re-read after a 401");
	kubeconfig_release(&kc);
}

static void test_exec(void)
{
	struct kubeconfig kc = KUBECONFIG_INIT;
	const struct kube_creds *cr;
	char *cfg, *count = tpath("count");
	FILE *f;
	int n = 0;

	/* the plugin counts its runs and echoes what it was given */
	write_file("plugin",
		   "#!/bin/sh\n"
		   "echo x >>\"$COUNT\"\n"
		   "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) exit 3;; esac\n"
		   "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		   "\"status\":{\"token\":\"%s\",\"expirationTimestamp\":\"%s\"}}' \"$1\" \"$EXP\"\n",
		   0700);
	write_file("badplugin", "#!/bin/sh\necho 'boom: no credentials' >&2\nexit 4\n", 0700);
	cfg = xstrfmt("clusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
		      "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
		      "      command: ./plugin\n      args: [tok-from-exec]\n"
		      "      env: [{name: COUNT, value: '%s'}, {name: EXP, value: '2999-01-01T00:00:00Z'}]\n"
		      "- name: old\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
		      "      command: ./plugin\n      args: [tok-old]\n"
		      "      env: [{name: COUNT, value: '%s'}, {name: EXP, value: '2001-01-01T00:00:00+02:00'}]\n"
		      "- name: bad\n  user:\n    exec: {command: ./badplugin, apiVersion: client.authentication.k8s.io/v1}\n"
		      "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		      "- name: o\n  context: {cluster: c, user: old}\n"
		      "- name: b\n  context: {cluster: c, user: bad}\ncurrent-context: x\n", count, count);
	ok(kubeconfig_load_data(&kc, "f", cfg, strlen(cfg), tmpdir, NULL) == 0, "exec config loads");
	ok(kc.exec && !strcmp(kc.exec->argv[1], "tok-from-exec"), "exec args");
	ok(kubeconfig_credentials(&kc, &cr) == 0 && cr->token && !strcmp(cr->token, "tok-from-exec"),
	   "exec plugin gives a token");
	ok(cr->expires > time(NULL), "expiry parsed");
	ok(kubeconfig_credentials(&kc, &cr) == 0, "second ask");
	kubeconfig_invalidate(&kc);
	ok(kubeconfig_credentials(&kc, &cr) == 0, "ask after invalidate");
	kubeconfig_release(&kc);
	ok(kubeconfig_load_data(&kc, "f", cfg, strlen(cfg), tmpdir, "o") == 0, "expired config loads");
	kubeconfig_credentials(&kc, &cr);
	ok(kubeconfig_credentials(&kc, &cr) == 0 && !strcmp(cr->token, "tok-old"),
	   "an expired credential is fetched again");
	kubeconfig_release(&kc);
	f = fopen(count, "r");
	if (f) {
		int c;

		while ((c = fgetc(f)) != EOF)
			n += c == '\n';
		fclose(f);
	}
	is_int(n, 4, "cached until invalidated or expired (2 + 2 runs)");
	ok(kubeconfig_load_data(&kc, "f", cfg, strlen(cfg), tmpdir, "b") == 0 &&
	   kubeconfig_credentials(&kc, &cr) < 0, "a failing plugin is an error");
	kubeconfig_release(&kc);
	free(cfg);
	free(count);
}

static void test_in_cluster(void)
{
	struct kubeconfig kc = KUBECONFIG_INIT;
	const struct kube_creds *cr;
	char *sa = tpath("sa");

	mkdir(sa, 0700);
	write_file("sa/token", "sa-token", 0600);
	write_file("sa/ca.crt", "SA CA\n", 0600);
	write_file("sa/namespace", "tide\n", 0600);
	setenv("TIDEGATE_SA_DIR", sa, 1);
	unsetenv("KUBERNETES_SERVICE_HOST");
	ok(kubeconfig_in_cluster(&kc) < 0, "not in a cluster without the env");
	kubeconfig_release(&kc);
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	ok(kubeconfig_in_cluster(&kc) == 0, "in-cluster config");
	is_str(kc.server, "https://10.0.0.1:443", "server from the env");
	is_str(kc.namespace, "tide", "namespace file");
	ok(kc.ca_pem && !strcmp(kc.ca_pem, "SA CA\n"), "service-account CA");
	ok(kubeconfig_credentials(&kc, &cr) == 0 && !strcmp(cr->token, "sa-token"), "token file");
	kubeconfig_release(&kc);
	unsetenv("TIDEGATE_SA_DIR");
	free(sa);
}

static void test_base64(void)
{
	size_t n;
	char *s = kube_base64_decode("aGVs\nbG8=", 9, &n);

	ok(s && n == 5 && !memcmp(s, "hello", 5), "base64 with a newline");
	free(s);
	ok(kube_base64_decode("a=b=", 4, &n) == NULL, "data after padding is invalid");
	ok(kube_base64_decode("*", 1, &n) == NULL, "bad characters are invalid");
}

int main(void)
{
	log_init("t-kubeconfig", LOGL_ERROR, LOG_FORMAT_TEXT);
	log_set_fd(open("/dev/null", 1));
	if (!mkdtemp(tmpdir))
		return 1;
	test_base64();
	test_basic();
	test_errors();
	test_merge();
	test_token_file();
	test_exec();
	test_in_cluster();
	{
		const char *argv[] = { "rm", "-rf", tmpdir, NULL };
		struct spawn sp = SPAWN_INIT;
		struct spawn_result r = SPAWN_RESULT_INIT(1024, 1024);

		sp.argv = argv;
		spawn_run(&sp, NULL, 0, 10000, &r);
		spawn_result_release(&r);
	}
	return done_testing();
}
