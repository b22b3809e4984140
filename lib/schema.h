/*
 * TEAM NOTE FOR EVERY ENGINEER - the lead removes this block before the end; leave it in place
 * (commit the file with it if you must). Use the build dir named in your task (build-<your part>).
 * ## The team and the rules (read carefully)
 * You are one of several engineers building **tidegate** at the same time in ONE shared working tree, /work/main (git, branch main). tidegate is C11 over libyaml, libevent, cJSON, libcurl, OpenSSL (Debian packages, already installed): a git pre-receive hook that lints Kubernetes manifests and refuses bad pushes (the gate), `tidegate lint/apply/diff` commands, and `tidegated`, a libevent daemon that receives push webhooks and applies the pushed commit to Kubernetes clusters with server-side apply (the pusher).
 * Before writing code read: /work/shared/design/ARCHITECTURE.md, /work/shared/design/STYLE.md (follow it: git strbuf/run-command style, `struct thing` + `thing_verb()`, `_init/_release/_free`, 0/-1 returns with `return error("...")`, no typedef'd structs), /work/shared/design/INTEROP.md (wire facts), /work/main/docs/INTERFACES.md (the contracts between parts: CLI flags, webhook format, daemon config), and the existing headers in /work/main/lib/ (buf.h capped buffer, xalloc.h, log.h, spawn.h, banned.h, and the engine contracts yaml.h, finding.h, manifest.h, lint.h, rules.h, schema.h). Tests: tests/unit/tap.h (C unit tests, TAP) and tests/test-lib.sh (git test-lib style shell tests; see tests/t0001-basics.sh for an example; `test_need_cluster` starts a sandbox Kubernetes cluster).
 * - The Makefile picks up files by wildcard: lib/*.c (the library, no main/exit), cli/*.c (bin/tidegate), webhookd/*.c (bin/tidegated), hooks/*.c (hooks/pre-receive.c and hooks/post-receive.c are the two mains; other hooks/*.c link into both), tests/unit/t-*.c (each becomes a unit-test binary linked with the library), tests/t[0-9]*.sh (integration tests, must be executable). Do NOT edit the Makefile, README.md, .ci/run or other engineers' files; if you need a Makefile change, say so in your report. Adding a subcommand: add its line to the table in cli/main.c and its declaration to cli/cli.h (small, careful edits; others do the same).
 * - BUILD IN YOUR OWN BUILD DIR to avoid clobbering others: `make O=build-NAME -j2` (NAME given below) and run tests with `make O=build-NAME test` or directly `TIDEGATE_BUILD=$PWD/build-NAME prove -v --exec '' build-NAME/tests/t-foo.t tests/tNNNN-foo.sh`. Others' half-written files may break a full build for a while: if so, wait a minute and retry; never edit their files. Your own files must compile with no warnings under `make O=build-NAME DEVELOPER=1` and your tests must pass under `make O=build-NAME-san SANITIZE=address,undefined` (ASan leak detection on: free everything).
 * - Tests assert behaviour (no test that cannot fail); each is independent, cleans up, leaves no process behind, runs in well under a minute; fixtures live in tests/data/<your area>/, never depend on /work/shared. Hostile input gets limits and clear errors, never a crash. Never system(), popen() or a shell in product code: spawn with lib/spawn.h. Secrets are read from files, compared in constant time, never logged. Comments, docs and commit messages speak only of tidegate itself.
 * - Commit your own files in small working steps: `git add <your paths> && git commit -m "<clear message>" -- <your paths>` (retry if .git/index.lock exists). Never `git add -A`, `git commit -a`, stash, reset, or checkout other files.
 * - The machine has 2 cores shared by everyone (a long Go build of the Kubernetes control plane is running): keep builds and test runs modest (-j2 at most).
 * - Use the search tool (docs/code/issues corpora) to check an API instead of guessing.
 * - HARD DEADLINE: at 14:50 UTC (check `date` regularly) stop adding features: make sure your files build with DEVELOPER=1, your tests pass (also under the sanitizer build), commit, and end with a report: what you built, how it is tested, figures you measured, what is missing and why, and anything the lead must wire in (Makefile lines, README text). Scope generously but land working pieces early: a smaller thing that works and is committed beats a big thing half-done.
 */
/*
 * schema.h - OpenAPI v3 validation of Kubernetes objects.
 *
 * A schema store answers "what is the schema of group/version/kind",
 * loading lazily (only the kinds a run needs) from, in order:
 *   1. CustomResourceDefinitions added with schema_store_add_crd()
 *      (CRDs in the same set of files validate the resources beside them);
 *   2. a schema directory (`tidegate schema pull` output, --schema-dir);
 *   3. the bundled schemas of the pinned Kubernetes version.
 * Findings point at the offending node's line:col with its JSON path
 * (rules "schema-unknown-field", "schema-type", "schema-required",
 * "schema-enum", "schema-format", "schema-missing" ...).
 */
#ifndef TIDEGATE_SCHEMA_H
#define TIDEGATE_SCHEMA_H

#include "finding.h"
#include "manifest.h"

struct schema_store;

/*
 * schema_dir may be NULL. The bundled schemas are found through
 * $TIDEGATE_SCHEMAS, else next to the program (../share/tidegate/schemas,
 * or the source tree's data/schemas for in-tree builds).
 * Returns NULL (error logged) when schema_dir is given but unusable.
 */
struct schema_store *schema_store_new(const char *schema_dir);
/*
 * Registers the versions of a CRD object's openAPIV3Schema. The schema is
 * compiled from crd's node tree when a custom resource first needs it,
 * so the tree must outlive the store's use (keep the kset alive).
 * Returns 0 or -1 (findings say why).
 */
int schema_store_add_crd(struct schema_store *st, const struct kobj *crd, struct findings *fs);
/*
 * Validates o. A kind with no schema is a "schema-missing" warning, or an
 * error when strict. Returns 0 when a schema was found and applied.
 */
int schema_validate(struct schema_store *st, const struct kobj *o, int strict,
		    struct findings *fs);
/* 1/0 when the store knows the kind's scope (namespaced or not), -1 when unknown. */
int schema_store_namespaced(struct schema_store *st, const char *group, const char *version,
			    const char *kind);
/* 1 when s is a valid Kubernetes resource quantity ("500m", "1.5Gi", "1e3"), else 0. */
int schema_quantity_valid(const char *s);
/* The bundled Kubernetes version ("1.36.3"), or NULL. */
const char *schema_store_kube_version(struct schema_store *st);
void schema_store_free(struct schema_store *st);

#endif
