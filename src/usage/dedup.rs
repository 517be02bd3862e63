//! The duplicate check: records that arrive twice (an S3 log file and a
//! LookupEvents export, or two trails delivering to one bucket) count once,
//! by `eventID`, with memory for about a day of events rather than the
//! whole window. `ReadingOrder` says in which order files are read and when
//! an hour of ids can go.

use crate::util::parse_time;
use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Mutex;

/// How long after its event a record may be delivered and still be checked
/// against every copy of it. CloudTrail delivers within minutes on average
/// (not guaranteed); a day is generous.
pub const DEDUP_DELAY: i64 = 24 * 3600;

/// Event ids are held per hour of their `eventTime`.
const DEDUP_BUCKET: i64 = 3600;

/// Records already counted, by `eventID`: the same event often arrives twice
/// (an S3 log file and a LookupEvents export of the same window, or two
/// trails delivering to one bucket). Copies of an event share its id and its
/// `eventTime`, so ids are held per hour of event time, and an hour is let go
/// once no file left to read can hold it (`ReadingOrder`): memory follows
/// the events of about a day, not all the events of the window. Sharded so
/// that parallel readers rarely wait on each other; about 16 bytes per id.
pub(super) struct Dedup {
    /// Keyed per run (foldhash's random seed), so crafted ids cannot collide on purpose.
    hasher: foldhash::fast::RandomState,
    shards: Vec<Mutex<IdsByHour>>,
    /// Ids of events before this time (Unix seconds) have been let go.
    released_before: AtomicI64,
    /// `sharedEventID`s of the callers' copies of calls across accounts
    /// (a few per cent of records at most), kept for the whole run: the
    /// owners' copies are checked against them at the end.
    callers: Mutex<HashSet<u64>>,
}

/// Hashed event ids by hour of event time.
type IdsByHour = BTreeMap<i64, HashSet<u64, BuildHasherDefault<Prehashed>>>;

/// What the duplicate check says of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Seen {
    First,
    Duplicate,
    /// Not seen among the ids still held, but its hour had been let go: a
    /// copy read earlier would not have been noticed.
    Late,
}

/// The set's keys are already hashes: hashing them again is wasted work.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl Dedup {
    pub(super) fn new() -> Self {
        Dedup {
            hasher: foldhash::fast::RandomState::default(),
            shards: (0..64).map(|_| Mutex::new(BTreeMap::new())).collect(),
            released_before: AtomicI64::new(i64::MIN),
            callers: Mutex::new(HashSet::new()),
        }
    }

    /// Remembers that the caller's copy of a call across accounts was read.
    pub(super) fn note_caller_copy(&self, shared_event_id: &str) {
        let key = self.hasher.hash_one(shared_event_id);
        self.callers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
    }

    /// Whether the caller's copy of that call was read.
    pub(super) fn caller_copy_seen(&self, shared_event_id: &str) -> bool {
        let key = self.hasher.hash_one(shared_event_id);
        self.callers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key)
    }

    /// Checks the event id of a record of time `t` (Unix seconds) and
    /// remembers it.
    pub(super) fn check(&self, event_id: &str, t: i64) -> Seen {
        let key = self.hasher.hash_one(event_id);
        let shard = &self.shards[(key % self.shards.len() as u64) as usize];
        // A poisoned shard only means another reader panicked; its set is still valid.
        let mut hours = shard.lock().unwrap_or_else(|e| e.into_inner());
        let first = hours
            .entry(t.div_euclid(DEDUP_BUCKET))
            .or_default()
            .insert(key);
        if !first {
            Seen::Duplicate
        } else if t < self.released_before.load(Ordering::Relaxed) {
            Seen::Late
        } else {
            Seen::First
        }
    }

    /// Lets go of the ids of events in hours that end at or before `horizon`.
    pub(super) fn release_before(&self, horizon: i64) {
        let keep = horizon.div_euclid(DEDUP_BUCKET);
        let before = keep.saturating_mul(DEDUP_BUCKET);
        if self.released_before.fetch_max(before, Ordering::Relaxed) >= before {
            return;
        }
        for shard in &self.shards {
            let mut hours = shard.lock().unwrap_or_else(|e| e.into_inner());
            *hours = hours.split_off(&keep);
        }
    }
}

/// The order log files are read in, and how far it has got: files whose
/// name gives no delivery time (exports, LookupEvents pages) first, then
/// CloudTrail's deliveries by the time in their names. A file delivered at
/// `d` holds events from after `d - DEDUP_DELAY`; once every file before the
/// first unfinished one is read, the hours before that horizon can go.
pub(super) struct ReadingOrder<'a> {
    pub(super) files: Vec<(Option<i64>, &'a PathBuf)>,
    finished: Vec<AtomicBool>,
    /// The first file not yet finished.
    first_unfinished: Mutex<usize>,
}

impl<'a> ReadingOrder<'a> {
    pub(super) fn new(paths: &'a [PathBuf]) -> Self {
        let mut files: Vec<(Option<i64>, &PathBuf)> =
            paths.iter().map(|p| (delivery_time(p), p)).collect();
        // Stable: files of one delivery time keep the order they were found in.
        files.sort_by_key(|(t, _)| t.unwrap_or(i64::MIN));
        let finished = files.iter().map(|_| AtomicBool::new(false)).collect();
        ReadingOrder {
            files,
            finished,
            first_unfinished: Mutex::new(0),
        }
    }

    /// Marks file `i` read; returns the horizon before which no file left
    /// holds events, when there is one.
    pub(super) fn finished(&self, i: usize) -> Option<i64> {
        self.finished[i].store(true, Ordering::Release);
        let mut first = self
            .first_unfinished
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while *first < self.files.len() && self.finished[*first].load(Ordering::Acquire) {
            *first += 1;
        }
        let (delivered, _) = self.files.get(*first)?;
        delivered.map(|d| d - DEDUP_DELAY)
    }
}

/// When CloudTrail delivered a log file, from its name
/// (`<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`).
pub fn delivery_time(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    name.split('_').find_map(|part| {
        let b = part.as_bytes();
        if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
            return None;
        }
        let p = |r: std::ops::Range<usize>| part.get(r);
        parse_time(&format!(
            "{}-{}-{}T{}:{}:00Z",
            p(0..4)?,
            p(4..6)?,
            p(6..8)?,
            p(9..11)?,
            p(11..13)?
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_times_come_from_cloudtrail_file_names() {
        let t = |n: &str| delivery_time(Path::new(n));
        assert_eq!(
            t("a/b/123456789012_CloudTrail_us-east-1_20261023T1205Z_AbCd.json.gz"),
            parse_time("2026-10-23T12:05:00Z")
        );
        assert_eq!(t("lookup-events-0001.json"), None);
        assert_eq!(t("x_20261323T1205Z_y.json.gz"), None, "month 13");
        assert_eq!(t("x_20261023X1205Z_y.json.gz"), None);
    }

    #[test]
    fn event_ids_are_let_go_by_hour_and_late_records_are_told_apart() {
        let d = Dedup::new();
        let t0 = parse_time("2026-10-01T10:30:00Z").unwrap();
        assert_eq!(d.check("a", t0), Seen::First);
        assert_eq!(d.check("a", t0), Seen::Duplicate);
        assert_eq!(d.check("b", t0 + 3600), Seen::First);
        // The hour of `a` ends at 11:00: a horizon of 11:59 lets it go, not `b`'s.
        d.release_before(t0 + 5340);
        assert_eq!(d.check("b", t0 + 3600), Seen::Duplicate);
        assert_eq!(d.check("a", t0), Seen::Late);
        assert_eq!(d.check("c", t0 + 1000), Seen::Late);
        assert_eq!(d.check("e", t0 + 5400), Seen::First);
        // An earlier horizon releases nothing more.
        d.release_before(t0);
        assert_eq!(d.check("e", t0 + 5400), Seen::Duplicate);
    }

    #[test]
    fn the_horizon_waits_for_files_without_a_delivery_time_and_for_earlier_files() {
        let paths: Vec<PathBuf> = [
            "1_CloudTrail_r_20261002T0000Z_b.json.gz",
            "1_CloudTrail_r_20261001T0000Z_a.json.gz",
            "export.json",
            "1_CloudTrail_r_20261003T0000Z_c.json.gz",
        ]
        .into_iter()
        .map(PathBuf::from)
        .collect();
        let o = ReadingOrder::new(&paths);
        let names: Vec<&str> = o.files.iter().map(|(_, p)| p.to_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "export.json",
                "1_CloudTrail_r_20261001T0000Z_a.json.gz",
                "1_CloudTrail_r_20261002T0000Z_b.json.gz",
                "1_CloudTrail_r_20261003T0000Z_c.json.gz"
            ]
        );
        let day = |d: &str| parse_time(&format!("2026-10-{d}T00:00:00Z")).unwrap();
        // The export may hold events of any time: nothing goes until it is read.
        assert_eq!(o.finished(1), None);
        assert_eq!(o.finished(2), None);
        assert_eq!(o.finished(0), Some(day("03") - DEDUP_DELAY));
        assert_eq!(o.finished(3), None, "every file read");
    }
}
