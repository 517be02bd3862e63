//! Trail log files from the trail's S3 bucket: only the day prefixes inside
//! the window are listed, objects are downloaded in parallel with a bound
//! and kept as delivered, and objects fetched before (same key and ETag)
//! are reused instead of downloaded again.

use super::aws::{describe, Clients};
use super::manifest::{Gap, Manifest, Object};
use super::{PullError, PullOptions};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// `s3://bucket/prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Location {
    pub bucket: String,
    pub prefix: String,
}

impl Location {
    pub(super) fn parse(s: &str) -> Result<Location, PullError> {
        let rest = s.strip_prefix("s3://").ok_or_else(|| {
            PullError::Usage(format!(
                "--trail-bucket `{s}`: expected s3://BUCKET[/PREFIX]"
            ))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(PullError::Usage(format!(
                "--trail-bucket `{s}`: the bucket name is empty"
            )));
        }
        Ok(Location {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    fn base(&self) -> String {
        if self.prefix.is_empty() {
            "AWSLogs/".into()
        } else {
            format!("{}/AWSLogs/", self.prefix)
        }
    }
}

/// Objects fetched earlier, by bucket and key, with where the file is.
#[derive(Default)]
pub(super) struct Previous(HashMap<(String, String), (Object, PathBuf)>);

impl Previous {
    pub(super) fn insert(&mut self, o: Object, at: PathBuf) {
        self.0.insert((o.bucket.clone(), o.key.clone()), (o, at));
    }

    /// The earlier copy of an object, when it is the same object and the
    /// file is still whole.
    fn find(&self, bucket: &str, key: &str, etag: &str, size: u64) -> Option<&Path> {
        let (o, at) = self.0.get(&(bucket.to_string(), key.to_string()))?;
        let len = std::fs::metadata(at).ok()?.len();
        (o.etag == etag && o.size == size && len == size).then_some(at.as_path())
    }
}

const LEDGER: &str = ".fetched.jsonl";

/// Objects a failed run already fetched into the work directory.
pub(super) fn read_ledger(dir: &Path) -> Vec<Object> {
    std::fs::read_to_string(dir.join(LEDGER))
        .map(|s| {
            s.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn remove_ledger(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(LEDGER));
}

struct Listed {
    bucket: String,
    key: String,
    etag: String,
    size: u64,
}

/// Returns whether at least one bucket could be listed.
pub(super) async fn pull(
    c: &Clients,
    opts: &PullOptions,
    locations: &[Location],
    accounts: &[String],
    dir: &Path,
    previous: &Previous,
    m: &mut Manifest,
) -> Result<bool, PullError> {
    // One client per bucket, in the bucket's region, for listing and fetching.
    let mut clients: HashMap<String, aws_sdk_s3::Client> = HashMap::new();
    for loc in locations {
        if !clients.contains_key(&loc.bucket) {
            clients.insert(loc.bucket.clone(), bucket_client(c, &loc.bucket).await);
        }
    }
    let mut listed = Vec::new();
    let mut any_ok = false;
    for loc in locations {
        let client = &clients[&loc.bucket];
        match list_location(client, opts, loc, accounts, &c.regions, m).await {
            Ok(mut objs) => {
                any_ok = true;
                listed.append(&mut objs);
            }
            Err(msg) => m.gaps.push(Gap::new(
                "s3",
                format!("s3://{}/{}", loc.bucket, loc.prefix),
                msg,
            )),
        }
    }
    listed.sort_by(|a, b| (&a.bucket, &a.key).cmp(&(&b.bucket, &b.key)));
    listed.dedup_by(|a, b| a.bucket == b.bucket && a.key == b.key);

    let ledger = Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(LEDGER))
            .map_err(|source| PullError::Write {
                path: dir.join(LEDGER),
                source,
            })?,
    );
    let mut to_fetch = Vec::new();
    for l in listed {
        let Some(rel) = local_path(&l.bucket, &l.key) else {
            m.gaps.push(Gap::new(
                "s3",
                format!("s3://{}/{}", l.bucket, l.key),
                "key has an empty, `.` or `..` part: not written to disk",
            ));
            m.downloaded.failed += 1;
            continue;
        };
        let obj = Object {
            bucket: l.bucket.clone(),
            key: l.key.clone(),
            etag: l.etag.clone(),
            size: l.size,
            path: rel.clone(),
        };
        let dest = dir.join(&rel);
        match previous.find(&l.bucket, &l.key, &l.etag, l.size) {
            Some(at) if at == dest => {
                m.downloaded.reused += 1;
                m.objects.push(obj);
            }
            Some(at) => {
                super::create_private_dir(dest.parent().unwrap_or(dir))?;
                let linked =
                    std::fs::hard_link(at, &dest).or_else(|_| std::fs::copy(at, &dest).map(|_| ()));
                match linked {
                    Ok(()) => {
                        m.downloaded.reused += 1;
                        m.objects.push(obj);
                    }
                    Err(_) => to_fetch.push(obj),
                }
            }
            None => to_fetch.push(obj),
        }
    }

    let total: u64 = to_fetch.iter().map(|o| o.size).sum();
    opts.progress.start_bytes("downloading trail logs", total);
    let results: Vec<(Object, Result<(), String>)> = futures_util::stream::iter(to_fetch)
        .map(|o| {
            let client = clients[&o.bucket].clone();
            let dest = dir.join(&o.path);
            let ledger = &ledger;
            async move {
                let r = fetch(&client, &o, &dest).await;
                if r.is_ok() {
                    if let (Ok(mut f), Ok(line)) = (ledger.lock(), serde_json::to_string(&o)) {
                        let _ = writeln!(f, "{line}");
                    }
                }
                opts.progress.advance(o.size);
                (o, r)
            }
        })
        .buffer_unordered(opts.concurrency.clamp(1, 64))
        .collect()
        .await;
    opts.progress.finish();
    for (o, r) in results {
        match r {
            Ok(()) => {
                m.downloaded.fetched += 1;
                m.downloaded.bytes += o.size;
                m.objects.push(o);
            }
            Err(msg) => {
                m.downloaded.failed += 1;
                m.gaps
                    .push(Gap::new("s3", format!("s3://{}/{}", o.bucket, o.key), msg));
            }
        }
    }
    m.objects
        .sort_by(|a, b| (&a.bucket, &a.key).cmp(&(&b.bucket, &b.key)));
    Ok(any_ok)
}

/// A client for the bucket's own region (S3 answers a wrong region with a
/// redirect the SDK does not follow).
pub(super) async fn bucket_client(c: &Clients, bucket: &str) -> aws_sdk_s3::Client {
    match c.s3.get_bucket_location().bucket(bucket).send().await {
        Ok(l) => {
            // An empty constraint is us-east-1, by S3's old convention.
            let region = l
                .location_constraint()
                .map(|r| r.as_str().to_string())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "us-east-1".to_string());
            c.s3_in(&region)
        }
        // Without GetBucketLocation, try the configured region.
        Err(_) => c.s3.clone(),
    }
}

/// Where an object goes under the snapshot, or `None` for a key that could
/// escape the directory.
fn local_path(bucket: &str, key: &str) -> Option<String> {
    let ok = |p: &str| !p.is_empty() && p != "." && p != ".." && !p.contains('\\');
    if !ok(bucket) || !key.split('/').all(ok) {
        return None;
    }
    Some(format!("cloudtrail/s3/{bucket}/{key}"))
}

/// Objects and common prefixes under a prefix, or why not.
type Listing = Result<(Vec<Listed>, Vec<String>), String>;

async fn list_all(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    delimiter: bool,
) -> Listing {
    let mut objects = Vec::new();
    let mut prefixes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.take());
        if delimiter {
            req = req.delimiter("/");
        }
        let page = req.send().await.map_err(|e| describe(&e))?;
        for o in page.contents() {
            if let Some(k) = o.key() {
                objects.push(Listed {
                    bucket: bucket.to_string(),
                    key: k.to_string(),
                    etag: o.e_tag().unwrap_or_default().to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                });
            }
        }
        prefixes.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok((objects, prefixes))
}

/// Lists `AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/` for each
/// account, region and day of the window (plus the next day: CloudTrail
/// delivers up to about 15 minutes late).
async fn list_location(
    client: &aws_sdk_s3::Client,
    opts: &PullOptions,
    loc: &Location,
    accounts: &[String],
    regions: &[String],
    m: &mut Manifest,
) -> Result<Vec<Listed>, String> {
    let base = loc.base();
    let (_, tops) = list_all(client, &loc.bucket, &base, true).await?;
    let mut account_bases = Vec::new();
    for account in accounts {
        let before = account_bases.len();
        for top in &tops {
            let name = top[base.len()..].trim_end_matches('/');
            if name == account {
                account_bases.push(format!("{top}CloudTrail/"));
            } else if name.starts_with("o-") {
                let org_account = format!("{top}{account}/");
                let (_, inner) = list_all(client, &loc.bucket, top, true).await?;
                if inner.contains(&org_account) {
                    account_bases.push(format!("{org_account}CloudTrail/"));
                }
            }
        }
        if account_bases.len() == before {
            m.gaps.push(Gap::new(
                "s3",
                format!("s3://{}/{base}", loc.bucket),
                format!("no CloudTrail logs for account {account} under this prefix"),
            ));
        }
    }
    let explicit_regions = !opts.aws.regions.is_empty();
    let mut day_prefixes = Vec::new();
    for ab in &account_bases {
        let (_, region_prefixes) = list_all(client, &loc.bucket, ab, true).await?;
        for rp in region_prefixes {
            let region = rp[ab.len()..].trim_end_matches('/');
            if explicit_regions && !regions.iter().any(|r| r == region) {
                continue;
            }
            for day in days(opts.since, opts.until) {
                day_prefixes.push(format!("{rp}{day}/"));
            }
        }
    }
    let lists: Vec<Listing> = futures_util::stream::iter(day_prefixes)
        .map(|p| async move { list_all(client, &loc.bucket, &p, false).await })
        .buffer_unordered(opts.concurrency.clamp(1, 16))
        .collect()
        .await;
    let mut out = Vec::new();
    for l in lists {
        match l {
            Ok((objs, _)) => out.extend(objs),
            Err(msg) => m
                .gaps
                .push(Gap::new("s3", format!("s3://{}/{base}", loc.bucket), msg)),
        }
    }
    Ok(out)
}

/// `YYYY/MM/DD` for every day from `since` to the day after `until`.
fn days(since: i64, until: i64) -> Vec<String> {
    let to_date = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.date_naive())
            .unwrap_or_default()
    };
    let (mut d, end) = (
        to_date(since),
        to_date(until).succ_opt().unwrap_or(to_date(until)),
    );
    let mut out = Vec::new();
    while d <= end {
        out.push(d.format("%Y/%m/%d").to_string());
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

async fn fetch(client: &aws_sdk_s3::Client, o: &Object, dest: &Path) -> Result<(), String> {
    let mut req = client.get_object().bucket(&o.bucket).key(&o.key);
    if !o.etag.is_empty() {
        // The object listed is the object fetched, or the pull says so.
        req = req.if_match(&o.etag);
    }
    let resp = req.send().await.map_err(|e| describe(&e))?;
    let mut body = resp.body;
    if let Some(parent) = dest.parent() {
        super::create_private_dir(parent).map_err(|e| e.to_string())?;
    }
    let mut tmp = dest.as_os_str().to_os_string();
    tmp.push(".part");
    let tmp = PathBuf::from(tmp);
    let mut f = private_file(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let mut written = 0u64;
    while let Some(chunk) = body.try_next().await.map_err(|e| describe(&e))? {
        f.write_all(&chunk)
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
        written += chunk.len() as u64;
    }
    f.sync_all()
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    if written != o.size {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("got {written} bytes, listed {}", o.size));
    }
    std::fs::rename(&tmp, dest).map_err(|e| format!("{}: {e}", dest.display()))
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse() {
        assert_eq!(
            Location::parse("s3://b/p/q/").unwrap(),
            Location {
                bucket: "b".into(),
                prefix: "p/q".into()
            }
        );
        assert_eq!(Location::parse("s3://b").unwrap().base(), "AWSLogs/");
        assert!(Location::parse("b/p").is_err());
        assert!(Location::parse("s3:///p").is_err());
    }

    #[test]
    fn keys_never_escape() {
        assert!(local_path("b", "AWSLogs/../../etc/passwd").is_none());
        assert!(local_path("b", "/abs").is_none());
        assert!(local_path("..", "k").is_none());
        assert_eq!(
            local_path("b", "AWSLogs/1/x.json.gz").as_deref(),
            Some("cloudtrail/s3/b/AWSLogs/1/x.json.gz")
        );
    }

    #[test]
    fn days_cover_the_window_and_one_more() {
        // 2026-10-30T12:00Z .. 2026-11-01T00:00Z
        let d = days(1_793_361_600, 1_793_491_200);
        assert_eq!(d, ["2026/10/30", "2026/10/31", "2026/11/01", "2026/11/02"]);
    }
}
