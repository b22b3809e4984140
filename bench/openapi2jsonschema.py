#!/usr/bin/env python3
"""Converts schemas for kubeconform, the way its users do by hand.

openapi2jsonschema.py OUTDIR [OPENAPI_V3_JSON ...] [--crds DIR_OR_FILE ...]

Each Kubernetes kind becomes OUTDIR/<kind>-<group-or-version>-<version>.json
(the layout the schema-location template in bench/run names), strict:
additionalProperties false wherever the schema lists properties and does
not allow unknown fields, so kubeconform -strict checks what tidegate's
strict default checks. CRD files (YAML) give their openAPIV3Schema.
"""
import json
import os
import sys


def strictify(node):
    if isinstance(node, dict):
        node.pop("description", None)
        if ("properties" in node and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")):
            node["additionalProperties"] = False
        for v in node.values():
            strictify(v)
    elif isinstance(node, list):
        for v in node:
            strictify(v)


def fname(kind, group, version):
    first = group if group else version
    return "%s-%s-%s.json" % (kind.lower(), first, version)


def from_openapi(out, path):
    doc = json.load(open(path))
    schemas = doc.get("components", {}).get("schemas", {})
    strictify(schemas)
    n = 0
    for name, s in schemas.items():
        for gvk in s.get("x-kubernetes-group-version-kind", []):
            body = {"$ref": "#/components/schemas/" + name,
                    "components": {"schemas": schemas}}
            with open(os.path.join(out, fname(gvk["kind"], gvk.get("group", ""),
                                              gvk["version"])), "w") as f:
                json.dump(body, f, separators=(",", ":"))
            n += 1
    return n


def from_crds(out, path):
    import yaml  # only for CRDs; python3-yaml
    # a bare "=" is YAML 1.1's value tag to PyYAML; Kubernetes reads a string
    yaml.SafeLoader.add_constructor("tag:yaml.org,2002:value",
                                    lambda loader, node: loader.construct_scalar(node))
    files = []
    if os.path.isdir(path):
        for root, _, names in os.walk(path):
            files += [os.path.join(root, x) for x in names if x.endswith((".yaml", ".yml"))]
    else:
        files = [path]
    n = 0
    for p in files:
        for d in yaml.safe_load_all(open(p)):
            if not d or d.get("kind") != "CustomResourceDefinition":
                continue
            spec = d["spec"]
            for v in spec.get("versions", []):
                s = (v.get("schema") or {}).get("openAPIV3Schema")
                if not s:
                    continue
                strictify(s)
                with open(os.path.join(out, fname(spec["names"]["kind"], spec["group"],
                                                  v["name"])), "w") as f:
                    json.dump(s, f, separators=(",", ":"))
                n += 1
    return n


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    args = sys.argv[2:]
    n = 0
    crds = False
    for a in args:
        if a == "--crds":
            crds = True
            continue
        n += from_crds(out, a) if crds else from_openapi(out, a)
    print("%d schemas in %s" % (n, out))


main()
