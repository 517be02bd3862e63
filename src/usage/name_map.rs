//! [`NameMap`]: values by name, sorted, for the per-identity maps of the
//! activity (session names, channels, source identities...), which hold one
//! or two entries for most of an organization's hundred thousand
//! identities and many thousands for a few (a Lambda role's session names).
//!
//! A data structure only: it knows nothing of what the names are.

use std::collections::BTreeMap;

/// Entries kept in one sorted block before the map becomes a B-tree: each
/// new name moves the block (a reallocation), which is cheap while it is
/// small and quadratic past that.
const SMALL: usize = 32;

/// Values by name, iterated by name. Up to [`SMALL`] entries are one block
/// sized exactly (24 bytes an entry for counts), where a `BTreeMap<String,
/// u64>` allocated a node of eleven slots (about 400 bytes) for the first
/// entry; past that, a `BTreeMap`, so that adding stays logarithmic. Reads
/// as a `BTreeMap` does (`get`, `iter`, `keys`, `values`, `len`), and is
/// serialized as one (a JSON object by name).
#[derive(Clone)]
pub struct NameMap<V>(Repr<V>);

#[derive(Clone)]
enum Repr<V> {
    Small(Box<[(Box<str>, V)]>),
    /// Boxed: the map stays two words, as most maps are small or empty.
    #[allow(clippy::box_collection)]
    Large(Box<BTreeMap<Box<str>, V>>),
}

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        NameMap(Repr::Small(Box::default()))
    }
}

impl<V> NameMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Small(s) => s.len(),
            Repr::Large(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, name: &str) -> Option<&V> {
        match &self.0 {
            Repr::Small(s) => {
                let i = s.binary_search_by(|(k, _)| (**k).cmp(name)).ok()?;
                Some(&s[i].1)
            }
            Repr::Large(m) => m.get(name),
        }
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut V> {
        match &mut self.0 {
            Repr::Small(s) => {
                let i = s.binary_search_by(|(k, _)| (**k).cmp(name)).ok()?;
                Some(&mut s[i].1)
            }
            Repr::Large(m) => m.get_mut(name),
        }
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value of `name`, added as `make()` the first time: the name is
    /// allocated only then.
    pub fn get_or_insert_with(&mut self, name: &str, make: impl FnOnce() -> V) -> &mut V {
        let find = |s: &[(Box<str>, V)]| s.binary_search_by(|(k, _)| (**k).cmp(name));
        if let Repr::Small(s) = &mut self.0 {
            if s.len() >= SMALL && find(s).is_err() {
                let all = std::mem::take(s).into_vec().into_iter().collect();
                self.0 = Repr::Large(Box::new(all));
            }
        }
        match &mut self.0 {
            Repr::Small(s) => {
                let i = match find(s) {
                    Ok(i) => i,
                    Err(i) => {
                        let mut v = std::mem::take(s).into_vec();
                        v.reserve_exact(1);
                        v.insert(i, (name.into(), make()));
                        *s = v.into_boxed_slice();
                        i
                    }
                };
                &mut s[i].1
            }
            Repr::Large(m) => {
                if !m.contains_key(name) {
                    m.insert(name.into(), make());
                }
                m.get_mut(name).expect("inserted above")
            }
        }
    }

    /// Sets the value of `name`, returning the one it replaces (as
    /// `BTreeMap::insert`).
    pub fn insert(&mut self, name: String, value: V) -> Option<V> {
        self.set(&name, value)
    }

    fn set(&mut self, name: &str, value: V) -> Option<V> {
        let mut value = Some(value);
        let slot = self.get_or_insert_with(name, || value.take().expect("once"));
        value.map(|v| std::mem::replace(slot, v))
    }

    /// Adds the other map's entries, moving them: `both` combines the
    /// values of a name in both.
    pub fn merge(&mut self, other: NameMap<V>, mut both: impl FnMut(&mut V, V)) {
        if self.is_empty() {
            *self = other;
            return;
        }
        for (k, v) in other {
            match self.get_mut(&k) {
                Some(mine) => both(mine, v),
                None => {
                    // The name moves in as is (no copy) when it is new.
                    let mut v = Some(v);
                    self.get_or_insert_with(&k, || v.take().expect("new name"));
                }
            }
        }
    }

    /// The names and values, by name.
    pub fn iter(&self) -> Iter<'_, V> {
        match &self.0 {
            Repr::Small(s) => Iter::Small(s.iter()),
            Repr::Large(m) => Iter::Large(m.iter()),
        }
    }

    /// The names, sorted.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Box<str>> + ExactSizeIterator + Clone {
        self.iter().map(|(k, _)| k)
    }

    /// The values, by name.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.iter().map(|(_, v)| v)
    }

    /// A copy as a `BTreeMap` with owned names, for the report and store
    /// types.
    pub fn to_btree(&self) -> BTreeMap<String, V>
    where
        V: Clone,
    {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
}

impl NameMap<u64> {
    /// Adds `n` to the count of `name`, allocating the name only the first
    /// time.
    pub fn add(&mut self, name: &str, n: u64) {
        *self.get_or_insert_with(name, || 0) += n;
    }

    /// Adds the other counts.
    pub fn add_all(&mut self, other: NameMap<u64>) {
        self.merge(other, |a, b| *a += b);
    }
}

/// The entries of a [`NameMap`], by name.
pub enum Iter<'a, V> {
    Small(std::slice::Iter<'a, (Box<str>, V)>),
    Large(std::collections::btree_map::Iter<'a, Box<str>, V>),
}

impl<V> Clone for Iter<'_, V> {
    fn clone(&self) -> Self {
        match self {
            Iter::Small(i) => Iter::Small(i.clone()),
            Iter::Large(i) => Iter::Large(i.clone()),
        }
    }
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a Box<str>, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(i) => i.next().map(|(k, v)| (k, v)),
            Iter::Large(i) => i.next(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Small(i) => i.size_hint(),
            Iter::Large(i) => i.size_hint(),
        }
    }
}

impl<V> DoubleEndedIterator for Iter<'_, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(i) => i.next_back().map(|(k, v)| (k, v)),
            Iter::Large(i) => i.next_back(),
        }
    }
}

impl<V> ExactSizeIterator for Iter<'_, V> {}

impl<'a, V> IntoIterator for &'a NameMap<V> {
    type Item = (&'a Box<str>, &'a V);
    type IntoIter = Iter<'a, V>;
    fn into_iter(self) -> Iter<'a, V> {
        self.iter()
    }
}

/// The entries of a [`NameMap`], moved out, by name.
pub enum IntoIter<V> {
    Small(std::vec::IntoIter<(Box<str>, V)>),
    Large(std::collections::btree_map::IntoIter<Box<str>, V>),
}

impl<V> Iterator for IntoIter<V> {
    type Item = (Box<str>, V);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            IntoIter::Small(i) => i.next(),
            IntoIter::Large(i) => i.next(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            IntoIter::Small(i) => i.size_hint(),
            IntoIter::Large(i) => i.size_hint(),
        }
    }
}

impl<V> ExactSizeIterator for IntoIter<V> {}

impl<V> IntoIterator for NameMap<V> {
    type Item = (Box<str>, V);
    type IntoIter = IntoIter<V>;
    fn into_iter(self) -> IntoIter<V> {
        match self.0 {
            Repr::Small(s) => IntoIter::Small(s.into_vec().into_iter()),
            Repr::Large(m) => IntoIter::Large(m.into_iter()),
        }
    }
}

/// As `BTreeMap::from_iter`: a name given twice keeps its last value.
impl<K: AsRef<str>, V> FromIterator<(K, V)> for NameMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        let mut m = NameMap::new();
        for (k, v) in items {
            m.set(k.as_ref(), v);
        }
        m
    }
}

impl<V: PartialEq> PartialEq for NameMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<V: Eq> Eq for NameMap<V> {}

impl<V: std::fmt::Debug> std::fmt::Debug for NameMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A JSON object by name: what the `BTreeMap<String, _>` it replaced wrote.
impl<V: serde::Serialize> serde::Serialize for NameMap<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, V: serde::Deserialize<'de>> serde::Deserialize<'de> for NameMap<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(BTreeMap::<String, V>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever the number of names (below and past the block's size)
        /// and the order of adding and merging, the map reads as the
        /// `BTreeMap` it replaced: same entries, same order, same JSON.
        #[test]
        fn reads_as_a_btree_map_whatever_the_order(
            names in proptest::collection::vec(("[a-z]{1,3}", 1u64..5), 0..120),
            parts in 1usize..5,
            seed in any::<u64>(),
        ) {
            let mut next = crate::usage::merge_test::xorshift(seed);
            let mut want: BTreeMap<String, u64> = BTreeMap::new();
            for (k, n) in &names {
                *want.entry(k.clone()).or_default() += n;
            }
            let mut one = NameMap::new();
            for (k, n) in &names {
                one.add(k, *n);
            }
            let mut files = vec![NameMap::new(); parts];
            for (k, n) in &names {
                files[(next() % parts as u64) as usize].add(k, *n);
            }
            let merged =
                crate::usage::merge_test::merge_randomly(files, &mut next, |a, b| a.add_all(b));
            for m in [&one, &merged] {
                prop_assert_eq!(m.len(), want.len());
                prop_assert_eq!(m.is_empty(), want.is_empty());
                prop_assert!(m.iter().map(|(k, v)| (&**k, *v)).eq(want.iter().map(|(k, v)| (k.as_str(), *v))));
                prop_assert!(m.iter().rev().map(|(k, _)| &**k).eq(want.keys().rev().map(String::as_str)));
                prop_assert_eq!(&m.to_btree(), &want);
                for (k, v) in &want {
                    prop_assert_eq!(m.get(k), Some(v));
                }
                prop_assert_eq!(m.get("not-a-name"), None);
                prop_assert_eq!(serde_json::to_string(m).unwrap(), serde_json::to_string(&want).unwrap());
            }
            prop_assert_eq!(&one, &merged);
            let owned: Vec<(Box<str>, u64)> = merged.clone().into_iter().collect();
            prop_assert!(owned.iter().map(|(k, v)| (&**k, *v)).eq(want.iter().map(|(k, v)| (k.as_str(), *v))));
            let json = serde_json::to_string(&merged).unwrap();
            prop_assert_eq!(serde_json::from_str::<NameMap<u64>>(&json).unwrap(), merged);
        }
    }

    #[test]
    fn insert_replaces_and_returns_the_old_value() {
        let mut m = NameMap::new();
        assert_eq!(m.insert("mcp".into(), 6), None);
        assert_eq!(m.insert("mcp".into(), 2), Some(6));
        assert_eq!(m.get("mcp"), Some(&2));
        let big: NameMap<u64> = (0..100).map(|i| (format!("s{i:03}"), i)).collect();
        assert_eq!(big.len(), 100);
        assert_eq!(big.keys().next().map(|k| &**k), Some("s000"));
        assert_eq!(big.get("s042"), Some(&42));
    }
}
