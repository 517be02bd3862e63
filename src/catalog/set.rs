//! `ActionSet`: a set of catalog actions as a fixed-size bitset over `ActionId`s.
//!
//! Every set built from one catalog has the same size, so set algebra is a loop over `u64` words.
//! Bits past the catalog length are always zero; the derived `PartialEq` and `len` rely on it.

use super::{ActionId, Catalog};

/// A set of actions as a fixed-size bitset over ActionIds (len = catalog len). Compact and fast:
/// union/intersection/difference in place over u64 words.
///
/// An empty set holds no words at all (`words` is empty, meaning all zero):
/// most sets of a principal (denied, outside the boundary, conditional) are
/// empty, and 10,000 principals times a dozen 2.7 KB bitsets was most of the
/// audit's memory.
///
/// Sets from different catalogs must not be mixed; doing so is a programming error.
#[derive(Clone, Debug)]
pub struct ActionSet {
    /// Either empty (no action) or exactly `universe.div_ceil(64)` words.
    words: Vec<u64>,
    /// Number of actions in the catalog (the number of meaningful bits).
    universe: usize,
}

const BITS: usize = u64::BITS as usize;

/// The ids whose bits are set in `word`, the `index`-th word of a set.
fn ids_of_word(index: usize, word: u64) -> impl Iterator<Item = ActionId> {
    let base = index * BITS;
    let mut rest = word;
    std::iter::from_fn(move || {
        if rest == 0 {
            return None;
        }
        let bit = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        // Ids come from a catalog whose length fits in u32, so this cannot truncate.
        Some(ActionId((base + bit) as u32))
    })
}

impl PartialEq for ActionSet {
    fn eq(&self, other: &Self) -> bool {
        self.universe == other.universe
            && match (self.words.is_empty(), other.words.is_empty()) {
                (true, true) => true,
                (true, false) => other.is_empty(),
                (false, true) => self.is_empty(),
                (false, false) => self.words == other.words,
            }
    }
}

impl Eq for ActionSet {}

impl ActionSet {
    pub fn empty(cat: &Catalog) -> Self {
        ActionSet {
            words: Vec::new(),
            universe: cat.len(),
        }
    }

    pub fn full(cat: &Catalog) -> Self {
        let universe = cat.len();
        let mut set = ActionSet {
            words: vec![u64::MAX; universe.div_ceil(BITS)],
            universe,
        };
        set.clear_tail();
        set
    }

    /// The words, allocated (all zero) if the set had none.
    fn dense(&mut self) -> &mut Vec<u64> {
        if self.words.is_empty() {
            self.words = vec![0; self.universe.div_ceil(BITS)];
        }
        &mut self.words
    }

    /// Panics if `id` is not from this set's catalog.
    pub fn insert(&mut self, id: ActionId) {
        let (word, bit) = self.locate(id);
        self.dense()[word] |= bit;
    }

    /// Panics if `id` is not from this set's catalog.
    pub fn remove(&mut self, id: ActionId) {
        let (word, bit) = self.locate(id);
        if let Some(w) = self.words.get_mut(word) {
            *w &= !bit;
        }
    }

    pub fn contains(&self, id: ActionId) -> bool {
        let index = id.0 as usize;
        index < self.universe
            && self
                .words
                .get(index / BITS)
                .is_some_and(|w| w & (1 << (index % BITS)) != 0)
    }

    pub fn union_with(&mut self, other: &ActionSet) {
        self.check_same_universe(other);
        if other.words.is_empty() {
            return;
        }
        if self.words.is_empty() {
            self.words.clone_from(&other.words);
            return;
        }
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    pub fn intersect_with(&mut self, other: &ActionSet) {
        self.check_same_universe(other);
        if other.words.is_empty() {
            self.words = Vec::new();
            return;
        }
        let mut any = 0;
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= b;
            any |= *a;
        }
        self.release_if_empty(any);
    }

    /// Frees the words of a set that an operation emptied: a principal's
    /// conditional or partly denied actions are usually none, and each empty
    /// set kept its 2.7 KB (80 MB over 10,000 principals, heaptrack).
    fn release_if_empty(&mut self, any_bit: u64) {
        if any_bit == 0 && !self.words.is_empty() {
            self.words = Vec::new();
        }
    }

    /// `self |= a & b & c`, without building the intersection.
    pub fn union_with_all_of(&mut self, a: &ActionSet, b: &ActionSet, c: &ActionSet) {
        if a.words.is_empty() || b.words.is_empty() || c.words.is_empty() {
            return;
        }
        for (((w, x), y), z) in self
            .dense()
            .iter_mut()
            .zip(&a.words)
            .zip(&b.words)
            .zip(&c.words)
        {
            *w |= x & y & z;
        }
    }

    /// Whether the two sets share an action (without building the intersection).
    pub fn intersects(&self, other: &ActionSet) -> bool {
        self.words.iter().zip(&other.words).any(|(a, b)| a & b != 0)
    }

    /// Removes every action of `other` from `self`.
    pub fn subtract(&mut self, other: &ActionSet) {
        self.check_same_universe(other);
        let mut any = 0;
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= !b;
            any |= *a;
        }
        if !other.words.is_empty() {
            self.release_if_empty(any);
        }
    }

    /// Every catalog action not in `self` (what a `NotAction` grants).
    pub fn complement(&self) -> ActionSet {
        if self.words.is_empty() {
            return ActionSet {
                words: vec![u64::MAX; self.universe.div_ceil(BITS)],
                universe: self.universe,
            }
            .tail_cleared();
        }
        ActionSet {
            words: self.words.iter().map(|w| !w).collect(),
            universe: self.universe,
        }
        .tail_cleared()
    }

    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The actions in both sets, ascending, without building the
    /// intersection.
    pub fn iter_and<'s>(&'s self, other: &'s ActionSet) -> impl Iterator<Item = ActionId> + 's {
        self.check_same_universe(other);
        self.words
            .iter()
            .zip(&other.words)
            .enumerate()
            .flat_map(|(i, (&a, &b))| ids_of_word(i, a & b))
    }

    /// `|self ∩ other|`, without building the intersection.
    pub fn intersection_len(&self, other: &ActionSet) -> usize {
        self.check_same_universe(other);
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }

    /// How many actions of the set have ids in `range` (a service's ids are
    /// one range): a few words per service instead of a look-up per action.
    pub fn count_in(&self, range: std::ops::Range<u32>) -> usize {
        let (start, end) = (
            range.start as usize,
            (range.end as usize).min(self.universe),
        );
        if start >= end || self.words.is_empty() {
            return 0;
        }
        let (first, last) = (start / BITS, (end - 1) / BITS);
        (first..=last)
            .map(|i| {
                let mut w = self.words[i];
                if i == first {
                    w &= u64::MAX << (start % BITS);
                }
                if i == last && end % BITS != 0 {
                    w &= u64::MAX >> (BITS - end % BITS);
                }
                w.count_ones() as usize
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// The actions in ascending `ActionId` order.
    pub fn iter(&self) -> impl Iterator<Item = ActionId> + '_ {
        self.words
            .iter()
            .enumerate()
            .flat_map(|(i, &word)| ids_of_word(i, word))
    }

    fn locate(&self, id: ActionId) -> (usize, u64) {
        let index = id.0 as usize;
        assert!(
            index < self.universe,
            "action id {index} out of range for a catalog of {} actions",
            self.universe
        );
        (index / BITS, 1 << (index % BITS))
    }

    fn tail_cleared(mut self) -> Self {
        self.clear_tail();
        self
    }

    fn clear_tail(&mut self) {
        let used = self.universe % BITS;
        if used != 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= (1u64 << used) - 1;
            }
        }
    }

    fn check_same_universe(&self, other: &ActionSet) {
        debug_assert_eq!(
            self.universe, other.universe,
            "action sets from different catalogs"
        );
    }
}

impl Extend<ActionId> for ActionSet {
    fn extend<I: IntoIterator<Item = ActionId>>(&mut self, iter: I) {
        for id in iter {
            self.insert(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(cat: &Catalog, name: &str) -> ActionId {
        cat.lookup(name)
            .unwrap_or_else(|| panic!("{name} not in catalog"))
    }

    #[test]
    fn empty_sets_hold_no_words_and_behave_as_empty() {
        let cat = Catalog::embedded();
        let s3 = cat.expand("s3:*");
        let empty = ActionSet::empty(cat);
        assert!(empty.words.is_empty());
        // An emptied dense set equals a set that never had words.
        // A set emptied by subtraction or intersection frees its words.
        let mut drained = s3.clone();
        drained.subtract(&s3);
        assert!(drained.words.is_empty());
        assert_eq!(drained, empty);
        let mut disjoint = s3.clone();
        disjoint.intersect_with(&cat.expand("ec2:*"));
        assert!(disjoint.words.is_empty());
        // One emptied by removal keeps them, and still equals the empty set.
        let mut removed = ActionSet::empty(cat);
        let first = s3.iter().next().unwrap();
        removed.insert(first);
        removed.remove(first);
        assert!(!removed.words.is_empty());
        assert_eq!(removed, empty);
        assert_eq!(empty, removed);
        let mut u = empty.clone();
        u.union_with(&s3);
        assert_eq!(u, s3);
        let mut i = s3.clone();
        i.intersect_with(&empty);
        assert_eq!(i, empty);
        let mut d = s3.clone();
        d.subtract(&empty);
        assert_eq!(d, s3);
        let mut e = empty.clone();
        e.subtract(&s3);
        e.remove(s3.iter().next().unwrap());
        assert_eq!(e, empty);
        assert!(!empty.intersects(&s3));
        assert_eq!(empty.complement(), ActionSet::full(cat));
        assert_eq!(empty.complement().complement(), empty);
        let mut w = empty.clone();
        w.union_with_all_of(&s3, &s3, &s3);
        assert_eq!(w, s3);
        let mut w2 = empty.clone();
        w2.union_with_all_of(&s3, &empty, &s3);
        assert_eq!(w2, empty);
        assert_eq!(empty.iter().count(), 0);
        assert_eq!(empty.len(), 0);
    }

    #[test]
    fn counts_match_a_count_of_each_action() {
        let cat = Catalog::embedded();
        let mut set = cat.expand("s3:Get*");
        set.union_with(&cat.expand("ec2:Describe*"));
        set.insert(id(cat, "iam:PassRole"));
        let last = ActionId(cat.len() as u32 - 1);
        set.insert(last);
        let other = cat.expand("*:Get*");
        let naive = set.iter().filter(|a| other.contains(*a)).count();
        assert_eq!(set.intersection_len(&other), naive);
        let both: Vec<ActionId> = set.iter().filter(|a| other.contains(*a)).collect();
        assert_eq!(set.iter_and(&other).collect::<Vec<_>>(), both);
        assert_eq!(other.iter_and(&set).collect::<Vec<_>>(), both);
        assert_eq!(set.iter_and(&ActionSet::empty(cat)).count(), 0);
        assert_eq!(ActionSet::empty(cat).intersection_len(&other), 0);
        assert_eq!(set.intersection_len(&ActionSet::empty(cat)), 0);
        for svc in cat.services() {
            let naive = svc.action_ids().filter(|a| set.contains(*a)).count();
            assert_eq!(set.count_in(svc.actions.clone()), naive, "{}", svc.prefix);
        }
        // Ranges that start or end inside a word, or are empty.
        for (a, b) in [(0, 1), (3, 64), (63, 65), (64, 128), (5, 5), (10, 3)] {
            let naive = (a..b).filter(|&i| set.contains(ActionId(i))).count();
            assert_eq!(set.count_in(a..b), naive, "{a}..{b}");
        }
        assert_eq!(set.count_in(0..cat.len() as u32), set.len());
        assert_eq!(set.count_in(last.0..last.0 + 1), 1);
        assert_eq!(ActionSet::empty(cat).count_in(0..100), 0);
    }

    #[test]
    fn insert_remove_contains() {
        let cat = Catalog::embedded();
        let get = id(cat, "s3:GetObject");
        let put = id(cat, "s3:PutObject");
        let mut set = ActionSet::empty(cat);
        assert!(set.is_empty());
        set.insert(get);
        set.insert(get);
        assert!(set.contains(get));
        assert!(!set.contains(put));
        assert_eq!(set.len(), 1);
        set.remove(get);
        assert!(set.is_empty());
        assert!(!set.contains(ActionId(u32::MAX)));
    }

    #[test]
    fn full_and_complement() {
        let cat = Catalog::embedded();
        let full = ActionSet::full(cat);
        assert_eq!(full.len(), cat.len());
        assert_eq!(full.iter().count(), cat.len());
        assert_eq!(full.complement(), ActionSet::empty(cat));
        assert_eq!(ActionSet::empty(cat).complement(), full);

        let mut s3 = cat.expand("s3:*");
        let not_s3 = s3.complement();
        assert_eq!(s3.len() + not_s3.len(), cat.len());
        assert!(!not_s3.contains(id(cat, "s3:GetObject")));
        assert!(not_s3.contains(id(cat, "iam:PassRole")));
        s3.union_with(&not_s3);
        assert_eq!(s3, full);
    }

    #[test]
    fn union_intersection_difference() {
        let cat = Catalog::embedded();
        let get = cat.expand("s3:Get*");
        let object = cat.expand("s3:*Object");

        let mut both = get.clone();
        both.intersect_with(&object);
        assert!(both.contains(id(cat, "s3:GetObject")));
        assert!(!both.contains(id(cat, "s3:PutObject")));
        assert!(!both.contains(id(cat, "s3:GetBucketPolicy")));

        let mut either = get.clone();
        either.union_with(&object);
        assert!(either.contains(id(cat, "s3:PutObject")));
        assert!(either.contains(id(cat, "s3:GetBucketPolicy")));
        assert_eq!(either.len(), get.len() + object.len() - both.len());

        let mut only_get = get.clone();
        only_get.subtract(&object);
        assert!(!only_get.contains(id(cat, "s3:GetObject")));
        assert!(only_get.contains(id(cat, "s3:GetBucketPolicy")));
        assert_eq!(only_get.len(), get.len() - both.len());
    }

    #[test]
    fn iter_is_ascending_and_matches_contents() {
        let cat = Catalog::embedded();
        let set = cat.expand("*:Get*");
        let ids: Vec<ActionId> = set.iter().collect();
        assert_eq!(ids.len(), set.len());
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|&i| set.contains(i)));

        let mut rebuilt = ActionSet::empty(cat);
        rebuilt.extend(ids);
        assert_eq!(rebuilt, set);
    }
}
