#!/usr/bin/env python3
"""Reference matcher for Amazon EventBridge event patterns (cross-check oracle).

Written from the documented semantics (EventBridge User Guide: "Event patterns",
"Comparison operators for use in event patterns", "Content filtering"), for use
as a test oracle against leastpriv's Rust matcher. Standard library only.

Semantics implemented
  * A pattern is a JSON object. Keys are ANDed. A leaf is a non-empty array of
    conditions, ORed. `$or` (a list of sub-patterns) may appear at any object level.
  * Event value that is an array: the leaf matches if ANY element matches.
  * Nested pattern objects descend into event objects. If the event holds an
    array of objects at that point, the sub-pattern must match within ONE element
    (array consistency) -- set ARRAY_CONSISTENCY = False for the looser
    "flatten every element" behaviour. (EventBridge docs do not state which;
    AWS event-ruler documents array consistency. Unverified against the service.)
  * Absent field: only `{"exists": false}` matches. anything-but, prefix, ...
    never match an absent field.
  * Exact values: strings compare exactly (case-sensitive); numbers compare
    numerically (5 == 5.0; unverified for the service); true/false/null by
    identity; a string never equals a number.
  * prefix / suffix / equals-ignore-case / wildcard: strings only;
    prefix/suffix accept {"equals-ignore-case": s}.
  * wildcard: `*` = any run of characters, `\\*` = literal star, `\\\\` = backslash.
  * anything-but: scalar, list of scalars, or {prefix|suffix|equals-ignore-case|
    wildcard: value-or-list}. Matches only present, non-matching values.
  * numeric: ["op", n, "op", n ...] with = < <= > >=; event value must be a
    JSON number (bool is not a number).
  * cidr: IPv4 or IPv6 network; event value must be an IP string.
  * exists: true -> field present (any value incl. null); false -> absent.
    Applies to leaves; on an intermediate object the service rejects/behaves
    differently (docs: exists works only on leaf nodes) -- we treat it as presence.
Not implemented: pattern validation/limits (size, wildcard quota), "suffix" on
numbers, IPv6 compression subtleties beyond the ipaddress module.
"""
from __future__ import annotations

import ipaddress
import json
import re
import sys
from typing import Any

ARRAY_CONSISTENCY = True
_ABSENT = object()


def matches(pattern: dict, event: dict) -> bool:
    return _match_obj(pattern, event)


def _match_obj(pattern: dict, node: Any) -> bool:
    if isinstance(node, list):  # array of objects: one element must satisfy the whole sub-pattern
        if ARRAY_CONSISTENCY:
            return any(_match_obj(pattern, el) for el in node if isinstance(el, dict))
        merged: dict = {}
        for el in node:
            if isinstance(el, dict):
                for k, v in el.items():
                    merged.setdefault(k, []).append(v)
        node = {k: (v[0] if len(v) == 1 else _flatten(v)) for k, v in merged.items()}
    if not isinstance(node, dict):
        node = {}
    for key, cond in pattern.items():
        if key == "$or":
            if not any(_match_obj(p, node) for p in cond):
                return False
            continue
        value = node.get(key, _ABSENT)
        if isinstance(cond, dict):
            if value is _ABSENT or not isinstance(value, (dict, list)):
                # a nested pattern against an absent/scalar field can still be satisfied by exists:false leaves
                if not _only_absent_ok(cond):
                    return False
                continue
            if not _match_obj(cond, value):
                return False
        elif isinstance(cond, list):
            if not _match_leaf(cond, value):
                return False
        else:
            raise ValueError(f"pattern value for {key!r} must be an object or an array")
    return True


def _flatten(vals: list) -> list:
    out = []
    for v in vals:
        out.extend(v if isinstance(v, list) else [v])
    return out


def _only_absent_ok(cond: dict) -> bool:
    """True when every leaf under cond is satisfied by absence (exists:false)."""
    for k, v in cond.items():
        if k == "$or":
            if not any(_only_absent_ok(p) for p in v):
                return False
        elif isinstance(v, dict):
            if not _only_absent_ok(v):
                return False
        elif not any(isinstance(c, dict) and c.get("exists") is False for c in v):
            return False
    return True


def _match_leaf(conds: list, value: Any) -> bool:
    if not conds:
        raise ValueError("empty arrays are not allowed in patterns")
    for c in conds:
        if isinstance(c, dict) and "exists" in c:
            if (value is not _ABSENT) == bool(c["exists"]):
                return True
            continue
        if value is _ABSENT:
            continue
        candidates = value if isinstance(value, list) else [value]
        if any(_match_one(c, v) for v in candidates):
            return True
    return False


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _eq(a: Any, b: Any) -> bool:
    if _is_num(a) and _is_num(b):
        return float(a) == float(b)
    if type(a) is not type(b):
        return False
    return a == b


def _wild(pattern: str, s: str) -> bool:
    rx, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            rx += re.escape(pattern[i + 1]); i += 2; continue
        rx += ".*" if ch == "*" else re.escape(ch); i += 1
    return re.fullmatch(rx, s, flags=re.DOTALL) is not None


def _str_op(op: str, arg: Any, v: Any) -> bool:
    if not isinstance(v, str):
        return False
    args = arg if isinstance(arg, list) else [arg]
    for a in args:
        if isinstance(a, dict) and "equals-ignore-case" in a:
            a2, vv = a["equals-ignore-case"].lower(), v.lower()
        else:
            a2, vv = a, v
        if op == "prefix" and vv.startswith(a2): return True
        if op == "suffix" and vv.endswith(a2): return True
        if op == "equals-ignore-case" and v.lower() == a.lower(): return True
        if op == "wildcard" and _wild(a, v): return True
    return False


_NUM_OPS = {"=": lambda x, y: x == y, "<": lambda x, y: x < y, "<=": lambda x, y: x <= y,
            ">": lambda x, y: x > y, ">=": lambda x, y: x >= y}


def _match_one(c: Any, v: Any) -> bool:
    if not isinstance(c, dict):
        return _eq(c, v)
    (op, arg), = c.items()
    if op in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        return _str_op(op, arg, v)
    if op == "numeric":
        if not _is_num(v):
            return False
        return all(_NUM_OPS[arg[i]](v, arg[i + 1]) for i in range(0, len(arg), 2))
    if op == "cidr":
        try:
            return isinstance(v, str) and ipaddress.ip_address(v) in ipaddress.ip_network(arg, strict=False)
        except ValueError:
            return False
    if op == "anything-but":
        if isinstance(arg, dict):
            (sub, subarg), = arg.items()
            if isinstance(v, str):
                return not _str_op(sub, subarg, v)
            return True  # a non-string value is "anything but" a string-only filter (unverified)
        args = arg if isinstance(arg, list) else [arg]
        return not any(_eq(a, v) for a in args)
    raise ValueError(f"unknown operator {op!r}")


if __name__ == "__main__":
    pat, ev = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
    print(json.dumps(matches(pat, ev)))
