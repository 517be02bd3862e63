//! What the merge property tests share: a generator drawn from the proptest
//! seed (which file a call goes to, which two partial results merge next)
//! and a random merge tree, so that "merged in any order gives one pass's
//! result" is checked the same way for every mergeable structure.

/// xorshift64 from `seed`: cheap, deterministic for a seed, never stuck at 0.
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// Merges `parts` two random ones at a time until one is left (as files
/// read by several threads meet in any order).
pub(crate) fn merge_randomly<T>(
    mut parts: Vec<T>,
    next: &mut impl FnMut() -> u64,
    merge: impl Fn(&mut T, T),
) -> T {
    assert!(!parts.is_empty(), "nothing to merge");
    while parts.len() > 1 {
        let i = (next() % parts.len() as u64) as usize;
        let a = parts.swap_remove(i);
        let j = (next() % parts.len() as u64) as usize;
        merge(&mut parts[j], a);
    }
    parts.pop().expect("one part left")
}
