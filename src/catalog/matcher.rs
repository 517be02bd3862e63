//! IAM wildcard matching: `*` matches any sequence (including none), `?` exactly one character.
//!
//! Used for action patterns (case-insensitive) and resource ARNs (case-sensitive). Knows nothing
//! about the catalog or about ARN structure.

/// Case-insensitive IAM wildcard match: `*` any sequence (incl. empty), `?` exactly one char.
/// Iterative (no exponential backtracking).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        glob(pattern.as_bytes(), text.as_bytes(), |p, t| {
            p.eq_ignore_ascii_case(&t)
        })
    } else {
        // Lowercasing the whole strings (rather than comparing char by char) keeps this in step
        // with how the catalog lowercases names for `expand`, including characters whose
        // lowercase form is longer than one char.
        let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
        let text: Vec<char> = text.to_lowercase().chars().collect();
        glob(&pattern, &text, |p, t| p == t)
    }
}

/// Same, case-sensitive (IAM resource ARNs are case-sensitive).
pub fn wildcard_match_case_sensitive(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        glob(pattern.as_bytes(), text.as_bytes(), |p, t| p == t)
    } else {
        // `?` stands for one character, not one byte, so non-ASCII input is compared by char.
        let pattern: Vec<char> = pattern.chars().collect();
        let text: Vec<char> = text.chars().collect();
        glob(&pattern, &text, |p, t| p == t)
    }
}

/// Whether `s` contains an IAM wildcard character.
pub(crate) fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// A wildcard symbol, so that `glob` can run over bytes and chars alike.
trait Symbol: Copy {
    fn is_star(self) -> bool;
    fn is_question(self) -> bool;
}

impl Symbol for u8 {
    fn is_star(self) -> bool {
        self == b'*'
    }
    fn is_question(self) -> bool {
        self == b'?'
    }
}

impl Symbol for char {
    fn is_star(self) -> bool {
        self == '*'
    }
    fn is_question(self) -> bool {
        self == '?'
    }
}

/// Greedy matching that remembers only the most recent `*`: when a later literal fails, that star
/// absorbs one more symbol and matching resumes. Earlier stars never need revisiting, because the
/// most recent star can absorb anything they could, so the worst case is O(pattern * text).
fn glob<T: Symbol>(pattern: &[T], text: &[T], eq: impl Fn(T, T) -> bool) -> bool {
    let (mut p, mut t) = (0, 0);
    // (pattern index after the star, text index the star's match ends at)
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(&c) if c.is_star() => {
                p += 1;
                backtrack = Some((p, t));
            }
            Some(&c) if c.is_question() || eq(c, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star_p, star_t)) => {
                    p = star_p;
                    t = star_t + 1;
                    backtrack = Some((star_p, t));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| c.is_star())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_pattern_and_text() {
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "a"));
        assert!(!wildcard_match("a", ""));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("**", ""));
        assert!(!wildcard_match("?", ""));
    }

    #[test]
    fn star_matches_any_sequence() {
        assert!(wildcard_match("*", "s3:GetObject"));
        assert!(wildcard_match("**", "s3:GetObject"));
        assert!(wildcard_match("s3:*", "s3:GetObject"));
        assert!(wildcard_match("s3:Get*", "s3:Get"));
        assert!(wildcard_match("*Object", "s3:GetObject"));
        assert!(wildcard_match("s3:*Obj*ct", "s3:GetObject"));
        assert!(wildcard_match("s3:**Object", "s3:GetObject"));
        assert!(wildcard_match("*:Get*", "ec2:GetConsoleOutput"));
        assert!(!wildcard_match("s3:Get*", "s3:PutObject"));
        assert!(!wildcard_match("*Objects", "s3:GetObject"));
        // Needs the star to give back what it first swallowed.
        assert!(wildcard_match("*ab", "aaab"));
        assert!(wildcard_match("a*b*c", "axxbyybzc"));
        assert!(!wildcard_match("a*b*c", "axxbyybz"));
    }

    #[test]
    fn question_matches_exactly_one() {
        assert!(wildcard_match("s3:?etObject", "s3:GetObject"));
        assert!(wildcard_match("s3:GetObjec?", "s3:GetObject"));
        assert!(!wildcard_match("s3:GetObject?", "s3:GetObject"));
        assert!(!wildcard_match("s3:?GetObject", "s3:GetObject"));
        assert!(wildcard_match("?*", "x"));
        assert!(!wildcard_match("?*", ""));
        assert!(wildcard_match("*?", "xy"));
        // One char, not one byte.
        assert!(wildcard_match_case_sensitive("a?c", "aéc"));
        assert!(wildcard_match("A?C", "aéc"));
    }

    #[test]
    fn case_handling() {
        assert!(wildcard_match("S3:GETOBJECT", "s3:GetObject"));
        assert!(wildcard_match("s3:get*", "S3:GetObject"));
        assert!(wildcard_match("É*", "éa"));
        assert!(!wildcard_match_case_sensitive(
            "S3:GETOBJECT",
            "s3:GetObject"
        ));
        assert!(wildcard_match_case_sensitive(
            "arn:aws:s3:::Bucket/*",
            "arn:aws:s3:::Bucket/key"
        ));
        assert!(!wildcard_match_case_sensitive(
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::Bucket/key"
        ));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let text = "a".repeat(10_000);
        let pattern = format!("{}b", "*a".repeat(50));
        assert!(!wildcard_match(&pattern, &text));
    }

    #[test]
    fn wildcard_detection() {
        assert!(has_wildcard("s3:Get*"));
        assert!(has_wildcard("s?"));
        assert!(!has_wildcard("s3"));
    }
}
