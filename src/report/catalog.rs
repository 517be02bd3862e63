//! Rendering of `leastpriv catalog`.

use crate::catalog::Catalog;
use serde::Serialize;

#[derive(Serialize)]
struct SummaryV1<'a> {
    schema: &'static str,
    source: &'a str,
    date: &'a str,
    services: usize,
    actions: usize,
    access_levels: std::collections::BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
struct ActionV1 {
    action: String,
    access_levels: Vec<&'static str>,
    resource_types: Vec<ResourceV1>,
    condition_keys: &'static [&'static str],
}

#[derive(Serialize)]
struct ResourceV1 {
    name: &'static str,
    arn: &'static str,
    required: bool,
}

fn levels(cat: &Catalog) -> std::collections::BTreeMap<&'static str, usize> {
    let mut m = std::collections::BTreeMap::new();
    for id in cat.ids() {
        for l in cat.action(id).access_levels.iter() {
            *m.entry(l.as_str()).or_insert(0) += 1;
        }
    }
    m
}

/// Date, source and counts.
pub fn summary(cat: &Catalog, json: bool) -> String {
    if json {
        let s = SummaryV1 {
            schema: "leastpriv.catalog/v1",
            source: cat.source(),
            date: cat.date(),
            services: cat.services().len(),
            actions: cat.len(),
            access_levels: levels(cat),
        };
        return serde_json::to_string_pretty(&s).unwrap_or_default() + "\n";
    }
    let mut out = format!(
        "AWS action catalog from {} (Service Authorization Reference as of {})\n{} services, {} actions\n",
        cat.source(),
        cat.date(),
        cat.services().len(),
        cat.len()
    );
    for (l, n) in levels(cat) {
        out.push_str(&format!("  {l}: {n}\n"));
    }
    out
}

/// Every action matching `pattern`.
pub fn lookup(cat: &Catalog, pattern: &str, json: bool) -> (String, usize) {
    let set = cat.expand(pattern);
    let n = set.len();
    if json {
        let v: Vec<ActionV1> = set
            .iter()
            .map(|id| {
                let a = cat.action(id);
                ActionV1 {
                    action: cat.full_name(id),
                    access_levels: a.access_levels.iter().map(|l| l.as_str()).collect(),
                    resource_types: a
                        .resource_types
                        .iter()
                        .map(|r| ResourceV1 {
                            name: r.name,
                            arn: r.arn,
                            required: r.required,
                        })
                        .collect(),
                    condition_keys: a.condition_keys,
                }
            })
            .collect();
        return (
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n",
            n,
        );
    }
    let mut out = String::new();
    for id in set.iter() {
        let a = cat.action(id);
        let lv: Vec<&str> = a.access_levels.iter().map(|l| l.as_str()).collect();
        out.push_str(&format!("{}  [{}]\n", cat.full_name(id), lv.join(", ")));
        if a.resource_types.is_empty() {
            out.push_str("    resource: * (no resource types)\n");
        }
        for r in a.resource_types {
            out.push_str(&format!(
                "    resource: {}{} {}\n",
                r.name,
                if r.required { "*" } else { "" },
                r.arn
            ));
        }
        if !a.condition_keys.is_empty() {
            out.push_str(&format!(
                "    conditions: {}\n",
                a.condition_keys.join(", ")
            ));
        }
    }
    out.push_str(&format!("{n} action(s) match `{pattern}`\n"));
    (out, n)
}
