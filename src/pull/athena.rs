//! Organization scale: the events are aggregated by Amazon Athena where the
//! trail bucket is, and only aggregated rows (principals × events, never
//! single events) come back to feed the activity store.
//!
//! The table is a CloudTrail table with partition projection over
//! `AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/` (no crawler, no
//! `MSCK REPAIR`; the partitions are `account`, `region` and `day`, none of
//! them a reserved word); its name carries a hash of its location and partitions, so
//! a table made for another bucket or account list is never reused by mistake.
//! The query groups by account, principal, end user (`sourceIdentity`),
//! calling service, event and error, with counts, first and last times, and
//! the records' resource ARNs (`resources` field): up to
//! [`ATHENA_RESOURCES`] distinct ones, their exact number, and their distinct
//! prefixes (cut after the third `/` or `:` of the resource), which cover
//! them when there are more. Request
//! parameters are never selected: Athena writes results to S3, and they may
//! hold secrets.

use super::manifest::Gap;
use super::{PullError, PullOptions};
use crate::usage::activity::{Activity, Occurrence};
use crate::usage::fold::{fold, Call};
use crate::usage::mapping::EventMapper;
use std::collections::BTreeMap;
use std::time::Duration;

/// Every AWS Region a trail may deliver from: the region partition's values.
/// A Region with no logs costs nothing (projection only lists what exists).
const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// The distinct resource ARNs (the smallest) and prefixes a row returns.
/// Up to this many, a row names all its resources, and the activity's
/// resource summary is the one the log files would give; beyond it, the
/// prefixes stand in for them (covering, and coarser); beyond that too, the
/// summary is incomplete and `recommend` keeps today's grant.
pub const ATHENA_RESOURCES: usize = 1000;
/// The depth (delimiters of the resource part) of the prefixes a row returns.
const PREFIX_DEPTH: usize = 3;

/// Knobs of the Athena path (`pull --athena`).
#[derive(Clone, Debug)]
pub struct AthenaOptions {
    pub database: String,
    /// `None`: `cloudtrail_` and a hash of the table's location and partitions.
    pub table: Option<String>,
    pub workgroup: Option<String>,
    /// `s3://bucket/prefix/` for query results, unless the workgroup sets one.
    pub output: Option<String>,
    /// Use an existing table: no `CREATE DATABASE` / `CREATE TABLE`.
    pub no_ddl: bool,
    /// Give up on a query after this long.
    pub timeout: Duration,
}

/// Where the logs are and which partitions the table projects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    pub database: String,
    pub table: String,
    pub bucket: String,
    /// The trail's prefix (before `AWSLogs/`), without slashes at either end.
    pub prefix: String,
    /// `o-...` for an organization trail's layout.
    pub org: Option<String>,
    pub accounts: Vec<String>,
}

fn check_name(what: &str, name: &str) -> Result<(), PullError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(PullError::Usage(format!(
            "Athena {what} `{name}`: use lowercase letters, digits and `_` only"
        )))
    }
}

/// A SQL string literal: CloudTrail values never need more than quote doubling.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl TableSpec {
    /// Validates the parts that are written into SQL.
    pub fn new(
        database: &str,
        table: Option<&str>,
        bucket: &str,
        prefix: &str,
        org: Option<&str>,
        accounts: &[String],
    ) -> Result<TableSpec, PullError> {
        check_name("database", database)?;
        let safe = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.!*()/".contains(c))
        };
        if bucket.is_empty() || !safe(bucket) || bucket.contains('/') || !safe(prefix) {
            return Err(PullError::Usage(format!(
                "trail bucket `s3://{bucket}/{prefix}` has characters Athena locations do not take"
            )));
        }
        if let Some(o) = org {
            if !o.starts_with("o-") || !o[2..].chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(PullError::Usage(format!("`{o}` is not an organization id")));
            }
        }
        for a in accounts {
            if a.len() != 12 || !a.chars().all(|c| c.is_ascii_digit()) {
                return Err(PullError::Usage(format!("`{a}` is not an account id")));
            }
        }
        let mut accounts = accounts.to_vec();
        accounts.sort();
        accounts.dedup();
        let mut spec = TableSpec {
            database: database.to_string(),
            table: String::new(),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            org: org.map(str::to_string),
            accounts,
        };
        spec.table = match table {
            Some(t) => {
                check_name("table", t)?;
                t.to_string()
            }
            None => {
                use sha2::{Digest, Sha256};
                let h = Sha256::digest(spec.location_template().as_bytes());
                let h2 = Sha256::digest(spec.accounts.join(",").as_bytes());
                format!(
                    "cloudtrail_{}{}",
                    h.iter()
                        .take(4)
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>(),
                    h2.iter()
                        .take(2)
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                )
            }
        };
        Ok(spec)
    }

    fn base(&self) -> String {
        let mut s = format!("s3://{}/", self.bucket);
        if !self.prefix.is_empty() {
            s.push_str(&self.prefix);
            s.push('/');
        }
        s.push_str("AWSLogs/");
        if let Some(o) = &self.org {
            s.push_str(o);
            s.push('/');
        }
        s
    }

    fn location_template(&self) -> String {
        format!(
            "{}${{account}}/CloudTrail/${{region}}/${{day}}",
            self.base()
        )
    }

    /// `CREATE DATABASE IF NOT EXISTS`.
    pub fn create_database_sql(&self) -> String {
        format!("CREATE DATABASE IF NOT EXISTS {}", self.database)
    }

    /// The CloudTrail table (the column layout of the AWS documentation's
    /// CloudTrail table), with projected `account`, `region` and `day`.
    pub fn create_table_sql(&self) -> String {
        format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS {db}.{table} (
    eventversion STRING,
    useridentity STRUCT<
        type: STRING,
        principalid: STRING,
        arn: STRING,
        accountid: STRING,
        invokedby: STRING,
        accesskeyid: STRING,
        username: STRING,
        onbehalfof: STRUCT<userid: STRING, identitystorearn: STRING>,
        sessioncontext: STRUCT<
            attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,
            sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, username: STRING>,
            ec2roledelivery: STRING,
            webidfederationdata: STRUCT<federatedprovider: STRING, attributes: MAP<STRING, STRING>>,
            sourceidentity: STRING>>,
    eventtime STRING,
    eventsource STRING,
    eventname STRING,
    awsregion STRING,
    sourceipaddress STRING,
    useragent STRING,
    errorcode STRING,
    errormessage STRING,
    requestparameters STRING,
    responseelements STRING,
    additionaleventdata STRING,
    requestid STRING,
    eventid STRING,
    readonly STRING,
    resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>,
    eventtype STRING,
    apiversion STRING,
    recipientaccountid STRING,
    serviceeventdetails STRING,
    sharedeventid STRING,
    vpcendpointid STRING,
    eventcategory STRING,
    managementevent STRING)
PARTITIONED BY (account STRING, region STRING, day STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION {location}
TBLPROPERTIES (
    'projection.enabled' = 'true',
    'projection.account.type' = 'enum',
    'projection.account.values' = {accounts},
    'projection.region.type' = 'enum',
    'projection.region.values' = {regions},
    'projection.day.type' = 'date',
    'projection.day.format' = 'yyyy/MM/dd',
    'projection.day.range' = '2013/01/01,NOW',
    'projection.day.interval' = '1',
    'projection.day.interval.unit' = 'DAYS',
    'storage.location.template' = {template},
    'classification' = 'cloudtrail')",
            db = self.database,
            table = self.table,
            location = lit(&self.base()),
            accounts = lit(&self.accounts.join(",")),
            regions = lit(&REGIONS.join(",")),
            template = lit(&self.location_template()),
        )
    }

    fn accounts_sql(&self) -> String {
        self.accounts
            .iter()
            .map(|a| lit(a))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One aggregation query for the window: only the day partitions of the
    /// window (and the day after, for late delivery) are read.
    pub fn aggregation_sql(&self, since: i64, until: i64) -> String {
        let accounts = self.accounts_sql();
        format!(
            "SELECT
    account,
    useridentity.type AS identity_type,
    CASE WHEN useridentity.type = 'AssumedRole'
        THEN COALESCE(useridentity.sessioncontext.sessionissuer.arn,
            regexp_replace(useridentity.arn,
                '^arn:([^:]+):sts::([0-9]+):assumed-role/([^/]+)/.*$',
                'arn:$1:iam::$2:role/$3'))
        WHEN useridentity.type = 'FederatedUser'
            AND useridentity.sessioncontext.sessionissuer.type IN ('IAMUser', 'Root')
        THEN useridentity.sessioncontext.sessionissuer.arn
        ELSE useridentity.arn END AS principal,
    useridentity.username AS user_name,
    useridentity.principalid AS principal_id,
    useridentity.accountid AS identity_account,
    useridentity.invokedby AS invoked_by,
    useridentity.sessioncontext.sourceidentity AS source_identity,
    eventsource AS event_source,
    eventname AS event_name,
    errorcode AS error_code,
    count(DISTINCT eventid) AS events,
    min(eventtime) AS first_seen,
    max(eventtime) AS last_seen,
    array_join(slice(array_sort(array_distinct(flatten(array_agg({arns})))), 1, {cap}), ' ') AS resources,
    cardinality(array_distinct(flatten(array_agg({arns})))) AS resources_distinct,
    array_join(slice(array_sort(array_distinct(flatten(array_agg(
        transform({arns}, a -> {prefix}))))), 1, {cap}), ' ') AS resource_prefixes,
    cardinality(array_distinct(flatten(array_agg(
        transform({arns}, a -> {prefix}))))) AS resource_prefixes_distinct
FROM {db}.{table}
WHERE account IN ({accounts})
    AND day BETWEEN {first_day} AND {last_day}
    AND eventtime >= {since}
    AND eventtime <= {until}
    AND COALESCE(eventtype, '') <> 'AwsCloudTrailInsight'
    AND NOT (COALESCE(eventtype, '') = 'AwsVpceEvent'
        AND COALESCE(errorcode, '') <> 'VpceAccessDenied')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11",
            cap = ATHENA_RESOURCES,
            prefix = prefix_sql(),
            arns = "COALESCE(filter(transform(resources, r -> r.arn), a -> a IS NOT NULL), \
                CAST(ARRAY[] AS ARRAY(VARCHAR)))",
            db = self.database,
            table = self.table,
            first_day = lit(&day(since)),
            last_day = lit(&day(until + 86_400)),
            since = lit(&stamp(since)),
            until = lit(&stamp(until)),
        )
    }

    /// The links query: one row per successful `AssumeRole*` call that
    /// issued a key, from [`LINKS_LOOKBACK`] before the window (a key issued
    /// then still signs calls in it). Named JSON paths only: the request's
    /// `externalId`, `tokenCode` and `policy` and the response's
    /// `sessionToken` never leave the table (Athena writes results to S3).
    pub fn links_sql(&self, since: i64, until: i64) -> String {
        let from = since - LINKS_LOOKBACK;
        let req = |path: &str| format!("json_extract_scalar(requestparameters, '$.{path}')");
        let req_json =
            |path: &str| format!("json_format(json_extract(requestparameters, '$.{path}'))");
        let resp = |path: &str| format!("json_extract_scalar(responseelements, '$.{path}')");
        format!(
            "SELECT
    account,
    eventtime AS event_time,
    eventname AS event_name,
    recipientaccountid AS recipient_account,
    sharedeventid AS shared_event_id,
    useridentity.type AS caller_type,
    useridentity.arn AS caller_arn,
    useridentity.accountid AS caller_account,
    useridentity.principalid AS caller_principal_id,
    useridentity.username AS caller_user_name,
    useridentity.accesskeyid AS caller_key,
    useridentity.sessioncontext.sessionissuer.arn AS caller_issuer,
    useridentity.invokedby AS caller_invoked_by,
    {role_arn} AS role_arn,
    {session_name} AS role_session_name,
    {req_si} AS request_source_identity,
    {tags} AS tags,
    {transitive} AS transitive_tag_keys,
    {incoming} AS incoming_transitive_tags,
    {principal_tags} AS principal_tags,
    {issued} AS issued_key,
    {assumed} AS assumed_role_arn,
    {resp_si} AS response_source_identity,
    {subject} AS subject,
    {web_subject} AS web_identity_subject,
    {provider} AS provider
FROM {db}.{table}
WHERE account IN ({accounts})
    AND day BETWEEN {first_day} AND {last_day}
    AND eventtime >= {since}
    AND eventtime <= {until}
    AND eventsource = 'sts.amazonaws.com'
    AND eventname LIKE 'AssumeRole%'
    AND COALESCE(errorcode, '') = ''
    AND {issued} IS NOT NULL",
            role_arn = req("roleArn"),
            session_name = req("roleSessionName"),
            req_si = req("sourceIdentity"),
            tags = req_json("tags"),
            transitive = req_json("transitiveTagKeys"),
            incoming = req_json("incomingTransitiveTags"),
            principal_tags = req_json("principalTags"),
            issued = resp("credentials.accessKeyId"),
            assumed = resp("assumedRoleUser.arn"),
            resp_si = resp("sourceIdentity"),
            subject = resp("subject"),
            web_subject = resp("subjectFromWebIdentityToken"),
            provider = resp("provider"),
            db = self.database,
            table = self.table,
            accounts = self.accounts_sql(),
            first_day = lit(&day(from)),
            last_day = lit(&day(until + 86_400)),
            since = lit(&stamp(from)),
            until = lit(&stamp(until)),
        )
    }

    /// The uses query: what each role session (by the access key its calls
    /// were signed with) did in the window, one row per session × event ×
    /// error code, as the session chains keep it.
    pub fn uses_sql(&self, since: i64, until: i64) -> String {
        format!(
            "SELECT
    account,
    useridentity.accesskeyid AS access_key,
    useridentity.arn AS session_arn,
    useridentity.sessioncontext.sessionissuer.arn AS issuer,
    useridentity.sessioncontext.sourceidentity AS source_identity,
    useridentity.onbehalfof.userid AS on_behalf_of_user,
    useridentity.onbehalfof.identitystorearn AS identity_store,
    eventsource AS event_source,
    eventname AS event_name,
    errorcode AS error_code,
    count(DISTINCT eventid) AS events,
    min(eventtime) AS first_seen,
    max(eventtime) AS last_seen
FROM {db}.{table}
WHERE account IN ({accounts})
    AND day BETWEEN {first_day} AND {last_day}
    AND eventtime >= {since}
    AND eventtime <= {until}
    AND useridentity.type = 'AssumedRole'
    AND COALESCE(useridentity.accesskeyid, '') <> ''
    AND COALESCE(eventtype, '') NOT IN ('AwsCloudTrailInsight', 'AwsConsoleSignIn')
    AND NOT (COALESCE(eventtype, '') = 'AwsVpceEvent'
        AND COALESCE(errorcode, '') <> 'VpceAccessDenied')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
            db = self.database,
            table = self.table,
            accounts = self.accounts_sql(),
            first_day = lit(&day(since)),
            last_day = lit(&day(until + 86_400)),
            since = lit(&stamp(since)),
            until = lit(&stamp(until)),
        )
    }
}

/// How long before the window the links query reads: the longest role
/// session (12 hours, `MaxSessionDuration`).
pub const LINKS_LOOKBACK: i64 = 12 * 3600;

fn day(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y/%m/%d").to_string())
        .unwrap_or_default()
}

fn stamp(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The links query's result columns.
pub const LINK_COLUMNS: &[&str] = &[
    "account",
    "event_time",
    "event_name",
    "recipient_account",
    "shared_event_id",
    "caller_type",
    "caller_arn",
    "caller_account",
    "caller_principal_id",
    "caller_user_name",
    "caller_key",
    "caller_issuer",
    "caller_invoked_by",
    "role_arn",
    "role_session_name",
    "request_source_identity",
    "tags",
    "transitive_tag_keys",
    "incoming_transitive_tags",
    "principal_tags",
    "issued_key",
    "assumed_role_arn",
    "response_source_identity",
    "subject",
    "web_identity_subject",
    "provider",
];

/// The uses query's result columns.
pub const USE_COLUMNS: &[&str] = &[
    "account",
    "access_key",
    "session_arn",
    "issuer",
    "source_identity",
    "on_behalf_of_user",
    "identity_store",
    "event_source",
    "event_name",
    "error_code",
    "events",
    "first_seen",
    "last_seen",
];

/// The result columns the query returns, by name (its `AS` aliases, which
/// a unit test checks against the SQL text).
pub const COLUMNS: &[&str] = &[
    "account",
    "identity_type",
    "principal",
    "user_name",
    "principal_id",
    "identity_account",
    "invoked_by",
    "source_identity",
    "event_source",
    "event_name",
    "error_code",
    "events",
    "first_seen",
    "last_seen",
    "resources",
    "resources_distinct",
    "resource_prefixes",
    "resource_prefixes_distinct",
];

/// An ARN cut after the [`PREFIX_DEPTH`]-th `/` or `:` of its resource,
/// plus `*` when anything follows (the resource summary's own cut); a name
/// that is not an ARN, unchanged.
fn prefix_sql() -> String {
    let cut = format!(
        "regexp_extract(a, '^arn:[^:]*:[^:]*:[^:]*:[^:]*:(?:[^/:]*[/:]){{0,{PREFIX_DEPTH}}}')"
    );
    format!("COALESCE(CASE WHEN length({cut}) < length(a) THEN {cut} || '*' ELSE a END, a)")
}

/// One aggregated row, as Athena returns it (strings; empty = null).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    pub fields: BTreeMap<&'static str, Option<String>>,
}

impl Row {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.fields.get(k).and_then(|v| v.as_deref())
    }
}

/// Folds aggregated rows of one account into an activity, through the same
/// attribution and mapping as log records. Returns rows it could not use.
pub fn fold_rows(rows: &[Row], mapper: &EventMapper, acc: &mut Activity) -> Vec<String> {
    use crate::ingest::cloudtrail::{RawIdentity, RawIssuer, RawSession};
    use std::borrow::Cow;
    let mut bad = Vec::new();
    let mut resources = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (Some(source), Some(name)) = (r.get("event_source"), r.get("event_name")) else {
            bad.push(format!("row {i}: no event source or name"));
            continue;
        };
        let count = r.get("events").and_then(|v| v.parse::<u64>().ok());
        let first = r.get("first_seen").and_then(crate::util::parse_time);
        let last = r.get("last_seen").and_then(crate::util::parse_time);
        let (Some(count), Some(first), Some(last)) = (count, first, last) else {
            bad.push(format!("row {i}: count or times unreadable"));
            continue;
        };
        acc.stats.records += count;
        // The query reads the pulled accounts' partitions only.
        acc.stats.account_records += count;
        acc.stats.first_event = Some(acc.stats.first_event.map_or(first, |f| f.min(first)));
        acc.stats.last_event = Some(acc.stats.last_event.map_or(last, |l| l.max(last)));
        let c = |k: &str| r.get(k).map(Cow::Borrowed);
        let principal = c("principal");
        let assumed = r.get("identity_type") == Some("AssumedRole");
        // The query resolved a federation token to the IAM user (or root)
        // that issued it, as attribution does for a record.
        let issued_by = (r.get("identity_type") == Some("FederatedUser"))
            .then(|| r.get("principal"))
            .flatten()
            .filter(|p| !p.contains(":federated-user/"))
            .map(|p| {
                Cow::Borrowed(if p.ends_with(":root") {
                    "Root"
                } else {
                    "IAMUser"
                })
            });
        let id = RawIdentity {
            kind: c("identity_type"),
            // The query already resolved a session to its role: no session ARN.
            arn: if assumed { None } else { principal.clone() },
            principal_id: c("principal_id"),
            account_id: c("identity_account"),
            user_name: c("user_name"),
            invoked_by: c("invoked_by"),
            session_context: Some(RawSession {
                session_issuer: Some(RawIssuer {
                    kind: issued_by,
                    arn: principal,
                    user_name: None,
                }),
                source_identity: c("source_identity"),
            }),
            // The aggregation groups by identity, not by key or person.
            ..RawIdentity::default()
        };
        let Some(actor) = crate::usage::attribution::attribute(&id) else {
            acc.stats.service_records += count;
            continue;
        };
        let words = |k: &str| -> Vec<String> {
            r.get(k)
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default()
        };
        let listed = words("resources");
        let number = |k: &str| r.get(k).and_then(|v| v.parse::<usize>().ok());
        // Every distinct resource is listed unless the query says there are
        // more (or, without that count, the list is full).
        let all_listed = number("resources_distinct")
            .map_or(listed.len() < ATHENA_RESOURCES, |n| n <= listed.len());
        // More resources than a row lists: the row is folded on its own,
        // and its prefixes, which cover every resource, join the summaries.
        let mut own = Activity::default();
        let target = if all_listed { &mut *acc } else { &mut own };
        fold(
            target,
            mapper,
            &actor,
            Call {
                source,
                name,
                error_code: r.get("error_code"),
                // The aggregation keeps no user agent: the channel is unknown.
                channel: crate::usage::channel::OTHER,
                // The aggregation groups by code, not by message (messages
                // name resources): refusals read no policy type here.
                error_message: None,
            },
            Occurrence { count, first, last },
            |out| out.extend(listed),
            &mut resources,
        );
        if !all_listed {
            let prefixes = words("resource_prefixes");
            let complete =
                number("resource_prefixes_distinct").is_some_and(|n| n <= prefixes.len());
            for a in own.actors.values_mut() {
                for st in a.actions.values_mut() {
                    if let Some(sum) = &mut st.summary {
                        prefixes.iter().for_each(|p| sum.insert(p));
                        if !complete {
                            sum.mark_incomplete();
                        }
                    }
                }
            }
            acc.merge(own);
        }
    }
    bad
}

/// Runs the query and returns the rows per account. DDL first unless `no_ddl`.
pub(super) async fn query(
    conf: &aws_config::SdkConfig,
    opts: &PullOptions,
    a: &AthenaOptions,
    spec: &TableSpec,
) -> Result<Results, PullError> {
    let client = aws_sdk_athena::Client::new(conf);
    if !a.no_ddl {
        run(&client, a, None, &spec.create_database_sql()).await?;
        run(&client, a, None, &spec.create_table_sql()).await?;
    }
    let sql = spec.aggregation_sql(opts.since, opts.until);
    let rows = rows_of(&client, a, spec, &sql, COLUMNS).await?;
    let sql = spec.links_sql(opts.since, opts.until);
    let links = rows_of(&client, a, spec, &sql, LINK_COLUMNS).await?;
    let sql = spec.uses_sql(opts.since, opts.until);
    let uses = rows_of(&client, a, spec, &sql, USE_COLUMNS).await?;
    Ok(Results { rows, links, uses })
}

/// What the three queries returned, per account.
#[derive(Debug, Default)]
pub struct Results {
    /// The aggregation (the activity store's rows).
    pub rows: BTreeMap<String, Vec<Row>>,
    /// The links and uses queries (`sessions.json`).
    pub links: BTreeMap<String, Vec<Row>>,
    pub uses: BTreeMap<String, Vec<Row>>,
}

/// Runs one query and reads its result pages into rows per account.
async fn rows_of(
    client: &aws_sdk_athena::Client,
    a: &AthenaOptions,
    spec: &TableSpec,
    sql: &str,
    columns: &'static [&'static str],
) -> Result<BTreeMap<String, Vec<Row>>, PullError> {
    let id = run(client, a, Some(&spec.database), sql).await?;
    let mut rows: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut token: Option<String> = None;
    let mut header: Option<Vec<String>> = None;
    loop {
        let page = client
            .get_query_results()
            .query_execution_id(&id)
            .max_results(1000)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| PullError::aws("athena:GetQueryResults", e))?;
        let Some(set) = page.result_set() else { break };
        if header.is_none() {
            let names: Vec<String> = set
                .result_set_metadata()
                .map(|m| {
                    m.column_info()
                        .iter()
                        .map(|c| c.name().to_string())
                        .collect()
                })
                .unwrap_or_default();
            for want in columns {
                if !names.iter().any(|n| n == want) {
                    return Err(PullError::Aws {
                        operation: "athena:GetQueryResults",
                        message: format!("the result has no `{want}` column"),
                    });
                }
            }
            header = Some(names);
        }
        let names = header.as_deref().unwrap_or_default();
        for (i, r) in set.rows().iter().enumerate() {
            let values: Vec<Option<String>> = r
                .data()
                .iter()
                .map(|d| d.var_char_value().map(str::to_string))
                .collect();
            // Athena repeats the column names as the first row of the first page.
            if token.is_none()
                && i == 0
                && values
                    .iter()
                    .map(|v| v.as_deref())
                    .eq(names.iter().map(|n| Some(n.as_str())))
            {
                continue;
            }
            let mut row = Row::default();
            for (n, v) in names.iter().zip(values) {
                if let Some(k) = columns.iter().find(|c| *c == n) {
                    row.fields.insert(k, v.filter(|s| !s.is_empty()));
                }
            }
            let account = row.get("account").unwrap_or_default().to_string();
            rows.entry(account).or_default().push(row);
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(rows)
}

/// One account's links and uses rows as `sessions.json`, and the rows it
/// could not use.
pub fn sessions_file(
    account: &str,
    since: i64,
    until: i64,
    links: &[Row],
    uses: &[Row],
) -> (crate::usage::chain_store::SessionsOut, Vec<String>) {
    use crate::usage::chain_store::{SessionsOut, UseRow, FORMAT};
    use serde_json::{Map, Value};
    let mut bad = Vec::new();
    let mut issued = Vec::new();
    // Keeps the fields a row has, so that the record reads as the log
    // file's would (an absent field, not an empty one).
    fn put(obj: &mut Map<String, Value>, k: &str, v: Option<Value>) {
        if let Some(v) = v {
            obj.insert(k.to_string(), v);
        }
    }
    for (i, r) in links.iter().enumerate() {
        let text = |k: &str| r.get(k).map(|v| Value::String(v.to_string()));
        let mut json_bad = None;
        let mut json = |k: &str| {
            let v = r.get(k)?;
            match serde_json::from_str::<Value>(v) {
                Ok(Value::Null) => None,
                Ok(v) => Some(v),
                Err(e) => {
                    json_bad = Some(format!("links row {i}: `{k}` is not JSON: {e}"));
                    None
                }
            }
        };
        let mut req = Map::new();
        put(&mut req, "roleArn", text("role_arn"));
        put(&mut req, "roleSessionName", text("role_session_name"));
        put(&mut req, "sourceIdentity", text("request_source_identity"));
        put(&mut req, "tags", json("tags"));
        put(&mut req, "transitiveTagKeys", json("transitive_tag_keys"));
        put(
            &mut req,
            "incomingTransitiveTags",
            json("incoming_transitive_tags"),
        );
        put(&mut req, "principalTags", json("principal_tags"));
        if let Some(b) = json_bad {
            bad.push(b);
            continue;
        }
        let (Some(_), Some(_), Some(key)) = (
            r.get("event_time").and_then(crate::util::parse_time),
            r.get("event_name"),
            r.get("issued_key"),
        ) else {
            bad.push(format!(
                "links row {i}: no event time, event name or issued access key id"
            ));
            continue;
        };
        let mut resp = Map::new();
        resp.insert(
            "credentials".into(),
            serde_json::json!({ "accessKeyId": key }),
        );
        if let Some(a) = text("assumed_role_arn") {
            resp.insert("assumedRoleUser".into(), serde_json::json!({ "arn": a }));
        }
        put(
            &mut resp,
            "sourceIdentity",
            text("response_source_identity"),
        );
        put(&mut resp, "subject", text("subject"));
        put(
            &mut resp,
            "subjectFromWebIdentityToken",
            text("web_identity_subject"),
        );
        put(&mut resp, "provider", text("provider"));
        let mut id = Map::new();
        put(&mut id, "type", text("caller_type"));
        put(&mut id, "arn", text("caller_arn"));
        put(&mut id, "accountId", text("caller_account"));
        put(&mut id, "principalId", text("caller_principal_id"));
        put(&mut id, "userName", text("caller_user_name"));
        put(&mut id, "accessKeyId", text("caller_key"));
        put(&mut id, "invokedBy", text("caller_invoked_by"));
        if let Some(a) = text("caller_issuer") {
            id.insert(
                "sessionContext".into(),
                serde_json::json!({ "sessionIssuer": { "arn": a } }),
            );
        }
        let mut rec = Map::new();
        put(&mut rec, "eventTime", text("event_time"));
        rec.insert("eventSource".into(), "sts.amazonaws.com".into());
        put(&mut rec, "eventName", text("event_name"));
        put(&mut rec, "recipientAccountId", text("recipient_account"));
        put(&mut rec, "sharedEventID", text("shared_event_id"));
        rec.insert("userIdentity".into(), Value::Object(id));
        rec.insert("requestParameters".into(), Value::Object(req));
        rec.insert("responseElements".into(), Value::Object(resp));
        issued.push(Value::Object(rec));
    }
    let mut used = Vec::new();
    for (i, r) in uses.iter().enumerate() {
        let s = |k: &str| r.get(k).map(str::to_string);
        let count = r.get("events").and_then(|v| v.parse::<u64>().ok());
        let times = r
            .get("first_seen")
            .zip(r.get("last_seen"))
            .filter(|(f, l)| {
                crate::util::parse_time(f).is_some() && crate::util::parse_time(l).is_some()
            });
        let (Some(key), Some(arn), Some(source), Some(name), Some(count), Some((first, last))) = (
            s("access_key"),
            s("session_arn").filter(|a| a.contains(":assumed-role/")),
            s("event_source"),
            s("event_name"),
            count,
            times,
        ) else {
            bad.push(format!(
                "uses row {i}: no access key, session ARN, event, count or times"
            ));
            continue;
        };
        used.push(UseRow {
            access_key_id: key,
            arn,
            issuer: s("issuer"),
            source_identity: s("source_identity"),
            on_behalf_of_user_id: s("on_behalf_of_user"),
            identity_store_arn: s("identity_store"),
            event_source: source,
            event_name: name,
            error_code: s("error_code"),
            count,
            first_seen: first.to_string(),
            last_seen: last.to_string(),
        });
    }
    (
        SessionsOut {
            format: FORMAT,
            account: account.to_string(),
            since: stamp(since),
            until: stamp(until),
            issued_since: stamp(since - LINKS_LOOKBACK),
            issued,
            used,
        },
        bad,
    )
}

/// Starts a query and waits for it; returns its execution id.
async fn run(
    client: &aws_sdk_athena::Client,
    a: &AthenaOptions,
    database: Option<&str>,
    sql: &str,
) -> Result<String, PullError> {
    use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
    let mut req = client.start_query_execution().query_string(sql);
    if let Some(db) = database {
        req = req.query_execution_context(QueryExecutionContext::builder().database(db).build());
    }
    if let Some(w) = &a.workgroup {
        req = req.work_group(w);
    }
    if let Some(o) = &a.output {
        req = req.result_configuration(ResultConfiguration::builder().output_location(o).build());
    }
    let started = req
        .send()
        .await
        .map_err(|e| PullError::aws("athena:StartQueryExecution", e))?;
    let id = started
        .query_execution_id()
        .ok_or_else(|| PullError::Aws {
            operation: "athena:StartQueryExecution",
            message: "no query execution id".into(),
        })?
        .to_string();
    let deadline = tokio::time::Instant::now() + a.timeout;
    let mut pause = Duration::from_millis(200);
    loop {
        let e = client
            .get_query_execution()
            .query_execution_id(&id)
            .send()
            .await
            .map_err(|e| PullError::aws("athena:GetQueryExecution", e))?;
        let status = e.query_execution().and_then(|q| q.status());
        match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Succeeded) => return Ok(id),
            Some(QueryExecutionState::Failed) | Some(QueryExecutionState::Cancelled) => {
                let why = status
                    .and_then(|s| s.state_change_reason())
                    .unwrap_or("no reason given");
                let first_line = sql.lines().next().unwrap_or_default();
                return Err(PullError::Aws {
                    operation: "athena query",
                    message: format!("`{first_line} ...` (execution {id}) failed: {why}"),
                });
            }
            _ => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(PullError::Aws {
                operation: "athena query",
                message: format!(
                    "execution {id} did not finish within {} s",
                    a.timeout.as_secs()
                ),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// Finds whether the trail bucket uses an organization trail's layout
/// (`AWSLogs/o-ORG/ACCOUNT/`), with one listing.
pub(super) async fn org_layout(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Option<String>, PullError> {
    let mut base = prefix.trim_matches('/').to_string();
    if !base.is_empty() {
        base.push('/');
    }
    base.push_str("AWSLogs/");
    let page = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(&base)
        .delimiter("/")
        .send()
        .await
        .map_err(|e| PullError::aws("s3:ListObjectsV2", e))?;
    Ok(page
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .map(|p| p[base.len()..].trim_end_matches('/'))
        .find(|n| n.starts_with("o-"))
        .map(str::to_string))
}

/// Rows Athena returned that could not be used become manifest problems.
pub(super) fn note_bad_rows(bad: Vec<String>, m: &mut super::manifest::Manifest) {
    for b in bad {
        m.gaps.push(Gap::new("athena", "aggregation query", b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn spec() -> TableSpec {
        TableSpec::new(
            "leastpriv",
            None,
            "org-trail-logs",
            "/trails/",
            Some("o-abc123"),
            &["222233334444".into(), "111122223333".into()],
        )
        .unwrap()
    }

    #[test]
    fn ddl_projects_accounts_regions_and_days() {
        let s = spec();
        assert!(s.table.starts_with("cloudtrail_"), "{}", s.table);
        let ddl = s.create_table_sql();
        assert!(ddl.starts_with(&format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS leastpriv.{}",
            s.table
        )));
        assert!(ddl.contains("LOCATION 's3://org-trail-logs/trails/AWSLogs/o-abc123/'"));
        assert!(ddl.contains(
            "'storage.location.template' = 's3://org-trail-logs/trails/AWSLogs/o-abc123/${account}/CloudTrail/${region}/${day}'"
        ));
        assert!(ddl.contains("'projection.account.values' = '111122223333,222233334444'"));
        assert!(ddl.contains("us-east-1,us-east-2"));
        insta::assert_snapshot!(ddl);
        assert_eq!(
            s.create_database_sql(),
            "CREATE DATABASE IF NOT EXISTS leastpriv"
        );
    }

    #[test]
    fn the_query_reads_only_the_window_and_never_request_parameters() {
        let s = spec();
        // 2026-10-01T00:00:00Z .. 2026-10-31T23:59:59Z
        let sql = s.aggregation_sql(1_790_812_800, 1_793_491_199);
        assert!(
            sql.contains("day BETWEEN '2026/10/01' AND '2026/11/01'"),
            "{sql}"
        );
        assert!(sql.contains("eventtime >= '2026-10-01T00:00:00Z'"));
        assert!(sql.contains("eventtime <= '2026-10-31T23:59:59Z'"));
        assert!(sql.contains("account IN ('111122223333', '222233334444')"));
        assert!(!sql.contains("requestparameters"));
        assert_selects(&sql, COLUMNS);
        insta::assert_snapshot!(sql);
    }

    /// Every result column is one of the query's `AS` aliases (or a
    /// column of the table selected as is).
    fn assert_selects(sql: &str, columns: &[&str]) {
        for c in columns {
            assert!(
                sql.contains(&format!(" AS {c}")) || sql.contains(&format!("    {c},")),
                "{c}"
            );
        }
    }

    /// Every place the links query reads a JSON column, with the path.
    fn json_paths(sql: &str, column: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = sql;
        while let Some(i) = rest.find(column) {
            let after = &rest[i + column.len()..];
            let path = after
                .strip_prefix(", '$.")
                .and_then(|p| p.split_once('\''))
                .map(|(p, _)| p.to_string())
                .unwrap_or_else(|| format!("(whole column) {}", &after[..after.len().min(20)]));
            out.push(path);
            rest = after;
        }
        out
    }

    #[test]
    fn the_links_query_selects_named_paths_and_never_a_secret() {
        let s = spec();
        let sql = s.links_sql(1_790_812_800, 1_793_491_199);
        // 12 hours before the window: the day before it is read too.
        assert!(
            sql.contains("day BETWEEN '2026/09/30' AND '2026/11/01'"),
            "{sql}"
        );
        assert!(sql.contains("eventtime >= '2026-09-30T12:00:00Z'"));
        assert!(sql.contains("eventtime <= '2026-10-31T23:59:59Z'"));
        assert!(sql.contains("eventsource = 'sts.amazonaws.com'"));
        assert!(sql.contains("eventname LIKE 'AssumeRole%'"));
        assert!(sql.contains("COALESCE(errorcode, '') = ''"));
        // The columns are read only through named paths: never whole.
        let req = json_paths(&sql, "requestparameters");
        assert_eq!(
            req,
            [
                "roleArn",
                "roleSessionName",
                "sourceIdentity",
                "tags",
                "transitiveTagKeys",
                "incomingTransitiveTags",
                "principalTags"
            ]
        );
        let resp: BTreeSet<String> = json_paths(&sql, "responseelements").into_iter().collect();
        let want: BTreeSet<String> = [
            "credentials.accessKeyId",
            "assumedRoleUser.arn",
            "sourceIdentity",
            "subject",
            "subjectFromWebIdentityToken",
            "provider",
        ]
        .into_iter()
        .map(str::to_string)
        .collect();
        assert_eq!(resp, want);
        for secret in [
            "sessionToken",
            "externalId",
            "tokenCode",
            "policy",
            "serialNumber",
        ] {
            assert!(
                !sql.to_lowercase().contains(&secret.to_lowercase()),
                "{secret} in {sql}"
            );
        }
        assert_selects(&sql, LINK_COLUMNS);
        insta::assert_snapshot!(sql);
    }

    #[test]
    fn the_uses_query_groups_by_session_key_event_and_outcome() {
        let s = spec();
        let sql = s.uses_sql(1_790_812_800, 1_793_491_199);
        assert!(sql.contains("day BETWEEN '2026/10/01' AND '2026/11/01'"));
        assert!(sql.contains("eventtime >= '2026-10-01T00:00:00Z'"));
        assert!(sql.contains("useridentity.type = 'AssumedRole'"));
        assert!(!sql.contains("requestparameters"));
        assert!(!sql.contains("responseelements"));
        assert_selects(&sql, USE_COLUMNS);
        // Every column but the three aggregates is grouped.
        let groups = USE_COLUMNS.len() - 3;
        let by: Vec<String> = (1..=groups).map(|n| n.to_string()).collect();
        assert!(
            sql.ends_with(&format!("GROUP BY {}", by.join(", "))),
            "{sql}"
        );
        insta::assert_snapshot!(sql);
    }

    fn row_of(columns: &'static [&'static str], values: &[(&str, &str)]) -> Row {
        let mut r = Row::default();
        for (k, v) in values {
            let key = columns.iter().find(|c| **c == *k).expect(k);
            r.fields.insert(key, Some(v.to_string()));
        }
        r
    }

    #[test]
    fn link_and_use_rows_make_chains_across_accounts() {
        use crate::usage::chain_store;
        use crate::usage::chains::Origin;
        let cat = crate::catalog::Catalog::embedded();
        let mapper = EventMapper::embedded(cat).unwrap();
        let sso = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Ops_0123456789abcdef";
        let deploy = "arn:aws:iam::222233334444:role/deploy";
        let links = [row_of(
            LINK_COLUMNS,
            &[
                ("account", "111122223333"),
                ("event_time", "2026-10-02T09:00:00Z"),
                ("event_name", "AssumeRole"),
                ("caller_type", "AssumedRole"),
                (
                    "caller_arn",
                    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Ops_0123456789abcdef/alice",
                ),
                ("caller_key", "ASIAFIRST"),
                ("caller_issuer", sso),
                ("role_arn", deploy),
                ("role_session_name", "alice"),
                ("request_source_identity", "alice@example.com"),
                ("tags", r#"[{"key":"team","value":"ops"}]"#),
                ("transitive_tag_keys", r#"["team"]"#),
                ("issued_key", "ASIASECOND"),
                (
                    "assumed_role_arn",
                    "arn:aws:sts::222233334444:assumed-role/deploy/alice",
                ),
            ],
        )];
        let used = |account: &str, key: &str, arn: &str, issuer: &str, name: &str| {
            row_of(
                USE_COLUMNS,
                &[
                    ("account", account),
                    ("access_key", key),
                    ("session_arn", arn),
                    ("issuer", issuer),
                    ("event_source", "s3.amazonaws.com"),
                    ("event_name", name),
                    ("events", "3"),
                    ("first_seen", "2026-10-02T09:01:00Z"),
                    ("last_seen", "2026-10-02T09:30:00Z"),
                ],
            )
        };
        let uses = [
            used(
                "111122223333",
                "ASIAFIRST",
                "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Ops_0123456789abcdef/alice",
                sso,
                "ListBuckets",
            ),
            used(
                "222233334444",
                "ASIASECOND",
                "arn:aws:sts::222233334444:assumed-role/deploy/alice",
                deploy,
                "PutObject",
            ),
            // A session whose key no link shows: its chain breaks.
            used(
                "222233334444",
                "ASIAORPHAN",
                "arn:aws:sts::222233334444:assumed-role/deploy/bob",
                deploy,
                "GetObject",
            ),
        ];
        let (file, bad) =
            sessions_file("111122223333", 1_790_812_800, 1_793_491_199, &links, &uses);
        assert!(bad.is_empty(), "{bad:?}");
        let text = serde_json::to_string_pretty(&file).unwrap();
        assert!(!text.contains("sessionToken"));
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(chain_store::FILE);
        std::fs::write(&path, &text).unwrap();
        let loaded = chain_store::load(&path, &mapper, |_| true).unwrap();
        assert_eq!(loaded.since, Some(1_790_812_800));
        let chains = loaded.chains;
        let second = chains.resolve("ASIASECOND", None);
        assert!(second.breaks.is_none(), "{second:?}");
        assert!(second.crosses_accounts());
        assert!(matches!(
            &second.origin,
            Origin::IdentityCenterUser { user_name, permission_set: Some(set), .. }
                if user_name == "alice" && set == "Ops"
        ));
        assert_eq!(second.source_identity.as_deref(), Some("alice@example.com"));
        assert_eq!(second.hops.len(), 2);
        assert_eq!(second.hops[1].role, deploy);
        assert_eq!(second.tags, ["team=ops"]);
        let put = cat.lookup("s3:PutObject").unwrap();
        let u = &chains.used["ASIASECOND"];
        assert_eq!(u.records, 3);
        assert_eq!(u.actions.len(), 1);
        assert_eq!((u.actions[0].action, u.actions[0].count), (put, 3));
        let orphan = chains.resolve("ASIAORPHAN", None);
        assert!(
            orphan.breaks.as_deref().unwrap().contains("`ASIAORPHAN`"),
            "{orphan:?}"
        );
        // Another account's sessions can be left to that account's file.
        let mine = chain_store::load(&path, &mapper, |arn| arn.contains(":111122223333:")).unwrap();
        assert_eq!(mine.chains.used.len(), 1);
        assert_eq!(mine.chains.issued.len(), 1);
    }

    #[test]
    fn unusable_session_rows_are_named() {
        let links = [
            row_of(
                LINK_COLUMNS,
                &[
                    ("account", "111122223333"),
                    ("event_time", "2026-10-02T09:00:00Z"),
                    ("event_name", "AssumeRole"),
                    ("tags", "[{not json"),
                    ("issued_key", "ASIAX"),
                ],
            ),
            row_of(
                LINK_COLUMNS,
                &[("account", "111122223333"), ("event_name", "AssumeRole")],
            ),
        ];
        let uses = [row_of(
            USE_COLUMNS,
            &[
                ("account", "111122223333"),
                ("access_key", "ASIAX"),
                ("events", "x"),
            ],
        )];
        let (file, bad) = sessions_file("111122223333", 0, 1, &links, &uses);
        assert!(file.issued.is_empty() && file.used.is_empty());
        assert_eq!(bad.len(), 3, "{bad:?}");
        assert!(
            bad[0].starts_with("links row 0: `tags` is not JSON"),
            "{bad:?}"
        );
        assert!(bad[1].starts_with("links row 1:"), "{bad:?}");
        assert!(bad[2].starts_with("uses row 0:"), "{bad:?}");
    }

    #[test]
    fn names_and_locations_are_checked_before_they_reach_sql() {
        let bad = [
            TableSpec::new("leastpriv; DROP", None, "b", "", None, &[]),
            TableSpec::new("db", Some("t x"), "b", "", None, &[]),
            TableSpec::new("db", None, "b'c", "", None, &[]),
            TableSpec::new("db", None, "b", "p'", None, &[]),
            TableSpec::new("db", None, "b", "", Some("o-a'b"), &[]),
            TableSpec::new("db", None, "b", "", None, &["12345".into()]),
        ];
        for b in bad {
            assert!(matches!(b, Err(PullError::Usage(_))), "{b:?}");
        }
        // Another bucket or account list: another table.
        let a = TableSpec::new("db", None, "b", "", None, &["111122223333".into()]).unwrap();
        let b = TableSpec::new("db", None, "b", "", None, &["222233334444".into()]).unwrap();
        let c = TableSpec::new("db", None, "c", "", None, &["111122223333".into()]).unwrap();
        assert_ne!(a.table, b.table);
        assert_ne!(a.table, c.table);
    }

    #[test]
    fn rows_fold_like_records() {
        let cat = crate::catalog::Catalog::embedded();
        let mapper = EventMapper::embedded(cat).unwrap();
        let row = |kind: &str, principal: &str, name: &str, err: Option<&str>, n: &str| {
            let mut r = Row::default();
            for (k, v) in [
                ("account", Some("111122223333")),
                ("identity_type", Some(kind)),
                ("principal", Some(principal)),
                ("event_source", Some("secretsmanager.amazonaws.com")),
                ("event_name", Some(name)),
                ("error_code", err),
                ("events", Some(n)),
                ("first_seen", Some("2026-10-02T00:00:00Z")),
                ("last_seen", Some("2026-10-09T00:00:00Z")),
                (
                    "resources",
                    Some("arn:aws:secretsmanager:us-east-1:111122223333:secret:a-1"),
                ),
            ] {
                let key = COLUMNS.iter().find(|c| **c == k).unwrap();
                r.fields.insert(key, v.map(str::to_string));
            }
            r
        };
        let role = "arn:aws:iam::111122223333:role/app";
        let rows = vec![
            row("AssumedRole", role, "GetSecretValue", None, "7"),
            row(
                "AssumedRole",
                role,
                "GetSecretValue",
                Some("AccessDenied"),
                "2",
            ),
            row("AWSService", "", "GetSecretValue", None, "3"),
            row("AssumedRole", role, "GetSecretValue", None, "many"),
        ];
        let mut acc = Activity::default();
        let bad = fold_rows(&rows, &mapper, &mut acc);
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(acc.stats.records, 12);
        assert_eq!(acc.stats.service_records, 3);
        let a = &acc.actors[role];
        let id = cat.lookup("secretsmanager:GetSecretValue").unwrap();
        let used = a
            .actions
            .get(&(id, crate::usage::Outcome::Success))
            .unwrap();
        assert_eq!(used.count, 7);
        assert_eq!(used.resources.len(), 1);
        assert_eq!(
            a.actions
                .get(&(id, crate::usage::Outcome::Denied))
                .unwrap()
                .count,
            2
        );
        // A federation token's calls: the query names its issuer, whose
        // use they are, as for a record.
        let user = "arn:aws:iam::111122223333:user/issuer";
        let mut acc = Activity::default();
        let fed = [row("FederatedUser", user, "GetSecretValue", None, "4")];
        assert!(fold_rows(&fed, &mapper, &mut acc).is_empty());
        let a = &acc.actors[user];
        assert_eq!(a.kind, crate::usage::ActorKind::Principal);
        assert_eq!(
            a.actions
                .get(&(id, crate::usage::Outcome::Success))
                .unwrap()
                .count,
            4
        );
        assert_eq!(acc.stats.account_records, 4);
    }

    #[test]
    fn rows_with_more_resources_than_listed_are_covered_by_their_prefixes() {
        let cat = crate::catalog::Catalog::embedded();
        let mapper = EventMapper::embedded(cat).unwrap();
        let arns: Vec<String> = (0..ATHENA_RESOURCES)
            .map(|n| format!("arn:aws:s3:::ci-artifacts/artifacts/builds/{n:05}/app.tar"))
            .collect();
        let row = |distinct: &str, prefixes: &str, prefixes_distinct: &str| {
            let mut r = Row::default();
            let listed = arns.join(" ");
            for (k, v) in [
                ("account", "111122223333"),
                ("identity_type", "AssumedRole"),
                ("principal", "arn:aws:iam::111122223333:role/ci"),
                ("event_source", "s3.amazonaws.com"),
                ("event_name", "PutObject"),
                ("events", "1500"),
                ("first_seen", "2026-10-02T00:00:00Z"),
                ("last_seen", "2026-10-09T00:00:00Z"),
                ("resources", listed.as_str()),
                ("resources_distinct", distinct),
                ("resource_prefixes", prefixes),
                ("resource_prefixes_distinct", prefixes_distinct),
            ] {
                let key = COLUMNS.iter().find(|c| **c == k).unwrap();
                r.fields.insert(key, Some(v.to_string()));
            }
            r
        };
        let id = cat.lookup("s3:PutObject").unwrap();
        let summary = |rows: &[Row]| {
            let mut acc = Activity::default();
            assert!(fold_rows(rows, &mapper, &mut acc).is_empty());
            let st = acc.actors["arn:aws:iam::111122223333:role/ci"]
                .actions
                .get(&(id, crate::usage::Outcome::Success))
                .unwrap()
                .clone();
            assert!(st.resources_truncated);
            assert_eq!(st.resources.len(), crate::usage::activity::RESOURCE_SAMPLES);
            *st.summary.unwrap()
        };
        // 1,500 distinct objects, 1,000 listed: the prefix covers the rest.
        let prefix = "arn:aws:s3:::ci-artifacts/artifacts/builds/*";
        let s = summary(&[row("1500", prefix, "1")]);
        assert!(s.is_complete());
        assert_eq!(s.patterns(), [prefix]);
        // Every object listed: the summary the log files would give.
        let all = summary(&[row("1000", prefix, "1")]);
        assert_eq!(all, arns.iter().collect());
        // More prefixes than listed too: nothing may be narrowed to it.
        let s = summary(&[row("5000", prefix, "1200")]);
        assert!(!s.is_complete());
    }
}
