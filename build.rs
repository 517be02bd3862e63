//! Turns `rules/catalog.json` into static tables compiled into the binary.
//!
//! Parsing the 2 MB catalog and building its tables took 30 ms, the largest
//! fixed cost of every run (a 50,000-event audit takes 170 ms). The tables
//! are built here once instead, in the order and form `Catalog::from_json`
//! builds them; a unit test checks that the two agree field by field, and
//! `from_json` remains the validating reader.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

const CATALOG: &str = "rules/catalog.json";

fn main() {
    println!("cargo::rerun-if-changed={CATALOG}");
    println!("cargo::rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(CATALOG)
        .unwrap_or_else(|e| panic!("`{CATALOG}`: cannot read: {e}"));
    let code = generate(&text).unwrap_or_else(|e| panic!("`{CATALOG}`: {e}"));
    let out = Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("catalog_tables.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("`{}`: {e}", out.display()));
}

fn field<'v>(v: &'v Value, key: &str, at: &str) -> Result<&'v Value, String> {
    v.get(key).ok_or_else(|| format!("{at}: no `{key}`"))
}

fn text<'v>(v: &'v Value, at: &str) -> Result<&'v str, String> {
    v.as_str().ok_or_else(|| format!("{at}: not a string"))
}

fn list<'v>(v: &'v Value, at: &str) -> Result<&'v [Value], String> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{at}: not a list"))
}

/// Every distinct string once, and lists of them, by index.
#[derive(Default)]
struct Strings {
    text: String,
    ends: Vec<usize>,
    index: std::collections::HashMap<String, usize>,
    lists: Vec<usize>,
}

impl Strings {
    fn id(&mut self, s: &str) -> usize {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        self.text.push_str(s);
        self.ends.push(self.text.len());
        self.index.insert(s.to_string(), self.ends.len() - 1);
        self.ends.len() - 1
    }

    /// A list of strings as the range of `lists` holding their ids.
    fn list(&mut self, v: &Value, at: &str) -> Result<(usize, usize), String> {
        let start = self.lists.len();
        for (i, s) in list(v, at)?.iter().enumerate() {
            let id = self.id(text(s, &format!("{at}[{i}]"))?);
            self.lists.push(id);
        }
        Ok((start, self.lists.len()))
    }
}

fn level(name: &str, at: &str) -> Result<u32, String> {
    // The order of `AccessLevel`'s variants.
    Ok(match name {
        "List" => 0,
        "Read" => 1,
        "Write" => 2,
        "Permissions management" => 3,
        "Tagging" => 4,
        other => return Err(format!("{at}: unknown access level `{other}`")),
    })
}

fn row(out: &mut String, fields: &[usize]) {
    out.push('[');
    for f in fields {
        write!(out, "{f},").unwrap();
    }
    out.push_str("],");
}

/// Plain integer tables and one string: rustc compiles these in seconds,
/// where the same data as nested struct literals with `&str` fields took
/// minutes to type-check.
fn generate(json: &str) -> Result<String, String> {
    let root: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let source = field(&root, "source", "$")?;
    let name = text(field(source, "name", "$.source")?, "$.source.name")?;
    let version = text(field(source, "version", "$.source")?, "$.source.version")?;
    let date = text(field(source, "date", "$.source")?, "$.source.date")?;

    let mut services: Vec<(&str, &Value)> = Vec::new();
    for s in list(field(&root, "services", "$")?, "$.services")? {
        services.push((text(field(s, "prefix", "$.services[]")?, "prefix")?, s));
    }
    services.sort_by(|a, b| a.0.cmp(b.0));

    let mut strings = Strings::default();
    let mut service_rows = String::new();
    let mut type_rows = String::new();
    let mut action_rows = String::new();
    let mut resource_rows = String::new();
    let mut lower_names = String::new();
    let mut lower_ends = String::new();
    let (mut types, mut actions_total, mut resources) = (0usize, 0usize, 0usize);
    for (prefix, service) in &services {
        let at = format!("service `{prefix}`");
        let types_start = types;
        let mut type_count = 0usize;
        for t in list(field(service, "resourceTypes", &at)?, &at)? {
            let pair = list(t, &at)?;
            let (Some(n), Some(a)) = (pair.first(), pair.get(1)) else {
                return Err(format!("{at}: a resource type is not [name, arn]"));
            };
            let (n, a) = (strings.id(text(n, &at)?), strings.id(text(a, &at)?));
            row(&mut type_rows, &[n, a]);
            types += 1;
            type_count += 1;
        }

        let mut actions: Vec<(String, &[Value])> = Vec::new();
        for a in list(field(service, "actions", &at)?, &at)? {
            let fields = list(a, &at)?;
            let name = text(fields.first().ok_or(format!("{at}: empty action"))?, &at)?;
            actions.push((name.to_lowercase(), fields));
        }
        // Stable, like `from_json`'s: ids follow the lowercase names.
        actions.sort_by(|a, b| a.0.cmp(&b.0));
        let first = actions_total;
        for (lower, fields) in actions {
            let name = text(&fields[0], &at)?;
            let at = format!("action `{prefix}:{name}`");
            let get = |i: usize| fields.get(i).ok_or(format!("{at}: missing field {i}"));
            let levels = list(get(1)?, &at)?;
            if levels.len() > 5 {
                return Err(format!("{at}: more than five access levels"));
            }
            // Three bits per level, the count in the lowest three.
            let mut packed = levels.len() as u32;
            for (i, l) in levels.iter().enumerate() {
                packed |= level(text(l, &at)?, &at)? << (3 * (i + 1));
            }
            let res_start = resources;
            for r in list(get(2)?, &at)? {
                let r = list(r, &at)?;
                let bad = || format!("{at}: bad resource reference");
                let index = r.first().and_then(Value::as_u64).ok_or_else(bad)?;
                let required = r.get(1).and_then(Value::as_bool).ok_or_else(bad)?;
                let keys = strings.list(r.get(2).ok_or_else(bad)?, &at)?;
                let index = usize::try_from(index)
                    .ok()
                    .filter(|&i| i < type_count)
                    .ok_or(format!("{at}: resource type index {index} out of range"))?;
                row(
                    &mut resource_rows,
                    &[types_start + index, usize::from(required), keys.0, keys.1],
                );
                resources += 1;
            }
            let keys = strings.list(get(3)?, &at)?;
            let dependent = strings.list(get(4)?, &at)?;
            let name_id = strings.id(name);
            row(
                &mut action_rows,
                &[
                    name_id,
                    packed as usize,
                    res_start,
                    resources,
                    keys.0,
                    keys.1,
                    dependent.0,
                    dependent.1,
                ],
            );
            action_rows.push('\n');
            lower_names.push_str(&lower);
            write!(lower_ends, "{},", lower_names.len()).unwrap();
            actions_total += 1;
        }
        let prefix_id = strings.id(prefix);
        let keys = strings.list(field(service, "conditionKeys", &at)?, &at)?;
        row(
            &mut service_rows,
            &[
                prefix_id,
                first,
                actions_total,
                types_start,
                types,
                keys.0,
                keys.1,
            ],
        );
        service_rows.push('\n');
    }

    let mut out = String::new();
    let ends: Vec<String> = strings.ends.iter().map(usize::to_string).collect();
    let lists: Vec<String> = strings.lists.iter().map(usize::to_string).collect();
    let n_strings = strings.ends.len();
    let n_lists = strings.lists.len();
    let n_services = services.len();
    writeln!(out, "// Generated by build.rs from {CATALOG}: do not edit.").unwrap();
    writeln!(
        out,
        "pub(super) const SOURCE: &str = {:?};",
        format!("{name} {version}")
    )
    .unwrap();
    writeln!(out, "pub(super) const DATE: &str = {date:?};").unwrap();
    writeln!(out, "pub(super) static STRINGS: &str = {:?};", strings.text).unwrap();
    writeln!(
        out,
        "pub(super) static STRING_ENDS: [u32; {n_strings}] = [{}];",
        ends.join(",")
    )
    .unwrap();
    writeln!(
        out,
        "pub(super) static LISTS: [u32; {n_lists}] = [{}];",
        lists.join(",")
    )
    .unwrap();
    writeln!(
        out,
        "pub(super) static SERVICES: [[u32; 7]; {n_services}] = [\n{service_rows}];"
    )
    .unwrap();
    writeln!(
        out,
        "pub(super) static RESOURCE_TYPES: [[u32; 2]; {types}] = [{type_rows}];"
    )
    .unwrap();
    writeln!(
        out,
        "pub(super) static ACTIONS: [[u32; 8]; {actions_total}] = [\n{action_rows}];"
    )
    .unwrap();
    writeln!(
        out,
        "pub(super) static ACTION_RESOURCES: [[u32; 4]; {resources}] = [{resource_rows}];"
    )
    .unwrap();
    writeln!(
        out,
        "pub(super) static LOWER_NAMES: &str = {lower_names:?};"
    )
    .unwrap();
    writeln!(
        out,
        "pub(super) static LOWER_ENDS: [u32; {actions_total}] = [{lower_ends}];"
    )
    .unwrap();
    Ok(out)
}
