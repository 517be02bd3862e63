//! The source layout: the library's top-level modules import each other
//! along the data flow only (records → mapped actions → activity → verdicts
//! → findings → recommendations → renderers), never in a cycle; and every
//! integration test file is a module of this one test binary.

use crate::common::repo;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// For each top-level module of the library (`src/*.rs`, `src/*/`), the
/// other top-level modules it names as `crate::module` or in a
/// `crate::{module, ...}` group, with the files that do. The binary
/// (`src/bin/`) is another crate and is left out.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<PathBuf>>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The text of a source file without its comments (`//` to the end of the
/// line, doc comments included), so that a module named in prose does not count.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segments of the paths that follow each `crate::`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        // `$crate::` is a macro's path to its own crate, not a module.
        if code[..at].ends_with('$') {
            continue;
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::b, c, d::{e, f}}`: the segments at depth one.
            let (mut depth, mut start) = (1, true);
            for (i, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => start = true,
                    c if start && !c.is_whitespace() => {
                        out.insert(ident(&group[i..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out
}

fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let top = |p: &Path| -> Option<String> {
        let rel = p.strip_prefix(src).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?;
        let name = first.strip_suffix(".rs").unwrap_or(first);
        (!matches!(name, "lib" | "main" | "bin")).then(|| name.to_string())
    };
    let modules: BTreeSet<String> = files.iter().filter_map(|p| top(p)).collect();
    let mut g = Graph::new();
    for p in &files {
        let Some(from) = top(p) else { continue };
        let text = std::fs::read_to_string(p).expect("a source file");
        let edges = g.entry(from.clone()).or_default();
        for to in crate_paths(&code(&text)) {
            if to != from && modules.contains(&to) {
                let rel = p.strip_prefix(repo()).unwrap_or(p).to_path_buf();
                edges.entry(to).or_default().insert(rel);
            }
        }
    }
    g
}

/// A cycle of the graph, as the modules along it (the first repeated last).
fn cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit<'a>(
        g: &'a Graph,
        m: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|x| *x == m) {
            let mut c: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
            c.push(m.to_string());
            return Some(c);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m);
        for next in g.get(m).into_iter().flat_map(|e| e.keys()) {
            if let Some(c) = visit(g, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m);
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|m| visit(g, m, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_import_each_other_in_no_cycle() {
    let g = graph(&repo().join("src"));
    // The scan sees the pipeline's stages and their imports.
    for (from, to) in [
        ("rules", "verdict"),
        ("verdict", "usage"),
        ("report", "audit"),
    ] {
        assert!(
            g.get(from).is_some_and(|e| e.contains_key(to)),
            "`{from}` should import `{to}`: {g:#?}"
        );
    }
    if let Some(c) = cycle(&g) {
        let steps: Vec<String> = c
            .windows(2)
            .map(|w| {
                let files: Vec<String> = g[&w[0]][&w[1]]
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                format!("  {} -> {} in {}", w[0], w[1], files.join(", "))
            })
            .collect();
        panic!(
            "top-level modules import each other in a cycle: {}\n{}\n\
             move what both need into the earlier stage (or a leaf like `util`)",
            c.join(" -> "),
            steps.join("\n")
        );
    }
}

#[test]
fn the_scan_reads_paths_groups_and_skips_comments() {
    let text = "use crate::{catalog::Catalog, usage::{a, b}, model};\n\
                // crate::report is only mentioned\n\
                let x = crate::verdict::f(); $crate::ignored";
    let found = crate_paths(&code(text));
    let want: BTreeSet<String> = ["catalog", "usage", "model", "verdict"]
        .map(String::from)
        .into();
    assert_eq!(found, want);
    let mut g = Graph::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        g.entry(a.into()).or_default().entry(b.into()).or_default();
    }
    assert_eq!(
        cycle(&g),
        Some(["a", "b", "c", "a"].map(String::from).to_vec())
    );
    g.get_mut("c").map(|e| e.remove("a"));
    assert_eq!(cycle(&g), None);
}

/// A new test file is a module of this binary, not forgotten beside it, and
/// not a test binary of its own.
#[test]
fn every_test_file_is_a_module_of_the_one_test_binary() {
    let dir = repo().join("tests/integration");
    let main = std::fs::read_to_string(dir.join("main.rs")).expect("main.rs");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    for f in files {
        let name = f.file_stem().and_then(|s| s.to_str()).expect("a name");
        if name != "main" {
            assert!(
                main.contains(&format!("\nmod {name};\n")),
                "`{}` is not a module of tests/integration/main.rs",
                f.display()
            );
        }
    }
    let top_level: Vec<PathBuf> = std::fs::read_dir(repo().join("tests"))
        .expect("tests/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    assert!(
        top_level.is_empty(),
        "{top_level:?}: integration tests go in tests/integration/ (Cargo.toml has autotests = false)"
    );
}
