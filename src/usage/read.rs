//! Reading: one streaming pass over CloudTrail files, in parallel across
//! files, each record checked against the window and for duplicates
//! (`dedup`), attributed (`attribution`), mapped (`mapping`) and folded into
//! per-principal, per-action aggregates (`fold`, `activity`).

use super::activity::{max_opt, min_opt, Activity, Occurrence};
use super::attribution::attribute;
use super::dedup::{Dedup, ReadingOrder, Seen, DEDUP_DELAY};
use super::fold::{fold_mapped, note_assume_role, Call};
use super::mapping::{EventMapper, MappedRef};
use crate::ingest::cloudtrail::{discover, for_each_record, read_log_bytes, Problem, RawRecord};
use crate::progress::ProgressHandle;
use crate::util::{parse_time, FastMap};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Window limits (Unix seconds, inclusive); records outside are counted, not used.
#[derive(Clone, Copy, Debug, Default)]
pub struct IngestOptions {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Reads every log file under `paths` and aggregates its records.
pub fn ingest(paths: &[PathBuf], mapper: &EventMapper, opts: IngestOptions) -> Activity {
    ingest_with_progress(paths, mapper, opts, &ProgressHandle::default())
}

/// [`ingest`], reporting one unit of progress per file read.
pub fn ingest_with_progress(
    paths: &[PathBuf],
    mapper: &EventMapper,
    opts: IngestOptions,
    progress: &ProgressHandle,
) -> Activity {
    let found = discover(paths);
    log::info!(
        "found {} log file(s), {} digest file(s) skipped",
        found.files.len(),
        found.digest_files
    );
    progress.start("reading CloudTrail files", found.files.len() as u64);
    let dedup = Dedup::new();
    let order = ReadingOrder::new(&found.files);
    // One partial aggregate per worker thread, each taking the next file
    // from a shared counter: a rayon fold keeps one partial per split (up to
    // dozens, each with every identity in its files), which held most of the
    // ingestion's memory at 10,000 identities.
    let next = AtomicUsize::new(0);
    let partials = rayon::broadcast(|_| {
        let mut acc = Activity::default();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(_, path)) = order.files.get(i) else {
                break;
            };
            ingest_file(path, mapper, opts, &dedup, &mut acc);
            if let Some(horizon) = order.finished(i) {
                dedup.release_before(horizon);
            }
            progress.advance(1);
        }
        acc
    });
    let mut partials = partials.into_iter();
    let mut total = partials.next().unwrap_or_default();
    for p in partials {
        total.merge(p);
    }
    progress.finish();
    log::info!(
        "{} records: {} mapped, {} skipped, {} duplicate",
        total.stats.records,
        total.stats.mapped,
        total.stats.records_skipped,
        total.stats.duplicates
    );
    total.stats.digest_files += found.digest_files as u64;
    total.problems.extend(found.problems);
    total
        .problems
        .sort_by(|a, b| (&a.file, &a.location).cmp(&(&b.file, &b.location)));
    total
}

fn ingest_file(
    path: &Path,
    mapper: &EventMapper,
    opts: IngestOptions,
    dedup: &Dedup,
    acc: &mut Activity,
) {
    acc.stats.files += 1;
    let bytes = read_log_bytes(path);
    fold_file(path, bytes, mapper, opts, dedup, acc);
}

/// Aggregates the records of one log file's contents (as read from disk, gzip
/// or not), as the ingestion does for each file; for fuzzing and tests.
pub fn ingest_bytes(
    name: &Path,
    raw: Vec<u8>,
    mapper: &EventMapper,
    opts: IngestOptions,
) -> Activity {
    let mut acc = Activity::default();
    acc.stats.files += 1;
    let bytes = crate::ingest::cloudtrail::decode_log_bytes(raw);
    fold_file(name, bytes, mapper, opts, &Dedup::new(), &mut acc);
    acc
}

fn fold_file(
    path: &Path,
    bytes: Result<Vec<u8>, String>,
    mapper: &EventMapper,
    opts: IngestOptions,
    dedup: &Dedup,
    acc: &mut Activity,
) {
    let bytes = match bytes {
        Ok(b) => b,
        Err(message) => {
            acc.stats.files_failed += 1;
            acc.problems.push(Problem {
                file: path.to_path_buf(),
                location: String::new(),
                message,
            });
            return;
        }
    };
    let mut problems = Vec::new();
    let mut rejected = Vec::new();
    let mut file = PerFile::new(mapper);
    let seen = for_each_record(
        path,
        &bytes,
        |i, rec| {
            let r = record(&rec, &mut file, opts, dedup, acc);
            if let Err(message) = r {
                rejected.push(Problem {
                    file: path.to_path_buf(),
                    location: format!("record {i}"),
                    message,
                });
            }
        },
        &mut problems,
    );
    acc.stats.records += seen as u64;
    // Every problem below file level is one skipped record.
    let (file_level, record_level): (Vec<_>, Vec<_>) =
        problems.into_iter().chain(rejected).partition(|p| {
            p.location.is_empty() || p.location.starts_with("line") || p.location.starts_with('$')
        });
    acc.stats.records_skipped += record_level.len() as u64;
    if !file_level.is_empty() {
        acc.stats.files_failed += 1;
    }
    acc.problems.extend(file_level);
    acc.problems.extend(record_level);
    let late = file.late;
    if late > 0 {
        // Counted, not skipped: the report says which copies may be doubled.
        acc.problems.push(Problem {
            file: path.to_path_buf(),
            location: format!("{late} record(s)"),
            message: format!(
                "delivered more than {} hours after the event (by the file's name): checked for duplicates only against the events still held, so a copy read earlier may be counted twice",
                DEDUP_DELAY / 3600
            ),
        });
    }
}

/// What the records of one file share while it is read.
struct PerFile<'a> {
    mapper: &'a EventMapper,
    /// Each distinct event of the file mapped once, with its service
    /// prefix: a file repeats a few dozen events many times, and mapping one
    /// (lowercasing, three hash lookups and two binary searches) was a
    /// tenth of the ingestion's CPU. Keyed by the event source and name as
    /// borrowed from the file's text.
    events: FastMap<(&'a str, &'a str), (MappedRef<'a>, &'a str)>,
    /// The resources of the current record, reused from record to record.
    resources: Vec<String>,
    /// Records delivered too late to be checked against every duplicate.
    late: u64,
}

impl<'a> PerFile<'a> {
    fn new(mapper: &'a EventMapper) -> Self {
        PerFile {
            mapper,
            events: FastMap::default(),
            resources: Vec::new(),
            late: 0,
        }
    }

    /// The mapping and service prefix of an event; `source` and `name` are
    /// only kept when they borrow from the file (an escaped string is an
    /// owned copy).
    fn map<'r>(
        &mut self,
        source: &'r Cow<'a, str>,
        name: &'r Cow<'a, str>,
    ) -> (MappedRef<'a>, &'r str) {
        let mapper = self.mapper;
        let (Cow::Borrowed(s), Cow::Borrowed(n)) = (source, name) else {
            return (mapper.map_ref(source, name), mapper.service_prefix(source));
        };
        *self
            .events
            .entry((s, n))
            .or_insert_with(|| (mapper.map_ref(s, n), mapper.service_prefix(s)))
    }
}

fn record<'a>(
    rec: &RawRecord<'a>,
    file: &mut PerFile<'a>,
    opts: IngestOptions,
    dedup: &Dedup,
    acc: &mut Activity,
) -> Result<(), String> {
    let (Some(source_cow), Some(name_cow)) = (&rec.event_source, &rec.event_name) else {
        return Err(if rec.event_source.is_none() {
            "missing `eventSource`"
        } else {
            "missing `eventName`"
        }
        .into());
    };
    let (source, name) = (source_cow.as_ref(), name_cow.as_ref());
    let time = rec.event_time.as_deref().ok_or("missing `eventTime`")?;
    let t =
        parse_time(time).ok_or_else(|| format!("missing valid `eventTime` (found `{time}`)"))?;
    if opts.since.is_some_and(|s| t < s) || opts.until.is_some_and(|u| t > u) {
        acc.stats.outside_window += 1;
        return Ok(());
    }
    if let Some(id) = rec.event_id.as_deref() {
        match dedup.check(id, t) {
            Seen::First => {}
            Seen::Late => file.late += 1,
            Seen::Duplicate => {
                acc.stats.duplicates += 1;
                return Ok(());
            }
        }
    }
    note_assume_role(rec, source, name, acc);
    let stats = &mut acc.stats;
    stats.first_event = min_opt(stats.first_event, Some(t));
    stats.last_event = max_opt(stats.last_event, Some(t));

    let Some(actor) = rec.user_identity.as_ref().and_then(attribute) else {
        stats.service_records += 1;
        return Ok(());
    };
    let (mapped, prefix) = file.map(source_cow, name_cow);
    let channel = file.mapper.channels().of(rec);
    fold_mapped(
        acc,
        file.mapper.catalog(),
        mapped,
        &actor,
        Call {
            source,
            name,
            error_code: rec.error_code.as_deref(),
            channel,
        },
        Occurrence {
            count: 1,
            first: t,
            last: t,
        },
        |out| super::resources::extract(rec, prefix, out),
        &mut file.resources,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Outcome;

    /// Records of one event share a mapping within a file, whether their
    /// strings borrow from the text or, escaped, are owned copies: the
    /// three calls count as one action with three resources.
    #[test]
    fn an_event_maps_the_same_borrowed_or_escaped() {
        let cat = crate::catalog::Catalog::embedded();
        let mapper = EventMapper::embedded(cat).expect("shipped rules");
        let rec = |name: &str, bucket: &str| {
            format!(
                r#"{{"eventTime":"2026-10-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"{name}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u"}},"requestParameters":{{"bucketName":"{bucket}"}}}}"#
            )
        };
        let text = format!(
            r#"{{"Records":[{},{},{}]}}"#,
            rec("ListObjects", "a"),
            rec("ListObj\\u0065cts", "b"),
            rec("ListObjects", "c")
        );
        let acc = ingest_bytes(
            Path::new("f.json"),
            text.into_bytes(),
            &mapper,
            IngestOptions::default(),
        );
        assert!(acc.problems.is_empty(), "{:?}", acc.problems);
        let actor = &acc.actors["arn:aws:iam::111122223333:user/u"];
        let id = cat.lookup("s3:ListBucket").expect("catalog action");
        let stats = actor
            .actions
            .get(&(id, Outcome::Success))
            .expect("mapped to s3:ListBucket");
        assert_eq!(stats.count, 3);
        assert_eq!(stats.resources.len(), 3, "{:?}", stats.resources);
        assert_eq!(actor.actions.len(), 1);
    }
}
