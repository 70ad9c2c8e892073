#!/usr/bin/env python3
"""Validates the Istio networking objects of YAML files against Istio's CRD schemas, strictly.

Usage: validate-istio.py CRDS.yaml FILE...
Each networking.istio.io object is checked against the openAPIV3Schema of its kind and version
(jsonschema), and fields a schema does not declare are refused unless the schema preserves
unknown fields (as the API server prunes or, with strict field validation, refuses them).
CEL rules (x-kubernetes-validations) are not evaluated. Prints one line per problem and
"validated N Istio objects"; exits 1 on any problem.
"""
import sys

import jsonschema
import yaml


def unknown_fields(value, schema, path):
    problems = []
    if isinstance(value, dict) and schema.get("type") == "object":
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
        for key, member in value.items():
            if properties is not None and key in properties:
                problems += unknown_fields(member, properties[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                problems += unknown_fields(member, extra, f"{path}.{key}")
            elif properties is not None and not preserve and extra is not True:
                problems.append(f"{path}.{key}: unknown field")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += unknown_fields(item, schema["items"], f"{path}[{index}]")
    return problems


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    schemas = {}
    with open(sys.argv[1]) as crds:
        for crd in yaml.safe_load_all(crds):
            if not crd:
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                schemas[key] = version["schema"]["openAPIV3Schema"]
    problems, count = [], 0
    for name in sys.argv[2:]:
        with open(name) as handle:
            for index, obj in enumerate(yaml.safe_load_all(handle), start=1):
                if not obj or not str(obj.get("apiVersion", "")).startswith("networking.istio.io/"):
                    continue
                where = f"{name} (document {index}) {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
                schema = schemas.get((obj["apiVersion"], obj.get("kind")))
                if schema is None:
                    problems.append(f"{where}: no CRD schema for {obj['apiVersion']} {obj.get('kind')}")
                    continue
                count += 1
                body = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind", "metadata")}
                for error in jsonschema.Draft7Validator(schema).iter_errors(body):
                    field = ".".join(str(part) for part in error.absolute_path)
                    problems.append(f"{where}: {field}: {error.message}")
                problems += [f"{where}: {problem}" for problem in unknown_fields(body, schema, "")]
    for problem in problems:
        print(problem)
    print(f"validated {count} Istio objects")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
