//! Management events through `LookupEvents`, for accounts without a readable
//! trail bucket. AWS allows 2 calls per second per account and region, and
//! keeps 90 days: the pull paces itself and says when the window is longer.

use super::aws::{describe, Clients};
use super::manifest::{Gap, LookupCount, Manifest};
use super::{PullError, PullOptions};
use aws_smithy_types::DateTime;
use std::time::Duration;

/// LookupEvents' own limit, per account and region.
const MIN_INTERVAL: Duration = Duration::from_millis(550);
/// How far back LookupEvents reaches.
const RETENTION_DAYS: i64 = 90;

pub(super) async fn pull(
    c: &Clients,
    opts: &PullOptions,
    dir: &std::path::Path,
    m: &mut Manifest,
) -> Result<(), PullError> {
    let now = opts.now.unwrap_or_else(|| chrono::Utc::now().timestamp());
    let oldest = now - RETENTION_DAYS * 86_400;
    if opts.since < oldest {
        m.gaps.push(Gap::new(
            "lookup",
            "window",
            format!(
                "LookupEvents keeps {RETENTION_DAYS} days: events before {} are not in this snapshot",
                chrono::DateTime::from_timestamp(oldest, 0)
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default()
            ),
        ));
    }
    opts.progress.start("LookupEvents", 0);
    // Regions are independent rate-limit buckets: pull them concurrently.
    let results = futures_util::future::join_all(c.cloudtrail.iter().map(|(region, ct)| {
        let region = region.clone();
        async move {
            let r = region_events(ct, opts).await;
            (region, r)
        }
    }))
    .await;
    opts.progress.finish();
    for (region, r) in results {
        let (lines, pages, error) = r;
        if let Some(msg) = error {
            m.gaps.push(Gap::new("lookup", region.clone(), msg));
        }
        let events = lines.len();
        if events > 0 {
            let mut body = lines.join("\n");
            body.push('\n');
            super::write_private(
                &dir.join("cloudtrail/lookup")
                    .join(format!("{region}.ndjson")),
                body.as_bytes(),
            )?;
        }
        m.lookup.push(LookupCount {
            region,
            events,
            pages,
        });
    }
    Ok(())
}

/// Every event of the window in one region, one JSON record per line. A
/// failure part-way keeps what was read and says where it stopped.
async fn region_events(
    ct: &aws_sdk_cloudtrail::Client,
    opts: &PullOptions,
) -> (Vec<String>, usize, Option<String>) {
    let mut lines = Vec::new();
    let mut pages = 0;
    let mut token: Option<String> = None;
    let mut last = tokio::time::Instant::now() - MIN_INTERVAL;
    loop {
        tokio::time::sleep_until(last + MIN_INTERVAL).await;
        last = tokio::time::Instant::now();
        let r = ct
            .lookup_events()
            .start_time(DateTime::from_secs(opts.since))
            .end_time(DateTime::from_secs(opts.until))
            .max_results(50)
            .set_next_token(token.take())
            .send()
            .await;
        let page = match r {
            Ok(p) => p,
            Err(e) => {
                let msg = format!(
                    "{} (after {} events in {pages} pages)",
                    describe(&e),
                    lines.len()
                );
                return (lines, pages, Some(msg));
            }
        };
        pages += 1;
        for e in page.events() {
            if let Some(record) = e.cloud_trail_event() {
                // One record per line: the ingest reads NDJSON.
                lines.push(record.replace('\n', " "));
            }
        }
        opts.progress.advance(page.events().len() as u64);
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    (lines, pages, None)
}
