//! CloudTrail log files: discovery and a streaming, borrowing record parser.
//!
//! Accepts S3-delivered `{"Records": [...]}` files (`.json` or `.json.gz`),
//! plain JSON arrays of records (LookupEvents exports), NDJSON and single
//! records, at any depth under the given paths. Digest files are skipped.
//! Each record is parsed on its own, so one bad record is reported (file and
//! index) and skipped without losing the rest of its file. Only the fields the
//! audit needs are read, borrowed from the file buffer.
//!
//! A file is read in up to three passes, each taking over where the last
//! stopped: `scan`, a parser of exactly the record shape, for the files S3
//! delivers; serde over the whole file, for what `scan` leaves (an escaped
//! key, an odd field); and value by value, which names each bad record.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

mod scan;

/// A problem with one input file or record that did not stop the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// `record 12`, `byte 4096`, or empty for the whole file.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.location.is_empty() {
            write!(f, "`{}`: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "`{}`: {}: {}",
                self.file.display(),
                self.location,
                self.message
            )
        }
    }
}

/// Log files found under the given paths.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub files: Vec<PathBuf>,
    pub digest_files: usize,
    pub problems: Vec<Problem>,
}

fn is_digest(path: &Path) -> bool {
    path.components().any(|c| {
        c.as_os_str()
            .to_string_lossy()
            .contains("CloudTrail-Digest")
    })
}

fn is_log_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".json")
        || name.ends_with(".json.gz")
        || name.ends_with(".ndjson")
        || name.ends_with(".jsonl")
        || name.ends_with(".ndjson.gz")
        || name.ends_with(".jsonl.gz")
}

/// Finds log files under each path (a file is taken as it is). Follows
/// symbolic links but reports, rather than loops on, a link cycle.
pub fn discover(paths: &[PathBuf]) -> Discovery {
    let mut d = Discovery::default();
    for root in paths {
        if root.is_file() {
            d.files.push(root.clone());
            continue;
        }
        if !root.exists() {
            d.problems.push(Problem {
                file: root.clone(),
                location: String::new(),
                message: "no such file or directory".into(),
            });
            continue;
        }
        for entry in walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
        {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    let p = e.path();
                    if is_digest(p) {
                        if is_log_name(p) {
                            d.digest_files += 1;
                        }
                    } else if is_log_name(p) {
                        d.files.push(p.to_path_buf());
                    }
                }
                Ok(_) => {}
                Err(e) => d.problems.push(Problem {
                    file: e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| root.clone()),
                    location: String::new(),
                    message: e.to_string(),
                }),
            }
        }
    }
    d.files.sort();
    d.files.dedup();
    d
}

/// An optional string borrowed from the text unless it has escapes.
///
/// serde borrows a `Cow<str>` field only when it is exactly that type: in
/// an `Option` it allocates a `String` every time. That was ten allocations
/// per record, and per-file caches keyed by the borrowed text never hit.
fn borrowed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text<'de>>::deserialize(d)?.map(|t| t.0))
}

/// An optional string, borrowed unless it has escapes; a value of any other
/// type (number, object, ...) reads as absent rather than failing the record.
fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct Lenient;
    impl<'de> serde::de::Visitor<'de> for Lenient {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            while a
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(None)
        }
    }
    d.deserialize_any(Lenient)
}

/// A value's JSON text, borrowed from the file.
fn raw_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de str>, D::Error> {
    Ok(Option::<&'de RawValue>::deserialize(d)?.map(RawValue::get))
}

/// The fields of a CloudTrail record the audit uses, borrowed where possible.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawRecord<'a> {
    #[serde(borrow, rename = "eventID", default, deserialize_with = "borrowed")]
    pub event_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub event_time: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub event_source: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub event_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub aws_region: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub error_code: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub event_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub event_category: Option<Cow<'a, str>>,
    pub management_event: Option<bool>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub recipient_account_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub user_identity: Option<RawIdentity<'a>>,
    #[serde(borrow)]
    pub resources: Option<Vec<RawResource<'a>>>,
    /// The parameters' JSON text, as it is in the file.
    #[serde(borrow, default, deserialize_with = "raw_text")]
    pub request_parameters: Option<&'a str>,
    /// Fields read since the layout of issue 20: each is lenient (a value
    /// of another type reads as absent), so that a record that carries an
    /// odd one still counts. The refusal message names the policy type that
    /// refused (IAM's access denied message grammar).
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub error_message: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub user_agent: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        rename = "sourceIPAddress",
        default,
        deserialize_with = "lenient"
    )]
    pub source_ip_address: Option<Cow<'a, str>>,
    /// The same event delivered to several accounts shares this id.
    #[serde(
        borrow,
        rename = "sharedEventID",
        default,
        deserialize_with = "lenient"
    )]
    pub shared_event_id: Option<Cow<'a, str>>,
    /// Network activity events: the endpoint the call went through.
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub vpc_endpoint_id: Option<Cow<'a, str>>,
    /// The response's JSON text (AssumeRole's issued credentials, never
    /// secret values: CloudTrail leaves those out).
    #[serde(borrow, default, deserialize_with = "raw_text")]
    pub response_elements: Option<&'a str>,
    #[serde(borrow, default, deserialize_with = "raw_text")]
    pub additional_event_data: Option<&'a str>,
    /// `"true"` on calls the console made with the session's credentials;
    /// its JSON text, whatever its type.
    #[serde(borrow, default, deserialize_with = "raw_text")]
    pub session_credential_from_console: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawIdentity<'a> {
    #[serde(borrow, rename = "type", default, deserialize_with = "borrowed")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub arn: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub principal_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub account_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub user_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub invoked_by: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub session_context: Option<RawSession<'a>>,
    /// The key the call was signed with: for a role session, the key
    /// `AssumeRole` issued (`responseElements.credentials.accessKeyId`).
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub access_key_id: Option<Cow<'a, str>>,
    /// The person behind an Identity Center user or an identity-enhanced
    /// role session (trusted identity propagation).
    #[serde(borrow)]
    pub on_behalf_of: Option<RawOnBehalfOf<'a>>,
    /// `WebIdentityUser` and `SAMLUser`: the identity provider.
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub identity_provider: Option<Cow<'a, str>>,
}

/// `userIdentity.onBehalfOf`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawOnBehalfOf<'a> {
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub user_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub identity_store_arn: Option<Cow<'a, str>>,
    /// Agent and workload identity, and federation: who (`spiffe://...`, a
    /// user), of which type (`workload` or `user`), issued by whom.
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub subject: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub subject_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub issuer: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawSession<'a> {
    #[serde(borrow)]
    pub session_issuer: Option<RawIssuer<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub source_identity: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawIssuer<'a> {
    #[serde(borrow, rename = "type", default, deserialize_with = "borrowed")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub arn: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub user_name: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawResource<'a> {
    #[serde(
        borrow,
        rename = "ARN",
        alias = "arn",
        default,
        deserialize_with = "borrowed"
    )]
    pub arn: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type", default, deserialize_with = "borrowed")]
    pub kind: Option<Cow<'a, str>>,
}

/// One pass over a whole file (an S3 envelope or a JSON array), handing
/// each record to `visit` as it is parsed: no list of records is built.
/// `seen` counts the records visited, so that a failure half-way can be
/// resumed record by record without visiting any twice.
struct Streamer<'v, F> {
    visit: &'v mut F,
    seen: usize,
    found: bool,
}

impl<'de, F: FnMut(usize, RawRecord<'de>)> Streamer<'_, F> {
    fn records<A: serde::de::SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(r) = seq.next_element::<RawRecord<'de>>()? {
            (self.visit)(self.seen, r);
            self.seen += 1;
        }
        self.found = true;
        Ok(())
    }
}

impl<'de, F: FnMut(usize, RawRecord<'de>)> serde::de::Visitor<'de> for &mut Streamer<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a CloudTrail log file")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.records(seq)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "Records" && !self.found {
                map.next_value_seed(RecordsSeed(&mut *self))?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct RecordsSeed<'s, 'v, F>(&'s mut Streamer<'v, F>);

impl<'de, F: FnMut(usize, RawRecord<'de>)> serde::de::DeserializeSeed<'de>
    for RecordsSeed<'_, '_, F>
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self.0)
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, rename = "Records")]
    records: Option<Vec<&'a RawValue>>,
}

/// Reads a file into memory, decompressing gzip by its magic bytes rather
/// than by its name (S3 downloads are often renamed).
pub fn read_log_bytes(path: &Path) -> Result<Vec<u8>, String> {
    decode_log_bytes(std::fs::read(path).map_err(|e| e.to_string())?)
}

/// A log file's bytes as JSON text: gunzipped when they start with gzip's magic.
pub fn decode_log_bytes(raw: Vec<u8>) -> Result<Vec<u8>, String> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        // gzip's trailer gives the (last member's) size: one allocation, no
        // regrowth; bounded by deflate's maximum ratio against a lying trailer.
        let isize = raw
            .len()
            .checked_sub(4)
            .and_then(|i| raw.get(i..))
            .and_then(|t| <[u8; 4]>::try_from(t).ok())
            .map_or(0, |t| u32::from_le_bytes(t) as usize);
        let mut out = Vec::with_capacity(isize.clamp(raw.len(), raw.len().saturating_mul(1032)));
        gunzip(&raw, &mut out).map_err(|e| format!("gzip: {e}"))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Inflates every gzip member of `input` (as `cat a.gz b.gz` makes) onto
/// `out`. zlib checks each member's header, CRC and length.
///
/// `Read::read_to_end` over flate2's decoders zeroes the whole output
/// buffer before inflating into it (4 % of an audit); `decompress_vec`
/// writes into the vector's spare capacity as it is.
fn gunzip(mut input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    use flate2::{Decompress, FlushDecompress, Status};
    while !input.is_empty() {
        // Window bits 15 with gzip's header and trailer.
        let mut member = Decompress::new_gzip(15);
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(64 * 1024));
            }
            let (read, wrote) = (member.total_in(), out.len());
            let status = member
                .decompress_vec(input, out, FlushDecompress::None)
                .map_err(|e| e.to_string())?;
            // Bounded by `input.len()`: zlib never reads past what it is given.
            let used = usize::try_from(member.total_in() - read).unwrap_or(input.len());
            input = &input[used.min(input.len())..];
            match status {
                Status::StreamEnd => break,
                // Room to write and nothing read or written: the member
                // needs input that is not there.
                _ if used == 0 && out.len() == wrote && out.len() < out.capacity() => {
                    return Err("unexpected end of file".into());
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// What a log file holds, told by its first key: CloudTrail's files and
/// the AWS CLI's output each begin with a key of their own.
#[derive(Debug, PartialEq, Eq)]
pub enum Contents {
    /// Records: an S3 envelope, a JSON array, NDJSON or one record. The
    /// bytes are the file's, unchanged.
    Records(Vec<u8>),
    /// `aws cloudtrail lookup-events` output (one page, pages one after
    /// another, or an array of pages or of events): each event's
    /// `CloudTrailEvent` string, unwrapped into an S3 envelope of records.
    /// `broken` says where the output stopped being readable, if it did;
    /// the events before that are kept.
    LookupEvents {
        text: Vec<u8>,
        events: usize,
        broken: Option<Problem>,
    },
    /// A digest file (`digestStartTime`, `logFiles`, no `Records`): the
    /// hashes of the log files of an hour, no records.
    Digest,
}

/// The keys of a LookupEvents `Event` (the API's, which the CLI prints as
/// they are); CloudTrail records' keys are camelCase.
const LOOKUP_EVENT_KEYS: &[&str] = &[
    "EventId",
    "EventName",
    "ReadOnly",
    "AccessKeyId",
    "EventTime",
    "EventSource",
    "Username",
    "Resources",
    "CloudTrailEvent",
];

/// The first key of the file's first object, and whether the object is in
/// an array; `None` when the file does not start that way.
fn first_key(bytes: &[u8]) -> Option<(bool, &[u8])> {
    let mut i = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let in_array = bytes[i] == b'[';
    if in_array {
        i += 1 + bytes[i + 1..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())?;
    }
    if bytes[i] != b'{' {
        return None;
    }
    i += 1 + bytes[i + 1..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())?;
    if bytes[i] != b'"' {
        return None;
    }
    let len = bytes[i + 1..]
        .iter()
        .take(64)
        .position(|&b| b == b'"' || b == b'\\')?;
    Some((in_array, &bytes[i + 1..i + 1 + len]))
}

/// Tells what `bytes` (a decoded log file) holds; see [`Contents`]. S3's
/// files begin with `Records` and are handed back at the cost of a look at
/// their first bytes.
pub fn contents(path: &Path, bytes: Vec<u8>) -> Contents {
    let Some((in_array, key)) = first_key(&bytes) else {
        return Contents::Records(bytes);
    };
    match key {
        b"Records" => Contents::Records(bytes),
        b"Events" | b"NextToken" => lookup_events(path, &bytes),
        k if in_array && LOOKUP_EVENT_KEYS.iter().any(|e| e.as_bytes() == k) => {
            lookup_events(path, &bytes)
        }
        _ if !in_array && holds_digest(&bytes) => Contents::Digest,
        _ => Contents::Records(bytes),
    }
}

/// Whether the file's first value is a digest: `digestStartTime` and
/// `logFiles`, and no `Records`.
fn holds_digest(bytes: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "digestStartTime")]
        start: Option<serde::de::IgnoredAny>,
        #[serde(rename = "logFiles")]
        log_files: Option<serde::de::IgnoredAny>,
        #[serde(rename = "Records")]
        records: Option<serde::de::IgnoredAny>,
    }
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<Probe>();
    matches!(
        values.next(),
        Some(Ok(Probe {
            start: Some(_),
            log_files: Some(_),
            records: None
        }))
    )
}

/// One page of `lookup-events` output, or one event of it.
#[derive(Deserialize)]
#[serde(untagged)]
enum LookupItem<'a> {
    Page {
        #[serde(rename = "Events", borrow)]
        events: Vec<LookupEvent<'a>>,
    },
    Event(#[serde(borrow)] LookupEvent<'a>),
}

#[derive(Deserialize)]
struct LookupEvent<'a> {
    #[serde(rename = "CloudTrailEvent", borrow, default)]
    record: Option<Cow<'a, str>>,
}

/// Unwraps `lookup-events` output into `{"Records": [...]}`. An event whose
/// `CloudTrailEvent` is missing or not a JSON object stays in the list as
/// a string saying so, so that it is one bad record, named by its place.
fn lookup_events(path: &Path, bytes: &[u8]) -> Contents {
    let mut text = Vec::with_capacity(bytes.len());
    text.extend_from_slice(b"{\"Records\":[");
    let mut events = 0usize;
    let mut add = |e: &LookupEvent<'_>| {
        if events > 0 {
            text.push(b',');
        }
        events += 1;
        let record = e.record.as_deref().map(str::trim);
        match record.map(|r| (r, serde_json::from_str::<&RawValue>(r))) {
            Some((r, Ok(_))) if r.starts_with('{') => text.extend_from_slice(r.as_bytes()),
            Some((_, Err(err))) => {
                let why = format!("`CloudTrailEvent` is not JSON: {err}");
                text.extend(serde_json::to_vec(&why).unwrap_or_default());
            }
            Some(_) => text.extend_from_slice(b"\"`CloudTrailEvent` is not a JSON object\""),
            None => text.extend_from_slice(b"\"no `CloudTrailEvent` in this event\""),
        }
    };
    let mut broken = None;
    let mut fail = |at: String, message: String| {
        broken = Some(Problem {
            file: path.to_path_buf(),
            location: at,
            message,
        });
    };
    let mut add_item = |item: &LookupItem<'_>| match item {
        LookupItem::Page { events } => events.iter().for_each(&mut add),
        LookupItem::Event(e) => add(e),
    };
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    if start.is_some_and(|s| bytes[s] == b'[') {
        match serde_json::from_slice::<Vec<LookupItem>>(bytes) {
            Ok(items) => items.iter().for_each(&mut add_item),
            Err(e) => fail(
                format!("line {}, column {}", e.line(), e.column()),
                format!("not LookupEvents output: {e}"),
            ),
        }
    } else {
        let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<LookupItem>();
        loop {
            let offset = stream.byte_offset();
            match stream.next() {
                None => break,
                Some(Ok(item)) => add_item(&item),
                Some(Err(e)) => {
                    fail(
                        format!("byte {offset}"),
                        format!("not a page of LookupEvents output: {e}; the rest of the file is not read"),
                    );
                    break;
                }
            }
        }
    }
    text.extend_from_slice(b"]}");
    Contents::LookupEvents {
        text,
        events,
        broken,
    }
}

/// Everything a file's reading hands over, both ways: each record (as its
/// debug text, which shows every field), the problems and the counts. The
/// differential checks (unit tests, the fuzz target) compare the two.
#[doc(hidden)]
pub fn read_both_ways(text: &[u8]) -> [(Vec<String>, Vec<Problem>, FileCount); 2] {
    [Way::Fast, Way::SerdeOnly].map(|way| {
        let mut seen = Vec::new();
        let mut problems = Vec::new();
        let n = read_records(
            Path::new("f.json"),
            text,
            |i, r| seen.push(format!("{i} {r:?}")),
            &mut problems,
            way,
        );
        (seen, problems, n)
    })
}

/// Problems named per file before the rest are only counted.
pub const MAX_PROBLEMS_PER_FILE: usize = 20;

/// What reading one file found. `records` is every record the file was
/// seen to hold: each was either handed over or is one of `bad_records`.
/// A file that breaks off (`broken`) counts the records before the break
/// and no more: what follows cannot be told apart into records, and none is
/// invented for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileCount {
    pub records: usize,
    /// Records that could not be parsed, and were not handed over.
    pub bad_records: usize,
    /// The file is not readable to its end (or not a log file at all).
    pub broken: bool,
}

/// Calls `visit` for each record of an in-memory log file, in order. Bad
/// records and files are pushed to `problems` (named by file and record index
/// or byte offset) and skipped. Returns what the file was found to hold.
pub fn for_each_record<'b>(
    path: &Path,
    bytes: &'b [u8],
    visit: impl FnMut(usize, RawRecord<'b>),
    problems: &mut Vec<Problem>,
) -> FileCount {
    read_records(path, bytes, visit, problems, Way::Fast)
}

/// Whether to try the hand-written parser (`scan`) first. Only the
/// differential checks (tests, fuzzing) read files the serde way alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    Fast,
    SerdeOnly,
}

/// Whether a problem is one bad record, or the file's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Record,
    File,
}

/// [`for_each_record`], with the choice of parser; see [`Way`].
pub fn read_records<'b>(
    path: &Path,
    bytes: &'b [u8],
    mut visit: impl FnMut(usize, RawRecord<'b>),
    problems: &mut Vec<Problem>,
    way: Way,
) -> FileCount {
    // A file of random bytes would otherwise name every line: the first
    // problems are named, the rest counted (every skipped record is still
    // in the coverage counts).
    let mut reported = 0usize;
    let mut bad_records = 0usize;
    let mut broken = false;
    let mut report = |level: Level, location: String, message: String| {
        match level {
            Level::Record => bad_records += 1,
            Level::File => broken = true,
        }
        reported += 1;
        if reported <= MAX_PROBLEMS_PER_FILE {
            problems.push(Problem {
                file: path.to_path_buf(),
                location,
                message,
            });
        } else if reported == MAX_PROBLEMS_PER_FILE + 1 {
            problems.push(Problem {
                file: path.to_path_buf(),
                location: "after".into(),
                message: format!(
                    "more than {MAX_PROBLEMS_PER_FILE} problems in this file: the rest are counted, not listed"
                ),
            });
        }
    };
    let records = read_values(bytes, &mut visit, &mut report, way);
    FileCount {
        records,
        bad_records,
        broken,
    }
}

/// The reading proper: returns how many records the file holds.
fn read_values<'b>(
    bytes: &'b [u8],
    visit: &mut impl FnMut(usize, RawRecord<'b>),
    report: &mut impl FnMut(Level, String, String),
    way: Way,
) -> usize {
    let Some(start) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return 0;
    };
    // Well-formed files (nearly all) in one pass, by `scan` or else serde;
    // anything else goes the value-by-value way below, which names each bad
    // record. UTF-8 is checked once for the whole file, not string by string.
    let mut done = 0usize;
    if let (b'{' | b'[', Ok(text)) = (bytes[start], std::str::from_utf8(bytes)) {
        if way == Way::Fast {
            match scan::records(text, visit) {
                Ok(n) => return n,
                // serde reads on from the first record not handed over.
                Err(seen) => done = seen,
            }
        }
        let skip = done;
        let mut rest = |i: usize, r: RawRecord<'b>| {
            if i >= skip {
                visit(i, r);
            }
        };
        let mut s = Streamer {
            visit: &mut rest,
            seen: 0,
            found: false,
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let whole = serde::Deserializer::deserialize_any(&mut de, &mut s)
            .and_then(|()| de.end())
            .is_ok();
        if whole && s.found {
            return s.seen;
        }
        // Something is wrong (or this is one record, not a file of them):
        // go the careful way, skipping the records already visited.
        done = s.seen.max(done);
    }
    if bytes[start] == b'[' {
        return match serde_json::from_slice::<Vec<&'b RawValue>>(bytes) {
            Ok(items) => {
                for (i, raw) in items.iter().enumerate().skip(done) {
                    parse_one(i, raw, visit, report);
                }
                items.len()
            }
            Err(e) => {
                report(
                    Level::File,
                    format!("line {}, column {}", e.line(), e.column()),
                    format!("not a JSON array of records: {e}"),
                );
                // The records before the break were read and still count.
                done
            }
        };
    }
    // One or more top-level objects: an S3 envelope, or NDJSON / one record.
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<&'b RawValue>();
    let mut n = 0usize;
    let mut first = true;
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(raw)) => {
                if first {
                    first = false;
                    match serde_json::from_str::<Envelope<'b>>(raw.get()) {
                        Ok(Envelope {
                            records: Some(recs),
                        }) => {
                            for (i, r) in recs.iter().enumerate().skip(done) {
                                parse_one(i, r, visit, report);
                            }
                            n += recs.len();
                            continue;
                        }
                        Ok(Envelope { records: None }) => {}
                        Err(e) => {
                            report(
                                Level::File,
                                "$.Records".into(),
                                format!("`Records` is not a list of objects: {e}"),
                            );
                            continue;
                        }
                    }
                }
                parse_one(n, raw, visit, report);
                n += 1;
            }
            Some(Err(e)) => {
                // `offset` is where the previous value ended; the broken one
                // starts after the whitespace that follows it.
                let start = offset
                    + bytes[offset..]
                        .iter()
                        .position(|b| !b.is_ascii_whitespace())
                        .unwrap_or(0);
                let line_end = bytes[start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map(|nl| start + nl);
                // A value that breaks off within its first line, followed by
                // a line that is a JSON value (or by nothing), is one bad
                // line of NDJSON: the lines after it are records. Anything
                // else (an envelope, a pretty-printed record, a file cut
                // short) cannot be split into records: the file is broken,
                // and only the records before the break count.
                let envelope = matches!(first_key(&bytes[start..]), Some((false, b"Records")));
                let ndjson_line = (!envelope && (!first || done == 0))
                    .then_some(line_end)
                    .flatten()
                    .filter(|&end| serde_json::from_slice::<&RawValue>(&bytes[start..end]).is_err())
                    .filter(|&end| {
                        let next = bytes[end + 1..]
                            .split(|&b| b == b'\n')
                            .find(|l| !l.iter().all(u8::is_ascii_whitespace));
                        next.is_none_or(|l| {
                            l.trim_ascii_start().first() == Some(&b'{')
                                && serde_json::from_slice::<&RawValue>(l).is_ok()
                        })
                    });
                let Some(end) = ndjson_line else {
                    report(
                        Level::File,
                        format!("byte {start}"),
                        format!("invalid JSON: {e}; the rest of the file is not read"),
                    );
                    if first {
                        // A broken envelope: the records before the break
                        // were read in the first pass and still count.
                        n += done;
                    }
                    break;
                };
                report(
                    Level::Record,
                    format!("byte {start}"),
                    format!("invalid JSON: {e}"),
                );
                n += 1;
                // The stream cannot resync inside a broken value: go on line by
                // line after the broken line, as NDJSON allows.
                let base = end + 1;
                let mut pos = base;
                for line in bytes[base..].split(|&b| b == b'\n') {
                    let here = pos;
                    pos += line.len() + 1;
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match serde_json::from_slice::<RawRecord<'b>>(line) {
                        Ok(r) => visit(n, r),
                        Err(e) => report(
                            Level::Record,
                            format!("byte {here}"),
                            format!("invalid record: {e}"),
                        ),
                    }
                    n += 1;
                }
                break;
            }
        }
    }
    n
}

fn parse_one<'b>(
    i: usize,
    raw: &'b RawValue,
    visit: &mut impl FnMut(usize, RawRecord<'b>),
    report: &mut impl FnMut(Level, String, String),
) {
    match serde_json::from_str::<RawRecord<'b>>(raw.get()) {
        Ok(r) => visit(i, r),
        Err(e) => report(Level::Record, format!("record {i}"), e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(bytes: &[u8]) -> (Vec<String>, Vec<Problem>) {
        let mut names = Vec::new();
        let mut problems = Vec::new();
        for_each_record(
            Path::new("f.json"),
            bytes,
            |_, r| names.push(r.event_name.map(|c| c.into_owned()).unwrap_or_default()),
            &mut problems,
        );
        (names, problems)
    }

    #[test]
    fn envelope_array_ndjson() {
        let (n, p) = collect(br#"{"Records":[{"eventName":"A"},{"eventName":"B"}]}"#);
        assert_eq!(n, ["A", "B"]);
        assert!(p.is_empty());
        let (n, _) = collect(br#"[{"eventName":"A"}]"#);
        assert_eq!(n, ["A"]);
        let (n, _) = collect(b"{\"eventName\":\"A\"}\n{\"eventName\":\"B\"}\n");
        assert_eq!(n, ["A", "B"]);
    }

    #[test]
    fn bad_records_are_named_and_skipped() {
        let (n, p) =
            collect(br#"{"Records":[{"eventName":"A"},{"eventName":7},{"eventName":"C"}]}"#);
        assert_eq!(n, ["A", "C"]);
        assert_eq!(p[0].location, "record 1");
        let (n, p) = collect(b"{\"eventName\":\"A\"}\n{broken\n{\"eventName\":\"C\"}\n");
        assert_eq!(n, ["A", "C"]);
        assert!(p[0].location.starts_with("byte "), "{:?}", p);
        let (_, p) = collect(br#"{"Records":5}"#);
        assert!(p[0].message.contains("Records"));
    }

    #[test]
    fn escaped_strings_are_owned() {
        let (n, _) = collect(br#"[{"eventName":"A\u0042"}]"#);
        assert_eq!(n, ["AB"]);
    }

    /// Concatenated gzip members (as `cat a.gz b.gz` makes) decode whole; a
    /// cut-off stream is an error, not a shorter file.
    #[test]
    fn gzip_members_decode_whole_and_truncation_is_an_error() {
        use std::io::Write;
        let gz = |text: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(text).unwrap();
            e.finish().unwrap()
        };
        let mut two = gz(b"[{\"eventName\":\"A\"},");
        let first = two.len();
        two.extend(gz(b"{\"eventName\":\"B\"}]"));
        let text = decode_log_bytes(two.clone()).unwrap();
        assert_eq!(collect(&text).0, ["A", "B"]);
        // Cut anywhere (in a header, the data or a trailer) but between
        // the members, it is an error.
        for cut in (2..two.len()).filter(|&c| c != first) {
            let err = decode_log_bytes(two[..cut].to_vec()).unwrap_err();
            assert!(err.starts_with("gzip: "), "{cut}: {err}");
        }
        let mut trailing = two.clone();
        trailing.extend(b"garbage");
        assert!(decode_log_bytes(trailing).is_err());
        assert_eq!(decode_log_bytes(b"[]".to_vec()).unwrap(), b"[]");
        // Optional header fields (a file name, extra data, a comment); a
        // large member, whose output grows past its first allocation.
        let big: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut e = flate2::GzBuilder::new()
            .filename("CloudTrail.json")
            .extra(vec![1, 2, 3])
            .comment("c")
            .write(Vec::new(), flate2::Compression::best());
        e.write_all(&big).unwrap();
        let mut named = e.finish().unwrap();
        // A lying size in the trailer is caught by zlib's length check.
        assert_eq!(decode_log_bytes(named.clone()).unwrap(), big);
        let n = named.len();
        named[n - 1] ^= 1;
        assert!(decode_log_bytes(named).is_err());
    }

    /// Every string field borrows from the text (the ingestion's caches are
    /// keyed by the borrowed text), unless it has escapes; null and missing
    /// fields are `None`.
    #[test]
    fn string_fields_borrow_from_the_text() {
        let text = br#"[{"eventID":"e","eventTime":"t","eventSource":"s","eventName":"n",
            "awsRegion":"r","errorCode":"c","eventType":"y","eventCategory":"g",
            "recipientAccountId":"a","userIdentity":{"type":"k","arn":"x",
            "principalId":"p","accountId":"a","userName":"u","invokedBy":"i",
            "sessionContext":{"sourceIdentity":"si","sessionIssuer":{"type":"k",
            "arn":"x","userName":"u"}}},"resources":[{"ARN":"x","type":"k"}]},
            {"eventName":"A\u0042","errorCode":null}]"#;
        // Both parsers: serde reads what the fast path leaves, and the
        // ingestion's caches need its strings borrowed too.
        let mut checked = 0;
        for way in [Way::Fast, Way::SerdeOnly] {
            read_records(
                Path::new("f.json"),
                text,
                |i, r| {
                    let id = r.user_identity.as_ref();
                    let session = id.and_then(|i| i.session_context.as_ref());
                    let issuer = session.and_then(|s| s.session_issuer.as_ref());
                    let resource = r.resources.as_ref().and_then(|v| v.first());
                    let fields = [
                        &r.event_id,
                        &r.event_time,
                        &r.event_source,
                        &r.event_name,
                        &r.aws_region,
                        &r.error_code,
                        &r.event_type,
                        &r.event_category,
                        &r.recipient_account_id,
                    ];
                    if i == 1 {
                        assert!(matches!(&r.event_name, Some(Cow::Owned(s)) if s == "AB"));
                        assert!(r.error_code.is_none() && r.event_id.is_none());
                        checked += 1;
                        return;
                    }
                    let nested = [
                        id.map(|i| &i.kind),
                        id.map(|i| &i.arn),
                        id.map(|i| &i.principal_id),
                        id.map(|i| &i.account_id),
                        id.map(|i| &i.user_name),
                        id.map(|i| &i.invoked_by),
                        session.map(|s| &s.source_identity),
                        issuer.map(|s| &s.kind),
                        issuer.map(|s| &s.arn),
                        issuer.map(|s| &s.user_name),
                        resource.map(|s| &s.arn),
                        resource.map(|s| &s.kind),
                    ];
                    for f in fields.into_iter().map(Some).chain(nested) {
                        assert!(matches!(f, Some(Some(Cow::Borrowed(_)))), "{f:?}");
                    }
                    checked += 1;
                },
                &mut Vec::new(),
                way,
            );
        }
        assert_eq!(checked, 4);
    }
}

#[cfg(test)]
mod one_pass {
    use super::*;

    fn run(text: &str) -> (Vec<(usize, String)>, Vec<Problem>, usize) {
        let (seen, problems, count) = run_counted(text);
        (seen, problems, count.records)
    }

    fn run_counted(text: &str) -> (Vec<(usize, String)>, Vec<Problem>, FileCount) {
        let mut seen = Vec::new();
        let mut problems = Vec::new();
        let n = for_each_record(
            Path::new("f.json"),
            text.as_bytes(),
            |i, r| seen.push((i, r.event_name.map(|c| c.into_owned()).unwrap_or_default())),
            &mut problems,
        );
        (seen, problems, n)
    }

    /// Every record counted is handed over or counted bad, and a broken
    /// file invents none: regression of a pretty-printed two-record file
    /// with a broken second record, once counted as 77 records (each line
    /// after the break one "record"), most of them in no bucket.
    #[test]
    fn a_broken_pretty_printed_file_invents_no_records() {
        let good = serde_json::json!({"eventName": "A", "eventSource": "s3.amazonaws.com",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/u"}});
        let mut text =
            serde_json::to_string_pretty(&serde_json::json!({"Records": [good, good]})).unwrap();
        // Break the second record in the middle.
        let at = text.rfind("\"eventSource\"").unwrap();
        text.insert_str(at, "}}} oops ");
        let (seen, problems, count) = run_counted(&text);
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(count.records, 1);
        assert_eq!(count.bad_records, 0);
        assert!(count.broken);
        assert_eq!(problems.len(), 1, "{problems:?}");
        // NDJSON with a bad line: that line is one bad record, the rest read.
        let (seen, _, count) = run_counted("{\"eventName\":\"A\"}\n{bad\n{\"eventName\":\"C\"}\n");
        assert_eq!(seen.len(), 2);
        assert_eq!(
            count,
            FileCount {
                records: 3,
                bad_records: 1,
                broken: false
            }
        );
        // More bad records than are named: all are counted.
        let many: String = (0..50).map(|_| "{\"eventName\": 5}\n").collect();
        let (_, problems, count) = run_counted(&many);
        assert_eq!(count.bad_records, 50);
        assert_eq!(count.records, 50);
        assert_eq!(problems.len(), MAX_PROBLEMS_PER_FILE + 1);
    }

    #[test]
    fn lookup_events_output_is_unwrapped_into_records() {
        let event = |id: &str| {
            let record = serde_json::json!({"eventVersion": "1.11", "eventID": id,
                "eventTime": "2026-03-02T11:00:00Z", "eventSource": "iam.amazonaws.com",
                "eventName": "ListUsers", "recipientAccountId": "111122223333"});
            serde_json::json!({"EventId": id, "EventName": "ListUsers", "ReadOnly": "true",
                "EventTime": "2026-03-02T11:00:00+00:00", "EventSource": "iam.amazonaws.com",
                "Resources": [], "CloudTrailEvent": record.to_string()})
        };
        let page = |ids: &[&str]| {
            serde_json::json!({"Events": ids.iter().map(|i| event(i)).collect::<Vec<_>>(),
                "NextToken": "eyJ4Ijp0cnVlfQ=="})
            .to_string()
        };
        let ids = |c: &Contents| -> Vec<String> {
            let Contents::LookupEvents { text, .. } = c else {
                panic!("not lookup-events: {c:?}");
            };
            let (seen, problems, _) = run(std::str::from_utf8(text).unwrap());
            assert!(problems.is_empty(), "{problems:?}");
            seen.into_iter().map(|(_, n)| n).collect()
        };
        let path = Path::new("lookup.json");
        let one = contents(path, page(&["a", "b"]).into_bytes());
        assert_eq!(ids(&one), ["ListUsers", "ListUsers"]);
        // Pages one after another, as `--no-paginate` loops write them.
        let two = format!("{}\n{}", page(&["a"]), page(&["b", "c"]));
        assert_eq!(ids(&contents(path, two.into_bytes())).len(), 3);
        // Pages in an array, and the events alone in an array.
        let arr = format!("[{},{}]", page(&["a"]), page(&["b"]));
        assert_eq!(ids(&contents(path, arr.into_bytes())).len(), 2);
        let events = serde_json::json!([event("a"), event("b")]).to_string();
        assert_eq!(ids(&contents(path, events.into_bytes())).len(), 2);
        // An event whose CloudTrailEvent is not a record is one bad record.
        let bad = r#"{"Events":[{"EventId":"x","CloudTrailEvent":"{not json"}]}"#;
        let Contents::LookupEvents { text, events, .. } = contents(path, bad.into()) else {
            panic!("not lookup-events");
        };
        assert_eq!(events, 1);
        let (seen, problems, count) = run_counted(std::str::from_utf8(&text).unwrap());
        assert!(seen.is_empty());
        assert_eq!((count.records, count.bad_records), (1, 1));
        assert!(
            problems[0].message.contains("CloudTrailEvent"),
            "{problems:?}"
        );
        // S3's files and NDJSON are handed back as they are.
        let s3 = br#"{"Records":[]}"#.to_vec();
        assert_eq!(contents(path, s3.clone()), Contents::Records(s3));
        let nd = b"{\"eventVersion\":\"1\"}\n".to_vec();
        assert_eq!(contents(path, nd.clone()), Contents::Records(nd));
    }

    #[test]
    fn digests_are_recognized_by_their_content() {
        let digest = r#"{"awsAccountId":"111122223333","digestStartTime":"2026-03-02T10:00:00Z",
            "digestEndTime":"2026-03-02T11:00:00Z","digestS3Bucket":"b","digestS3Object":"o",
            "newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,
            "previousDigestHashValue":null,"logFiles":[]}"#;
        assert_eq!(
            contents(Path::new("renamed.json"), digest.into()),
            Contents::Digest
        );
        let not = r#"{"awsAccountId":"1","logFiles":[],"Records":[]}"#;
        assert!(matches!(
            contents(Path::new("x.json"), not.into()),
            Contents::Records(_)
        ));
    }

    #[test]
    fn a_bad_record_half_way_is_named_and_no_record_is_read_twice() {
        let (seen, problems, n) = run(
            r#"{"Records": [{"eventName": "A"}, {"eventName": "B"}, {"eventName": 5}, {"eventName": "D"}]}"#,
        );
        let names: Vec<_> = seen.iter().map(|(i, n)| format!("{i}{n}")).collect();
        assert_eq!(names, ["0A", "1B", "3D"]);
        assert_eq!(n, 4);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].location, "record 2");
    }

    #[test]
    fn a_truncated_file_keeps_the_records_before_the_break() {
        let (seen, problems, n) =
            run(r#"{"Records": [{"eventName": "A"}, {"eventName": "B"}, {"eventNa"#);
        let names: Vec<_> = seen.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(n, 2, "two read; the broken rest is not a record");
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (seen, problems, n) = run(r#"[{"eventName": "A"}, {"eventName": "B"}, {"even"#);
        assert_eq!(seen.len(), 2);
        assert_eq!(n, 2);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn escaped_keys_and_extra_fields_are_read_in_one_pass() {
        let (seen, problems, n) = run(
            r#"{"Extra": {"x": [1, 2]}, "Rec\u006frds": [{"eventName": "A\u0042", "x": null}], "After": 1}"#,
        );
        assert_eq!(seen, [(0, "AB".to_string())]);
        assert!(problems.is_empty());
        assert_eq!(n, 1);
    }
}
