//! The Markdown, HTML and SARIF reports of the demo account: snapshots, the
//! SARIF structure GitHub code scanning relies on, and the HTML's promises
//! (self-contained, no network, every input string escaped).

use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

use leastpriv::audit::{Audit, AuditOptions};
use leastpriv::ingest::snapshot::SnapshotPaths;
use leastpriv::report::{html, markdown, sarif};
use serde_json::Value;

/// 2026-11-01T00:00:00Z, as in the other end-to-end tests.
const NOW: i64 = 1793491200;

fn demo() -> &'static Audit {
    static AUDIT: OnceLock<Audit> = OnceLock::new();
    AUDIT.get_or_init(|| {
        let paths = SnapshotPaths::resolve(Some(Path::new("fixtures/demo")), &Default::default())
            .expect("the demo snapshot resolves");
        leastpriv::audit::run(
            &paths,
            &AuditOptions {
                now: Some(NOW),
                ..Default::default()
            },
        )
        .expect("the demo audits")
    })
}

#[test]
fn markdown_snapshot() {
    assert_snapshot!("demo_markdown", markdown::render(demo()));
}

#[test]
fn markdown_carries_what_a_reviewer_needs() {
    let md = markdown::render(demo());
    for needle in [
        "## Summary",
        "## Findings",
        "## Principals",
        "## Evidence and coverage",
        "## Reproduce",
        "```json",
        concat!("leastpriv ", env!("CARGO_PKG_VERSION")),
    ] {
        assert!(md.contains(needle), "markdown lacks `{needle}`");
    }
    for h in &demo().input_hashes {
        assert!(md.contains(&h.sha256), "markdown lacks the sha256 of {h:?}");
    }
    assert!(md.contains(demo().catalog.date()));
    // Findings most urgent first: the first finding is a critical one.
    let first = md.find("**CRITICAL**").expect("a critical finding");
    for s in ["**HIGH**", "**MEDIUM**", "**LOW**"] {
        let at = md.find(s).expect("every severity in the demo");
        assert!(first < at, "critical comes before {s}");
    }
}

#[test]
fn markdown_says_when_trails_are_assumed() {
    let mut a = demo().clone();
    a.trails = leastpriv::ingest::trails::TrailCoverage::assumed_management_only();
    assert!(markdown::render(&a).contains("Assumed management events only"));
}

#[test]
fn sarif_snapshot() {
    // With the IAM input's text, as `audit --format sarif` renders it:
    // results sit at their granting statements.
    let iam = std::fs::read_to_string(&demo().inputs.iam).expect("the demo's iam.json");
    let s = sarif::render(demo(), Some(&iam));
    assert!(s.len() < 200_000, "SARIF is {} bytes", s.len());
    assert_snapshot!("demo_sarif", s);
}

#[test]
fn sarif_structure_is_what_github_accepts() {
    let doc: Value = serde_json::from_str(&sarif::render(demo(), None)).expect("SARIF is JSON");
    assert_eq!(doc["$schema"], sarif::SCHEMA);
    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "leastpriv");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), leastpriv::rules::REGISTRY.len());
    let levels = ["error", "warning", "note", "none"];
    for r in rules {
        for f in ["id", "name"] {
            assert!(r[f].as_str().is_some_and(|s| !s.is_empty()), "{f} of {r}");
        }
        for f in ["shortDescription", "fullDescription", "help"] {
            assert!(
                r[f]["text"].as_str().is_some_and(|s| !s.is_empty()),
                "{f} of {r}"
            );
        }
        assert!(levels.contains(&r["defaultConfiguration"]["level"].as_str().unwrap_or("")));
        let sev = r["properties"]["security-severity"]
            .as_str()
            .expect("security-severity is a string");
        let sev: f64 = sev.parse().expect("security-severity parses as a number");
        assert!((0.0..=10.0).contains(&sev));
        assert_eq!(r["properties"]["tags"], serde_json::json!(["security"]));
    }
    let results = runs[0]["results"].as_array().expect("results");
    assert_eq!(results.len(), demo().findings.len());
    let mut fingerprints = HashSet::new();
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        let i = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[i]["id"], id, "ruleIndex points at its rule");
        assert!(levels.contains(&r["level"].as_str().unwrap_or("")));
        assert!(r["message"]["text"].as_str().is_some_and(|s| !s.is_empty()));
        let loc = &r["locations"][0];
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"],
            "fixtures/demo/iam.json"
        );
        assert_eq!(loc["physicalLocation"]["region"]["startLine"], 1);
        assert!(loc["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .is_some_and(|s| s.starts_with("arn:aws:iam::")));
        let fp = r["partialFingerprints"][sarif::FINGERPRINT_KEY]
            .as_str()
            .expect("fingerprint");
        assert_eq!(fp.len(), 64);
        fingerprints.insert(fp.to_string());
    }
    assert_eq!(
        fingerprints.len(),
        results.len(),
        "every finding has its own fingerprint"
    );
}

#[test]
fn sarif_fingerprints_are_stable_across_runs() {
    let a = sarif::render(demo(), None);
    let mut other = demo().clone();
    other.generated_at += 86_400;
    assert_eq!(a, sarif::render(&other, None));
}

#[test]
fn html_is_self_contained() {
    let h = html::render(demo());
    let lower = h.to_ascii_lowercase();
    assert!(!lower.contains("http://"), "no http:// URL");
    // Links a reader may follow (the Service Authorization Reference, the
    // write-ups of a technique) load nothing: every https URL is an <a href>.
    for (at, _) in lower.match_indices("https://") {
        assert!(
            lower[..at].ends_with("<a href=\""),
            "an https URL outside a link: {}",
            &h[at.saturating_sub(40)..(at + 60).min(h.len())]
        );
    }
    assert!(
        lower.contains(
            "<a href=\"https://docs.aws.amazon.com/service-authorization/latest/reference/list_"
        ),
        "actions link to the Service Authorization Reference"
    );
    assert!(!lower.contains("<script"), "no script at all");
    assert!(!lower.contains("<link"), "no linked resources");
    assert!(!lower.contains("url("), "no CSS url()");
    assert!(!lower.contains("@import"), "no CSS imports");
    assert!(!lower.contains("<img"), "no images");
    assert!(lower.contains("<svg"), "the inline chart");
    assert!(lower.starts_with("<!doctype html>"));
    // Written for eyes; the target directory may live outside the clone (CI).
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reports-demo.html");
    std::fs::write(&out, &h).expect("write reports-demo.html");
}

#[test]
fn html_escapes_every_input_string() {
    assert_eq!(
        html::escape("<script>alert(1)</script>"),
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    );
    let mut a = demo().clone();
    let p = &mut a.principals[0].verdicts.principal;
    p.name = "<script>alert(1)</script>".to_string();
    p.arn = "arn:aws:iam::111122223333:role/a&b".to_string();
    let h = html::render(&a);
    assert!(!h.contains("<script>alert(1)</script>"));
    assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(h.contains("role/a&amp;b"));
    assert!(!h.contains("role/a&b"));
}

#[test]
fn html_has_the_markdown_content() {
    let h = html::render(demo());
    for needle in [
        "Summary",
        "Findings",
        "Principals",
        "Evidence and coverage",
        "Reproduce",
    ] {
        assert!(
            h.contains(&format!(">{needle}</h2>")),
            "html lacks {needle}"
        );
    }
    for hash in &demo().input_hashes {
        assert!(h.contains(&hash.sha256));
    }
}
