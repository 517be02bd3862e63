//! Resource narrowing: from the ARNs a principal was seen using to the
//! patterns a right-sized statement names, never wider than today's grant.

use crate::catalog::wildcard_match_case_sensitive;
use crate::policy::arn_match::{pattern_covers, patterns_intersect};

/// More distinct observed ARNs than this are generalized to a common prefix.
pub const MAX_LITERAL_RESOURCES: usize = 5;

/// The resource element of a statement.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceSel {
    Resource(Vec<String>),
    NotResource(Vec<String>),
}

impl ResourceSel {
    /// Whether the element lets a statement apply to `arn`.
    pub fn matches(&self, arn: &str) -> bool {
        match self {
            ResourceSel::Resource(p) => p.iter().any(|p| wildcard_match_case_sensitive(p, arn)),
            ResourceSel::NotResource(x) => !x.iter().any(|x| wildcard_match_case_sensitive(x, arn)),
        }
    }

    /// Whether every ARN `pattern` can match is also matched by this element.
    pub fn covers(&self, pattern: &str) -> bool {
        match self {
            ResourceSel::Resource(p) => p.iter().any(|p| pattern_covers(p, pattern)),
            ResourceSel::NotResource(x) => !x.iter().any(|x| patterns_intersect(x, pattern)),
        }
    }

    /// Patterns for a human, `NotResource` ones marked.
    pub fn describe(&self) -> String {
        match self {
            ResourceSel::Resource(p) => p
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
            ResourceSel::NotResource(x) => format!(
                "all except {}",
                x.iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// `arn:partition:service:region:account:` of an ARN, or `None` when it is not one.
fn header(arn: &str) -> Option<(&str, &str)> {
    if !arn.starts_with("arn:") {
        return None;
    }
    let mut end = 0;
    for _ in 0..5 {
        end += arn[end..].find(':')? + 1;
    }
    Some(arn.split_at(end))
}

fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let n = a
        .char_indices()
        .zip(b.chars())
        .take_while(|((_, x), y)| x == y)
        .last()
        .map_or(0, |((i, c), _)| i + c.len_utf8());
    &a[..n]
}

/// Generalizes ARNs to patterns: ARNs that share partition, service, region
/// and account become their longest common prefix cut back to a `/` or `:`,
/// plus `*`; an ARN alone in its group stays literal. Every input ARN is
/// matched by one of the results.
pub fn generalize(arns: &[String]) -> Vec<String> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for a in arns {
        match header(a) {
            Some((h, rest)) => match groups.iter_mut().find(|(g, _)| *g == h) {
                Some((_, v)) => v.push(rest),
                None => groups.push((h, vec![rest])),
            },
            // Not an ARN: nothing to generalize.
            None => out.push(a.clone()),
        }
    }
    for (h, rests) in groups {
        if rests.len() == 1 {
            out.push(format!("{h}{}", rests[0]));
            continue;
        }
        let mut prefix = rests[0];
        for r in &rests[1..] {
            prefix = common_prefix(prefix, r);
        }
        let cut = prefix.rfind(['/', ':']).map_or(0, |i| i + 1);
        out.push(format!("{h}{}*", &prefix[..cut]));
    }
    out.sort();
    out.dedup();
    out
}

/// The resource element for ARNs observed under a granting element: the ARNs
/// themselves when few, else their generalization; but never a pattern the
/// grant does not cover (then the granting patterns that matched them).
pub fn narrow(observed: &[String], granted: &ResourceSel) -> ResourceSel {
    if observed.len() <= MAX_LITERAL_RESOURCES {
        let mut v = observed.to_vec();
        v.sort();
        v.dedup();
        return ResourceSel::Resource(v);
    }
    let general = generalize(observed);
    if general.iter().all(|g| granted.covers(g)) {
        return ResourceSel::Resource(general);
    }
    match granted {
        ResourceSel::Resource(pats) => ResourceSel::Resource(
            pats.iter()
                .filter(|p| observed.iter().any(|a| wildcard_match_case_sensitive(p, a)))
                .cloned()
                .collect(),
        ),
        not => not.clone(),
    }
}

/// The resource elements for summary patterns ([`crate::usage::ResourceSummary`]),
/// each standing for resources used: per granting element, in order, the
/// element to keep, if any. A pattern within a granting element is kept as
/// is under the first such; one that no element covers keeps today's
/// patterns that may apply to it (every resource it stands for was allowed
/// by one of them), or a `NotResource` element whole. Also returns the
/// patterns that no element grants any part of.
pub fn narrow_patterns(
    patterns: &[String],
    granted: &[&ResourceSel],
) -> (Vec<Option<ResourceSel>>, Vec<String>) {
    let n = granted.len();
    let mut picked: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut whole = vec![false; n];
    let mut unmatched = Vec::new();
    for p in patterns {
        if let Some(i) = granted.iter().position(|g| g.covers(p)) {
            picked[i].push(p.clone());
            continue;
        }
        let mut any = false;
        for (i, g) in granted.iter().enumerate() {
            match g {
                ResourceSel::Resource(pats) => {
                    for q in pats.iter().filter(|q| patterns_intersect(q, p)) {
                        picked[i].push(q.clone());
                        any = true;
                    }
                }
                ResourceSel::NotResource(x) => {
                    if !x.iter().any(|x| pattern_covers(x, p)) {
                        whole[i] = true;
                        any = true;
                    }
                }
            }
        }
        if !any {
            unmatched.push(p.clone());
        }
    }
    let out = granted
        .iter()
        .zip(picked)
        .zip(whole)
        .map(|((g, mut pats), whole)| {
            if whole {
                return Some((*g).clone());
            }
            if pats.is_empty() {
                return None;
            }
            pats.sort();
            pats.dedup();
            // A pattern within another one kept adds nothing.
            let all = pats.clone();
            pats.retain(|p| {
                !all.iter()
                    .any(|q| q != p && pattern_covers(q, p) && !pattern_covers(p, q))
            });
            Some(ResourceSel::Resource(pats))
        })
        .collect();
    (out, unmatched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn prefixes_cut_back_to_a_delimiter() {
        let arns = s(&[
            "arn:aws:s3:::bucket/customers/1001/a.json",
            "arn:aws:s3:::bucket/customers/1002/b.json",
            "arn:aws:s3:::bucket/customers/1003/c.json",
        ]);
        assert_eq!(generalize(&arns), ["arn:aws:s3:::bucket/customers/*"]);
    }

    #[test]
    fn different_accounts_and_regions_are_generalized_apart() {
        let arns = s(&[
            "arn:aws:ssm:us-east-1:1:parameter/prod/a",
            "arn:aws:ssm:us-east-1:1:parameter/prod/b",
            "arn:aws:ssm:eu-west-1:1:parameter/prod/a",
            "not-an-arn",
        ]);
        assert_eq!(
            generalize(&arns),
            [
                "arn:aws:ssm:eu-west-1:1:parameter/prod/a",
                "arn:aws:ssm:us-east-1:1:parameter/prod/*",
                "not-an-arn",
            ]
        );
    }

    #[test]
    fn no_common_resource_prefix_is_the_whole_service_scope() {
        let arns = s(&["arn:aws:s3:::alpha", "arn:aws:s3:::beta"]);
        assert_eq!(generalize(&arns), ["arn:aws:s3:::*"]);
    }

    #[test]
    fn few_resources_stay_literal() {
        let arns = s(&["arn:aws:s3:::b/x", "arn:aws:s3:::b/y"]);
        let g = ResourceSel::Resource(s(&["*"]));
        assert_eq!(narrow(&arns, &g), ResourceSel::Resource(arns.clone()));
    }

    #[test]
    fn many_resources_generalize_within_the_grant() {
        let arns: Vec<String> = (0..8)
            .map(|i| format!("arn:aws:s3:::b/customers/{i}/profile.json"))
            .collect();
        let g = ResourceSel::Resource(s(&["arn:aws:s3:::b", "arn:aws:s3:::b/*"]));
        assert_eq!(
            narrow(&arns, &g),
            ResourceSel::Resource(s(&["arn:aws:s3:::b/customers/*"]))
        );
    }

    #[test]
    fn a_generalization_wider_than_the_grant_falls_back_to_the_grant() {
        let arns: Vec<String> = (0..6).map(|i| format!("arn:aws:s3:::b{i}/k")).collect();
        // arn:aws:s3:::b* would do, but the cut at a delimiter gives arn:aws:s3:::*
        let g = ResourceSel::Resource(s(&["arn:aws:s3:::b*/k", "arn:aws:s3:::other/*"]));
        assert_eq!(
            narrow(&arns, &g),
            ResourceSel::Resource(s(&["arn:aws:s3:::b*/k"]))
        );
    }

    #[test]
    fn summary_patterns_stay_within_the_grant_or_keep_its_patterns() {
        let pats = s(&[
            "arn:aws:s3:::ci-artifacts/artifacts/builds/*",
            "arn:aws:s3:::ci-cache/deps.tar",
            "arn:aws:s3:::other/x",
        ]);
        let star = ResourceSel::Resource(s(&["*"]));
        let (out, none) = narrow_patterns(&pats, &[&star]);
        assert_eq!(out, [Some(ResourceSel::Resource(pats.clone()))]);
        assert!(none.is_empty());
        // A grant narrower than a prefix: its own pattern is kept.
        let narrow_grant = ResourceSel::Resource(s(&[
            "arn:aws:s3:::ci-artifacts/artifacts/builds/release-*",
            "arn:aws:s3:::ci-artifacts/artifacts/builds/main-*",
            "arn:aws:s3:::ci-cache/*",
            "arn:aws:s3:::unrelated/*",
        ]));
        let (out, none) = narrow_patterns(&pats, &[&narrow_grant]);
        assert_eq!(
            out,
            [Some(ResourceSel::Resource(s(&[
                "arn:aws:s3:::ci-artifacts/artifacts/builds/main-*",
                "arn:aws:s3:::ci-artifacts/artifacts/builds/release-*",
                "arn:aws:s3:::ci-cache/deps.tar",
            ])))]
        );
        assert_eq!(none, ["arn:aws:s3:::other/x"]);
        // NotResource that may apply: kept whole.
        let not = ResourceSel::NotResource(s(&["arn:aws:s3:::secret/*"]));
        let (out, _) = narrow_patterns(&s(&["arn:aws:s3:::*"]), &[&not]);
        assert_eq!(out, [Some(not.clone())]);
    }
}
