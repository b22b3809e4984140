/*
 * report.c - text, JSON and SARIF reports of findings.
 *
 * JSON is written by hand into the buffer, one finding per line, so a
 * report of many findings needs no tree in memory and diffs well.
 */
#include "report.h"
#include "rules.h"
#include "xalloc.h"

#include <string.h>

static const struct engine_rule engine_table[] = {
	{ "config-invalid", SEV_ERROR, "the lint configuration (.tidegate.yaml) has an error",
	  "Fix the key named in the message; see docs/lint-output.md for the keys." },
	{ "config-locked", SEV_WARNING,
	  "the repository tried to lower a rule the server's policy locks",
	  "Locked rules keep the server's severity; ask the server's administrators." },
	{ "config-unknown", SEV_WARNING, "the lint configuration names an unknown key or rule",
	  "Check the spelling; `tidegate lint --list-rules` lists the rule ids." },
	{ "duplicate-object", SEV_ERROR,
	  "two objects have the same group, kind, namespace and name",
	  "Keep one definition: applying both makes the later silently replace the first." },
	{ "invalid-label", SEV_ERROR, "a label or annotation key or value is not valid",
	  "Keys are [prefix/]name (a DNS subdomain prefix, a name of up to 63 alphanumerics, "
	  "'-', '_', '.'); label values are up to 63 such characters; values are strings "
	  "(quote true, 1, 1.0)." },
	{ "invalid-name", SEV_ERROR, "metadata.name or metadata.namespace is not valid for the kind",
	  "Use lower case alphanumerics and '-' ('.' too for most kinds): Namespaces and "
	  "Services need DNS-1123 labels, most kinds DNS-1123 subdomains." },
	{ "namespace-on-cluster-scoped", SEV_WARNING,
	  "a cluster-scoped object sets metadata.namespace",
	  "Remove metadata.namespace: the API server ignores it for cluster-scoped kinds." },
	{ "not-kubernetes", SEV_INFO, "a YAML document is not a Kubernetes object; skipped",
	  "Move other YAML out of the linted paths, or exclude it in .tidegate.yaml." },
	{ "object-missing-field", SEV_ERROR, "an object lacks apiVersion, kind or metadata.name",
	  "Every object needs apiVersion, kind and metadata.name (or metadata.generateName)." },
	{ "schema-crd", SEV_ERROR, "a CustomResourceDefinition's schema cannot be used",
	  "Fix the CRD's openAPIV3Schema." },
	{ "schema-enum", SEV_ERROR, "a field holds a value its schema does not allow",
	  "Use one of the values the message lists." },
	{ "schema-format", SEV_ERROR, "a field's value does not have the format its schema asks",
	  "Write the value in the expected format (quantity, date-time, ...)." },
	{ "schema-list-duplicate", SEV_ERROR, "a list keyed by a field holds two items with one key",
	  "Make the key fields (for example name, or containerPort/protocol) unique." },
	{ "schema-missing", SEV_WARNING, "no schema is known for the object's apiVersion and kind",
	  "Add the CRD to the linted files, pass --schema-dir, or check apiVersion and kind." },
	{ "schema-oneof", SEV_ERROR, "a field matches none, or more than one, of its schema's choices",
	  "Set exactly one of the alternatives the schema allows." },
	{ "schema-pattern", SEV_ERROR, "a string does not match its schema's pattern",
	  "Write the value in the form the pattern describes (patterns that POSIX regular "
	  "expressions cannot express are left to the API server)." },
	{ "schema-range", SEV_ERROR, "a value is outside its schema's bounds (minimum/maximum, "
	  "minLength/maxLength, minItems/maxItems)",
	  "Bring the value within the bounds the message names." },
	{ "schema-required", SEV_ERROR, "a required field is missing",
	  "Add the field the message names." },
	{ "schema-type", SEV_ERROR, "a field has the wrong type (string, int, bool, map, list)",
	  "Write the value with the type the schema asks; quote strings that look like numbers "
	  "or bools." },
	{ "schema-unknown-field", SEV_ERROR, "a field is not in the kind's schema",
	  "Check the spelling and indentation; the API server drops or refuses unknown fields." },
	{ "template-skipped", SEV_INFO, "a file holds template markers ({{ ... }}); skipped",
	  "Render the template (helm template, ...) and lint the output." },
	{ "yaml-duplicate-key", SEV_ERROR, "a YAML map sets one key twice",
	  "Remove one of the two keys; Kubernetes keeps only one of the values." },
	{ "yaml-limit", SEV_ERROR, "the file is beyond a safety limit (size, depth, nodes, aliases)",
	  "Split the file or remove the construct; files built to exhaust memory are refused." },
	{ "yaml-syntax", SEV_ERROR, "the file is not valid YAML", "Fix the syntax at the place named." },
	{ "yaml-tab", SEV_WARNING, "a tab character in indentation", "Indent YAML with spaces." },
	{ "yaml11-trap", SEV_WARNING,
	  "a plain value means something else to a YAML 1.1 reader (yes/no/on/off, 0755)",
	  "Quote the value so that every reader sees the same string." },
};

const struct engine_rule *engine_rules(size_t *n)
{
	*n = sizeof(engine_table) / sizeof(engine_table[0]);
	return engine_table;
}

int report_rule_info(const char *id, const char **summary, const char **hint,
		     enum severity *sev)
{
	const struct rule *r;
	size_t i;

	if (!id)
		return -1;
	if ((r = rule_find(id))) {
		*summary = r->summary;
		*hint = r->hint;
		*sev = r->sev;
		return 0;
	}
	for (i = 0; i < sizeof(engine_table) / sizeof(engine_table[0]); i++)
		if (!strcmp(engine_table[i].id, id)) {
			*summary = engine_table[i].summary;
			*hint = engine_table[i].hint;
			*sev = engine_table[i].sev;
			return 0;
		}
	if (!strncmp(id, "schema-", 7)) {
		*summary = "the object does not match its OpenAPI schema";
		*hint = "Fix the field the message names.";
		*sev = SEV_ERROR;
		return 0;
	}
	return -1;
}

int report_format_parse(const char *name, enum report_format *out)
{
	if (!name)
		return -1;
	if (!strcmp(name, "text"))
		*out = REPORT_TEXT;
	else if (!strcmp(name, "json"))
		*out = REPORT_JSON;
	else if (!strcmp(name, "sarif"))
		*out = REPORT_SARIF;
	else
		return -1;
	return 0;
}

/* ---- text ----------------------------------------------------------- */

static size_t count_ignored(const struct findings *fs)
{
	size_t i, n = 0;

	for (i = 0; i < fs->n; i++)
		if (fs->v[i].ignored)
			n++;
	return n;
}

static void add_oneline(struct buf *b, const char *s)
{
	for (; s && *s; s++)
		buf_addch(b, *s == '\n' || *s == '\r' ? ' ' : *s);
}

static void write_text(struct buf *b, const struct findings *fs, const struct report_summary *sum)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		if (f->ignored)
			continue;
		add_oneline(b, f->path);
		if (f->line)
			buf_addf(b, ":%u:%u", f->line, f->col);
		buf_addf(b, ": %s: ", severity_name(f->sev));
		add_oneline(b, f->msg);
		if (f->rule)
			buf_addf(b, " [%s]", f->rule);
		buf_addch(b, '\n');
	}
	if (fs->dropped)
		buf_addf(b, "(%zu more findings not shown)\n", fs->dropped);
	buf_addf(b, "%zu object%s in %zu file%s: %zu error%s, %zu warning%s, %zu skipped\n",
		 sum->objects, sum->objects == 1 ? "" : "s", sum->files, sum->files == 1 ? "" : "s",
		 fs->nerr, fs->nerr == 1 ? "" : "s", fs->nwarn, fs->nwarn == 1 ? "" : "s",
		 sum->skipped);
}

/* ---- JSON ----------------------------------------------------------- */

static void json_str_or_null(struct buf *b, const char *s)
{
	if (s)
		buf_add_json_str(b, s);
	else
		buf_addstr(b, "null");
}

static void write_json(struct buf *b, const struct findings *fs, const struct report_summary *sum)
{
	size_t i;

	buf_addstr(b, "{\"version\":1,\"tool\":\"tidegate\",\"findings\":[");
	for (i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		buf_addstr(b, i ? ",\n  " : "\n  ");
		buf_addstr(b, "{\"path\":");
		buf_add_json_str(b, f->path);
		buf_addf(b, ",\"line\":%u,\"col\":%u,\"severity\":\"%s\",\"rule\":",
			 f->line, f->col, severity_name(f->sev));
		json_str_or_null(b, f->rule);
		buf_addstr(b, ",\"message\":");
		buf_add_json_str(b, f->msg ? f->msg : "");
		buf_addstr(b, ",\"hint\":");
		json_str_or_null(b, f->hint);
		buf_addstr(b, ",\"jsonPath\":");
		json_str_or_null(b, f->jpath);
		buf_addstr(b, ",\"object\":");
		json_str_or_null(b, f->object);
		buf_addf(b, ",\"ignored\":%s,\"ignoreReason\":", f->ignored ? "true" : "false");
		json_str_or_null(b, f->ignore_reason);
		buf_addch(b, '}');
	}
	buf_addstr(b, fs->n ? "\n],\n" : "],\n");
	buf_addf(b, "\"summary\":{\"objects\":%zu,\"files\":%zu,\"errors\":%zu,\"warnings\":%zu,"
		 "\"infos\":%zu,\"skipped\":%zu,\"ignored\":%zu,\"dropped\":%zu}}\n",
		 sum->objects, sum->files, fs->nerr, fs->nwarn, fs->ninfo, sum->skipped,
		 count_ignored(fs), fs->dropped);
}

/* ---- SARIF ---------------------------------------------------------- */

static const char *sarif_level(enum severity sev)
{
	switch (sev) {
	case SEV_ERROR:
		return "error";
	case SEV_WARNING:
		return "warning";
	case SEV_INFO:
	case SEV_OFF:
		break;
	}
	return "note";
}

/* A relative URI reference: unreserved characters and '/' as they are. */
static void add_uri(struct buf *b, const char *path)
{
	struct buf u = BUF_INIT(BUF_NOCAP);
	const unsigned char *p = (const unsigned char *)path;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	for (; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
			buf_addch(&u, *p);
		else
			buf_addf(&u, "%%%02X", *p);
	}
	buf_add_json_str(b, u.data);
	buf_release(&u);
}

static int rule_index(const char **ids, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return (int)i;
	return -1;
}

static void write_sarif(struct buf *b, const struct findings *fs)
{
	const char **ids = NULL;
	size_t nids = 0, i;

	/* the rules the results use, in order of first use */
	ids = xcalloc(fs->n ? fs->n : 1, sizeof(*ids));
	for (i = 0; i < fs->n; i++) {
		const char *id = fs->v[i].rule ? fs->v[i].rule : "tidegate";

		if (rule_index(ids, nids, id) < 0)
			ids[nids++] = id;
	}
	buf_addstr(b, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
		   "\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"tidegate\","
		   "\"version\":\"" TIDEGATE_VERSION "\",\"rules\":[");
	for (i = 0; i < nids; i++) {
		const char *summary = "tidegate check", *hint = NULL;
		enum severity sev = SEV_WARNING;

		report_rule_info(ids[i], &summary, &hint, &sev);
		buf_addstr(b, i ? ",\n" : "\n");
		buf_addstr(b, "{\"id\":");
		buf_add_json_str(b, ids[i]);
		buf_addstr(b, ",\"name\":");
		buf_add_json_str(b, ids[i]);
		buf_addstr(b, ",\"shortDescription\":{\"text\":");
		buf_add_json_str(b, summary);
		buf_addstr(b, "},\"help\":{\"text\":");
		buf_add_json_str(b, hint ? hint : summary);
		buf_addf(b, "},\"defaultConfiguration\":{\"level\":\"%s\"}}", sarif_level(sev));
	}
	buf_addstr(b, "]}},\n\"results\":[");
	for (i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];
		const char *id = f->rule ? f->rule : "tidegate";

		buf_addstr(b, i ? ",\n" : "\n");
		buf_addstr(b, "{\"ruleId\":");
		buf_add_json_str(b, id);
		buf_addf(b, ",\"ruleIndex\":%d,\"level\":\"%s\",\"message\":{\"text\":",
			 rule_index(ids, nids, id), sarif_level(f->sev));
		if (f->object) {
			struct buf m = BUF_INIT(BUF_NOCAP);

			buf_addf(&m, "%s (%s%s%s)", f->msg, f->object, f->jpath ? " " : "",
				 f->jpath ? f->jpath : "");
			buf_add_json_str(b, m.data);
			buf_release(&m);
		} else {
			buf_add_json_str(b, f->msg ? f->msg : "");
		}
		buf_addstr(b, "},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
		add_uri(b, f->path);
		buf_addch(b, '}');
		if (f->line)
			buf_addf(b, ",\"region\":{\"startLine\":%u,\"startColumn\":%u}", f->line,
				 f->col ? f->col : 1);
		buf_addstr(b, "}}]");
		if (f->ignored) {
			buf_addstr(b, ",\"suppressions\":[{\"kind\":\"inSource\"");
			if (f->ignore_reason) {
				buf_addstr(b, ",\"justification\":");
				buf_add_json_str(b, f->ignore_reason);
			}
			buf_addstr(b, "}]");
		}
		buf_addch(b, '}');
	}
	buf_addstr(b, fs->n ? "\n]}]}\n" : "]}]}\n");
	free(ids);
}

int report_write(struct buf *out, enum report_format fmt, const struct findings *fs,
		 const struct report_summary *sum)
{
	struct report_summary zero = { 0, 0, 0 };

	if (!sum)
		sum = &zero;
	switch (fmt) {
	case REPORT_TEXT:
		write_text(out, fs, sum);
		break;
	case REPORT_JSON:
		write_json(out, fs, sum);
		break;
	case REPORT_SARIF:
		write_sarif(out, fs);
		break;
	}
	return out->toobig ? -1 : 0;
}
