//! Resource patterns as IAM matches them, and the two set questions the grant
//! computation needs: can two patterns match a common ARN (intersection), and
//! does one pattern match every ARN the other does (coverage).
//!
//! Catalog ARN templates (`arn:${Partition}:s3:::${BucketName}`) are turned into
//! patterns whose variables cannot cross the characters AWS forbids in them, so
//! that `arn:aws:s3:::b/*` is not mistaken for a bucket.

/// One token of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `?`: exactly one character.
    One,
    /// `*`: any sequence.
    Star,
    /// A template variable that cannot contain `/` or `:` (bucket names, regions).
    Segment,
}

fn policy_tokens(pattern: &str) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(pattern.len());
    // Each run of wildcards is rewritten as its `?`s followed by at most one
    // `*` (`**` means `*`, `*?` means `?*`): runs of a thousand stars, or of
    // `*?*?...` (both written by the fuzzer), would otherwise make every
    // intersection that many times longer. While the run holds a star, it is
    // the last token.
    let mut run_has_star = false;
    for c in pattern.chars() {
        match c {
            '*' if run_has_star => {}
            '*' => {
                out.push(Tok::Star);
                run_has_star = true;
            }
            '?' if run_has_star => {
                out.pop();
                out.push(Tok::One);
                out.push(Tok::Star);
            }
            '?' => out.push(Tok::One),
            c => {
                out.push(Tok::Lit(c));
                run_has_star = false;
            }
        }
    }
    out
}

/// A policy resource pattern, tokenized once for many templates.
pub struct Pattern(Vec<Tok>);

impl Pattern {
    pub fn new(pattern: &str) -> Pattern {
        Pattern(policy_tokens(pattern))
    }

    /// Whether the pattern can match some ARN of a catalog template.
    pub fn meets_template(&self, template: &str) -> bool {
        intersects(&self.0, &template_tokens(template))
    }
}

/// A catalog ARN template as tokens: `${Partition}`, `${Region}`, `${Account}`
/// and bucket names are single segments; other variables match anything, and
/// so does a literal `*` (`arn:${Partition}:dms:${Region}:${Account}:endpoint:*`
/// names every endpoint, not one whose id is `*`).
fn template_tokens(template: &str) -> Vec<Tok> {
    fn lit(c: char) -> Tok {
        if c == '*' {
            Tok::Star
        } else {
            Tok::Lit(c)
        }
    }
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.extend(rest[..start].chars().map(lit));
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let var = &after[..end];
                let segment = matches!(var, "Partition" | "Region" | "Account")
                    || var.ends_with("BucketName");
                out.push(if segment { Tok::Segment } else { Tok::Star });
                rest = &after[end + 1..];
            }
            None => {
                out.extend(rest[start..].chars().map(lit));
                rest = "";
            }
        }
    }
    out.extend(rest.chars().map(lit));
    out
}

fn segment_char(c: char) -> bool {
    c != '/' && c != ':'
}

/// Whether the languages of two token strings intersect. Memoized over
/// positions, so it is O(len(a) * len(b)) whatever the wildcards.
fn intersects(a: &[Tok], b: &[Tok]) -> bool {
    let (n, m) = (a.len(), b.len());
    // reach[i][j]: a[i..] and b[j..] can match a common suffix string. One
    // flat table: this runs for every pattern and catalog template pair.
    let mut table = vec![false; (n + 1) * (m + 1)];
    let mut reach = Table {
        cells: &mut table,
        width: m + 1,
    };
    reach[n][m] = true;
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            if i == n && j == m {
                continue;
            }
            let ta = a.get(i).copied();
            let tb = b.get(j).copied();
            let mut ok = false;
            // A star (or segment) can match the empty string.
            if matches!(ta, Some(Tok::Star | Tok::Segment)) && reach[i + 1][j] {
                ok = true;
            }
            if !ok && matches!(tb, Some(Tok::Star | Tok::Segment)) && reach[i][j + 1] {
                ok = true;
            }
            if !ok {
                if let (Some(x), Some(y)) = (ta, tb) {
                    ok = match (x, y) {
                        // A star absorbs one character (or one char of the other's wildcard).
                        (Tok::Star, Tok::Lit(_) | Tok::One) => reach[i][j + 1],
                        (Tok::Lit(_) | Tok::One, Tok::Star) => reach[i + 1][j],
                        (Tok::Star, Tok::Star | Tok::Segment) => reach[i][j + 1] || reach[i + 1][j],
                        (Tok::Segment, Tok::Star) => reach[i][j + 1] || reach[i + 1][j],
                        (Tok::Segment, Tok::Lit(c)) => segment_char(c) && reach[i][j + 1],
                        (Tok::Lit(c), Tok::Segment) => segment_char(c) && reach[i + 1][j],
                        (Tok::Segment, Tok::One) => reach[i][j + 1],
                        (Tok::One, Tok::Segment) => reach[i + 1][j],
                        (Tok::Segment, Tok::Segment) => reach[i][j + 1] || reach[i + 1][j],
                        (Tok::Lit(c), Tok::Lit(d)) => c == d && reach[i + 1][j + 1],
                        (Tok::One, Tok::Lit(_) | Tok::One) | (Tok::Lit(_), Tok::One) => {
                            reach[i + 1][j + 1]
                        }
                    };
                }
            }
            reach[i][j] = ok;
        }
    }
    reach[0][0]
}

/// A `(n + 1) × (m + 1)` table in one allocation, indexed as `t[i][j]`.
struct Table<'a> {
    cells: &'a mut [bool],
    width: usize,
}

impl std::ops::Index<usize> for Table<'_> {
    type Output = [bool];
    fn index(&self, i: usize) -> &[bool] {
        &self.cells[i * self.width..(i + 1) * self.width]
    }
}

impl std::ops::IndexMut<usize> for Table<'_> {
    fn index_mut(&mut self, i: usize) -> &mut [bool] {
        &mut self.cells[i * self.width..(i + 1) * self.width]
    }
}

/// Whether a policy resource pattern can match some ARN of a catalog template.
pub fn pattern_meets_template(pattern: &str, template: &str) -> bool {
    pattern == "*" || intersects(&policy_tokens(pattern), &template_tokens(template))
}

/// Whether two policy resource patterns can match a common ARN.
pub fn patterns_intersect(a: &str, b: &str) -> bool {
    a == "*" || b == "*" || intersects(&policy_tokens(a), &policy_tokens(b))
}

/// Whether `outer` matches every ARN that `inner` matches. Sufficient, not
/// necessary: a wildcard in `inner` is only covered by a `*` in `outer` (a `?`
/// also covers a `?`). When it says no, the grant is kept and the Deny shown
/// as partial, which errs towards reporting more, never less.
pub fn pattern_covers(outer: &str, inner: &str) -> bool {
    if outer == "*" {
        return true;
    }
    let o: Vec<char> = outer.chars().collect();
    let i: Vec<char> = inner.chars().collect();
    let (n, m) = (o.len(), i.len());
    let mut reach = vec![vec![false; m + 1]; n + 1];
    reach[n][m] = true;
    for a in (0..n).rev() {
        reach[a][m] = o[a] == '*' && reach[a + 1][m];
    }
    for a in (0..n).rev() {
        for b in (0..m).rev() {
            reach[a][b] = match o[a] {
                '*' => reach[a + 1][b] || reach[a][b + 1],
                '?' => i[b] != '*' && reach[a + 1][b + 1],
                c => c == i[b] && i[b] != '*' && i[b] != '?' && reach[a + 1][b + 1],
            };
        }
    }
    reach[0][0]
}

/// Case-sensitive match of a policy pattern against a concrete ARN.
pub fn pattern_matches(pattern: &str, arn: &str) -> bool {
    crate::catalog::wildcard_match_case_sensitive(pattern, arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKET: &str = "arn:${Partition}:s3:::${BucketName}";
    const OBJECT: &str = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";

    #[test]
    fn bucket_vs_object_templates() {
        assert!(pattern_meets_template("arn:aws:s3:::b", BUCKET));
        assert!(!pattern_meets_template("arn:aws:s3:::b", OBJECT));
        assert!(pattern_meets_template("arn:aws:s3:::b/*", OBJECT));
        assert!(!pattern_meets_template("arn:aws:s3:::b/*", BUCKET));
        assert!(pattern_meets_template("arn:aws:s3:::b*", BUCKET));
        assert!(pattern_meets_template("arn:aws:s3:::*", OBJECT));
        assert!(pattern_meets_template("*", BUCKET));
        assert!(!pattern_meets_template(
            "arn:aws:ec2:*:*:instance/*",
            BUCKET
        ));
        assert!(pattern_meets_template(
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/*",
            "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}"
        ));
        // A literal `*` in a template stands for any id.
        assert!(pattern_meets_template(
            "arn:aws:dms:us-east-1:1:endpoint:ABC",
            "arn:${Partition}:dms:${Region}:${Account}:endpoint:*"
        ));
    }

    #[test]
    fn wildcard_runs_are_rewritten_as_their_ones_then_one_star() {
        assert_eq!(policy_tokens("a*?*?b"), policy_tokens("a??*b"));
        assert_eq!(policy_tokens("a***b"), policy_tokens("a*b"));
        assert_eq!(policy_tokens("?*?"), vec![Tok::One, Tok::One, Tok::Star]);
        assert_eq!(
            policy_tokens("a?b"),
            vec![Tok::Lit('a'), Tok::One, Tok::Lit('b')]
        );
        // The same language: at least two characters between a and b.
        for (p, arn, meets) in [
            ("arn:aws:s3:::a*?*?b", "arn:aws:s3:::${BucketName}", true),
            ("arn:aws:s3:::*?*?*?", "arn:aws:s3:::${BucketName}", true),
            ("arn:aws:s3:::x*?*?y/k", "arn:aws:s3:::${BucketName}", false),
        ] {
            assert_eq!(pattern_meets_template(p, arn), meets, "{p}");
        }
        assert!(patterns_intersect("a*?*?b", "axyb"));
        assert!(!patterns_intersect("a*?*?b", "axb"));
        assert!(pattern_covers("a*b", "a*?*?b"));
        assert!(!pattern_covers("a*?*?b", "a*b"));
    }

    #[test]
    fn intersections() {
        assert!(patterns_intersect("arn:aws:s3:::a*", "arn:aws:s3:::*b"));
        assert!(!patterns_intersect("arn:aws:s3:::a/x", "arn:aws:s3:::b/*"));
        assert!(patterns_intersect("a?c", "*c"));
    }

    #[test]
    fn coverage_is_sound() {
        assert!(pattern_covers("*", "anything*"));
        assert!(pattern_covers("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/*"));
        assert!(!pattern_covers("arn:aws:s3:::b/x*", "arn:aws:s3:::b/*"));
        assert!(!pattern_covers("a?c", "a*c"));
        assert!(pattern_covers("a?c", "a?c"));
        assert!(pattern_covers("a*", "a"));
        assert!(!pattern_covers("a", "a*"));
    }
}
