//! `ActionSet`: a set of catalog actions as a fixed-size bitset over `ActionId`s.
//!
//! Every set built from one catalog has the same size, so set algebra is a loop over `u64` words.
//! Bits past the catalog length are always zero; the derived `PartialEq` and `len` rely on it.

use super::{ActionId, Catalog};

/// A set of actions as a fixed-size bitset over ActionIds (len = catalog len). Compact and fast:
/// union/intersection/difference in place over u64 words.
///
/// Sets from different catalogs must not be mixed; doing so is a programming error.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ActionSet {
    words: Vec<u64>,
    /// Number of actions in the catalog (the number of meaningful bits).
    universe: usize,
}

const BITS: usize = u64::BITS as usize;

impl ActionSet {
    pub fn empty(cat: &Catalog) -> Self {
        let universe = cat.len();
        ActionSet {
            words: vec![0; universe.div_ceil(BITS)],
            universe,
        }
    }

    pub fn full(cat: &Catalog) -> Self {
        let mut set = ActionSet::empty(cat);
        set.words.fill(u64::MAX);
        set.clear_tail();
        set
    }

    /// Panics if `id` is not from this set's catalog.
    pub fn insert(&mut self, id: ActionId) {
        let (word, bit) = self.locate(id);
        self.words[word] |= bit;
    }

    /// Panics if `id` is not from this set's catalog.
    pub fn remove(&mut self, id: ActionId) {
        let (word, bit) = self.locate(id);
        self.words[word] &= !bit;
    }

    pub fn contains(&self, id: ActionId) -> bool {
        let index = id.0 as usize;
        index < self.universe && self.words[index / BITS] & (1 << (index % BITS)) != 0
    }

    pub fn union_with(&mut self, other: &ActionSet) {
        self.check_same_universe(other);
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    pub fn intersect_with(&mut self, other: &ActionSet) {
        self.check_same_universe(other);
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= b;
        }
    }

    /// Removes every action of `other` from `self`.
    /// `self |= a & b & c`, without building the intersection.
    pub fn union_with_all_of(&mut self, a: &ActionSet, b: &ActionSet, c: &ActionSet) {
        for (((w, x), y), z) in self
            .words
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

    pub fn subtract(&mut self, other: &ActionSet) {
        self.check_same_universe(other);
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= !b;
        }
    }

    /// Every catalog action not in `self` (what a `NotAction` grants).
    pub fn complement(&self) -> ActionSet {
        let mut set = ActionSet {
            words: self.words.iter().map(|w| !w).collect(),
            universe: self.universe,
        };
        set.clear_tail();
        set
    }

    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// The actions in ascending `ActionId` order.
    pub fn iter(&self) -> impl Iterator<Item = ActionId> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            let base = i * BITS;
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
        })
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
