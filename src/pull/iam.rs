//! IAM: authorization details, the credential report, access keys and
//! Access Advisor.

use super::aws::{describe, Clients};
use super::manifest::{Gap, Manifest};
use super::{PullError, PullOptions};
use aws_sdk_iam::types as t;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::time::Duration;

pub(super) async fn pull(
    c: &Clients,
    opts: &PullOptions,
    dir: &Path,
    m: &mut Manifest,
) -> Result<(), PullError> {
    let details = authorization_details(c, opts, m).await?;
    let principals: Vec<String> = ["UserDetailList", "GroupDetailList", "RoleDetailList"]
        .iter()
        .flat_map(|k| details[*k].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["Arn"].as_str().map(str::to_string))
        .collect();
    let users: Vec<String> = details["UserDetailList"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["UserName"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    write(dir, "iam.json", &details)?;

    opts.progress.start("credential report", 1);
    match credential_report(c).await {
        Ok(csv) => {
            super::write_private(&dir.join("credential-report.csv"), &csv)?;
            m.iam.credential_report = true;
        }
        Err(msg) => m.gaps.push(Gap::new("credential-report", "account", msg)),
    }
    opts.progress.finish();

    let keys = access_keys(c, opts, &users, m).await;
    m.iam.access_keys = keys.len();
    write(dir, "access-keys.json", &json!({ "AccessKeys": keys }))?;

    if opts.access_advisor {
        let advisor = access_advisor(c, opts, &principals, m).await;
        m.iam.access_advisor_principals = advisor.len();
        write(dir, "last-accessed.json", &json!({ "Principals": advisor }))?;
    }
    Ok(())
}

fn write(dir: &Path, name: &str, v: &Value) -> Result<(), PullError> {
    let bytes = serde_json::to_vec_pretty(v).map_err(|e| PullError::Write {
        path: dir.join(name),
        source: std::io::Error::other(e),
    })?;
    super::write_private(&dir.join(name), &bytes)
}

/// Every page of GetAccountAuthorizationDetails, in the CLI's JSON form with
/// policy documents decoded to objects.
async fn authorization_details(
    c: &Clients,
    opts: &PullOptions,
    m: &mut Manifest,
) -> Result<Value, PullError> {
    let (mut users, mut groups, mut roles, mut policies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut marker: Option<String> = None;
    opts.progress.start("IAM authorization details", 0);
    loop {
        let page = c
            .iam
            .get_account_authorization_details()
            .max_items(opts.iam_page_size)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| PullError::aws("iam:GetAccountAuthorizationDetails", e))?;
        m.iam.pages += 1;
        let before = users.len() + groups.len() + roles.len() + policies.len();
        users.extend(page.user_detail_list().iter().map(user));
        groups.extend(page.group_detail_list().iter().map(group));
        roles.extend(page.role_detail_list().iter().map(role));
        policies.extend(page.policies().iter().map(managed));
        opts.progress
            .advance((users.len() + groups.len() + roles.len() + policies.len() - before) as u64);
        match page.marker() {
            Some(next) if page.is_truncated() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    opts.progress.finish();
    m.iam.users = users.len();
    m.iam.groups = groups.len();
    m.iam.roles = roles.len();
    m.iam.policies = policies.len();
    Ok(json!({
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
    }))
}

/// A policy document as AWS sends it (URL-encoded JSON) or already decoded
/// (some emulators and proxies): either way, a JSON object. A document that
/// is neither is kept as a string so the audit names it.
pub(crate) fn document(raw: Option<&str>) -> Value {
    let Some(raw) = raw else { return Value::Null };
    if let Ok(v) = serde_json::from_str::<Value>(raw) {
        return v;
    }
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    serde_json::from_str(&decoded).unwrap_or_else(|_| Value::String(raw.to_string()))
}

fn date(d: Option<&aws_smithy_types::DateTime>) -> Value {
    d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn insert(o: &mut Map<String, Value>, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        o.insert(k.into(), Value::String(v.into()));
    }
}

fn inline(list: &[t::PolicyDetail]) -> Value {
    list.iter()
        .map(|p| {
            json!({
                "PolicyName": p.policy_name(),
                "PolicyDocument": document(p.policy_document()),
            })
        })
        .collect()
}

fn attached(list: &[t::AttachedPolicy]) -> Value {
    list.iter()
        .map(|p| json!({ "PolicyName": p.policy_name(), "PolicyArn": p.policy_arn() }))
        .collect()
}

fn boundary(o: &mut Map<String, Value>, b: Option<&t::AttachedPermissionsBoundary>) {
    if let Some(b) = b {
        o.insert(
            "PermissionsBoundary".into(),
            json!({
                "PermissionsBoundaryType": b.permissions_boundary_type().map(|t| t.as_str()),
                "PermissionsBoundaryArn": b.permissions_boundary_arn(),
            }),
        );
    }
}

fn tags(list: &[t::Tag]) -> Value {
    list.iter()
        .map(|t| json!({ "Key": t.key(), "Value": t.value() }))
        .collect()
}

fn user(u: &t::UserDetail) -> Value {
    let mut o = Map::new();
    insert(&mut o, "Path", u.path());
    insert(&mut o, "UserName", u.user_name());
    insert(&mut o, "UserId", u.user_id());
    insert(&mut o, "Arn", u.arn());
    o.insert("CreateDate".into(), date(u.create_date()));
    o.insert("UserPolicyList".into(), inline(u.user_policy_list()));
    o.insert("GroupList".into(), json!(u.group_list()));
    o.insert(
        "AttachedManagedPolicies".into(),
        attached(u.attached_managed_policies()),
    );
    boundary(&mut o, u.permissions_boundary());
    o.insert("Tags".into(), tags(u.tags()));
    Value::Object(o)
}

fn group(g: &t::GroupDetail) -> Value {
    let mut o = Map::new();
    insert(&mut o, "Path", g.path());
    insert(&mut o, "GroupName", g.group_name());
    insert(&mut o, "GroupId", g.group_id());
    insert(&mut o, "Arn", g.arn());
    o.insert("CreateDate".into(), date(g.create_date()));
    o.insert("GroupPolicyList".into(), inline(g.group_policy_list()));
    o.insert(
        "AttachedManagedPolicies".into(),
        attached(g.attached_managed_policies()),
    );
    Value::Object(o)
}

fn role(r: &t::RoleDetail) -> Value {
    let mut o = Map::new();
    insert(&mut o, "Path", r.path());
    insert(&mut o, "RoleName", r.role_name());
    insert(&mut o, "RoleId", r.role_id());
    insert(&mut o, "Arn", r.arn());
    o.insert("CreateDate".into(), date(r.create_date()));
    o.insert(
        "AssumeRolePolicyDocument".into(),
        document(r.assume_role_policy_document()),
    );
    o.insert(
        "InstanceProfileList".into(),
        r.instance_profile_list()
            .iter()
            .map(|p| json!({ "InstanceProfileName": p.instance_profile_name(), "Arn": p.arn() }))
            .collect(),
    );
    o.insert("RolePolicyList".into(), inline(r.role_policy_list()));
    o.insert(
        "AttachedManagedPolicies".into(),
        attached(r.attached_managed_policies()),
    );
    boundary(&mut o, r.permissions_boundary());
    o.insert("Tags".into(), tags(r.tags()));
    if let Some(l) = r.role_last_used() {
        let mut lu = Map::new();
        if let Some(d) = l.last_used_date() {
            lu.insert("LastUsedDate".into(), date(Some(d)));
        }
        insert(&mut lu, "Region", l.region());
        o.insert("RoleLastUsed".into(), Value::Object(lu));
    }
    Value::Object(o)
}

fn managed(p: &t::ManagedPolicyDetail) -> Value {
    let mut o = Map::new();
    // Some emulators leave the name out; it is the ARN's last segment.
    let name = p
        .policy_name()
        .or_else(|| p.arn().and_then(|a| a.rsplit('/').next()));
    insert(&mut o, "PolicyName", name);
    insert(&mut o, "PolicyId", p.policy_id());
    insert(&mut o, "Arn", p.arn());
    insert(&mut o, "Path", p.path());
    insert(&mut o, "DefaultVersionId", p.default_version_id());
    o.insert("AttachmentCount".into(), json!(p.attachment_count()));
    o.insert(
        "PermissionsBoundaryUsageCount".into(),
        json!(p.permissions_boundary_usage_count()),
    );
    o.insert("IsAttachable".into(), json!(p.is_attachable()));
    insert(&mut o, "Description", p.description());
    o.insert("CreateDate".into(), date(p.create_date()));
    o.insert("UpdateDate".into(), date(p.update_date()));
    o.insert(
        "PolicyVersionList".into(),
        p.policy_version_list()
            .iter()
            .map(|v| {
                json!({
                    "Document": document(v.document()),
                    "VersionId": v.version_id(),
                    "IsDefaultVersion": v.is_default_version(),
                    "CreateDate": date(v.create_date()),
                })
            })
            .collect(),
    );
    Value::Object(o)
}

/// Generates the credential report and waits for it (AWS builds it
/// asynchronously; a report at most 4 hours old is returned at once).
async fn credential_report(c: &Clients) -> Result<Vec<u8>, String> {
    for attempt in 0..60u32 {
        let state = c
            .iam
            .generate_credential_report()
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let done = state
            .state()
            .map(|s| s.as_str() == "COMPLETE")
            .unwrap_or(false);
        if done {
            let r = c
                .iam
                .get_credential_report()
                .send()
                .await
                .map_err(|e| describe(&e))?;
            return r
                .content()
                .map(|b| b.as_ref().to_vec())
                .ok_or_else(|| "GetCredentialReport returned no content".to_string());
        }
        tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt.min(8)) + 250)).await;
    }
    Err("the credential report was not ready after 60 attempts".into())
}

/// Runs `job` for each item, `--concurrency` at a time (up to 8: IAM
/// throttles beyond that), with a progress stage; the results are in the
/// items' order, so the files written from them are the same from run to run.
pub(super) async fn each_bounded<'a, T, F, Fut>(
    opts: &PullOptions,
    stage: &str,
    items: &'a [T],
    job: F,
) -> Vec<Fut::Output>
where
    F: FnMut(&'a T) -> Fut,
    Fut: std::future::Future,
{
    use futures_util::StreamExt;
    opts.progress.start(stage, items.len() as u64);
    let out = futures_util::stream::iter(items)
        .map(job)
        .buffered(opts.concurrency.clamp(1, 8))
        .inspect(|_| opts.progress.advance(1))
        .collect()
        .await;
    opts.progress.finish();
    out
}

/// Every user's access keys with their last use. Key ids are masked to
/// their last four characters: enough to tell keys apart in a review.
/// Users are read `--concurrency` at a time (up to 8, as Access Advisor),
/// in order, so the file is the same from run to run.
async fn access_keys(
    c: &Clients,
    opts: &PullOptions,
    users: &[String],
    m: &mut Manifest,
) -> Vec<Value> {
    let per_user = each_bounded(opts, "access keys", users, |u| user_access_keys(c, u)).await;
    let mut out = Vec::new();
    for (keys, gaps) in per_user {
        out.extend(keys);
        m.gaps.extend(gaps);
    }
    out
}

/// One user's keys (`ListAccessKeys`, then `GetAccessKeyLastUsed` for each),
/// and what could not be read.
async fn user_access_keys(c: &Clients, u: &str) -> (Vec<Value>, Vec<Gap>) {
    let mut out = Vec::new();
    let mut gaps = Vec::new();
    let list = match c.iam.list_access_keys().user_name(u).send().await {
        Ok(l) => l,
        Err(e) => {
            gaps.push(Gap::new("access-keys", u.to_string(), describe(&e)));
            return (out, gaps);
        }
    };
    for k in list.access_key_metadata() {
        let Some(id) = k.access_key_id() else {
            continue;
        };
        let mut o = Map::new();
        o.insert("UserName".into(), json!(u));
        o.insert("AccessKeyId".into(), json!(mask(id)));
        o.insert("Status".into(), json!(k.status().map(|s| s.as_str())));
        o.insert("CreateDate".into(), date(k.create_date()));
        match c
            .iam
            .get_access_key_last_used()
            .access_key_id(id)
            .send()
            .await
        {
            Ok(r) => {
                if let Some(l) = r.access_key_last_used() {
                    o.insert("LastUsedDate".into(), date(l.last_used_date()));
                    o.insert("ServiceName".into(), json!(l.service_name()));
                    o.insert("Region".into(), json!(l.region()));
                }
            }
            Err(e) => gaps.push(Gap::new(
                "access-keys",
                format!("{u} key {}", mask(id)),
                describe(&e),
            )),
        }
        out.push(Value::Object(o));
    }
    (out, gaps)
}

fn mask(id: &str) -> String {
    let tail: String = id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("****{tail}")
}

/// Access Advisor at action level for every principal, jobs run with a bound.
async fn access_advisor(
    c: &Clients,
    opts: &PullOptions,
    arns: &[String],
    m: &mut Manifest,
) -> Map<String, Value> {
    let results = each_bounded(opts, "Access Advisor", arns, |arn| async move {
        (arn.clone(), advisor_one(c, arn).await)
    })
    .await;
    let mut out = Map::new();
    for (arn, r) in results {
        match r {
            Ok(v) => {
                out.insert(arn, v);
            }
            // Warned once per stage with a count by the caller, not here too.
            Err(msg) => m.gaps.push(Gap::new("access-advisor", arn, msg)),
        }
    }
    // serde_json's Map is ordered by key: the file is stable across runs.
    out
}

async fn advisor_one(c: &Clients, arn: &str) -> Result<Value, String> {
    let job = c
        .iam
        .generate_service_last_accessed_details()
        .arn(arn)
        .granularity(t::AccessAdvisorUsageGranularityType::ActionLevel)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let id = job.job_id().unwrap_or_default().to_string();
    let mut services = Vec::new();
    let mut marker: Option<String> = None;
    let mut attempt = 0u64;
    loop {
        let r = c
            .iam
            .get_service_last_accessed_details()
            .job_id(&id)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        match r.job_status().as_str() {
            "COMPLETED" => {}
            "FAILED" => {
                return Err(r
                    .error()
                    .map(|e| e.message().to_string())
                    .unwrap_or_else(|| "job failed".into()))
            }
            _ => {
                attempt += 1;
                if attempt > 120 {
                    return Err("Access Advisor job did not complete".into());
                }
                tokio::time::sleep(Duration::from_millis(250 * attempt.min(8))).await;
                continue;
            }
        }
        for s in r.services_last_accessed() {
            services.push(json!({
                "ServiceNamespace": s.service_namespace(),
                "LastAuthenticated": date(s.last_authenticated()),
                "LastAuthenticatedRegion": s.last_authenticated_region(),
                "TotalAuthenticatedEntities": s.total_authenticated_entities(),
                "TrackedActionsLastAccessed": s.tracked_actions_last_accessed().iter().map(|a| json!({
                    "ActionName": a.action_name(),
                    "LastAccessedTime": date(a.last_accessed_time()),
                    "LastAccessedRegion": a.last_accessed_region(),
                })).collect::<Vec<_>>(),
            }));
        }
        match r.marker() {
            Some(next) if r.is_truncated() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    Ok(json!({ "JobId": id, "ServicesLastAccessed": services }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_decode_either_way() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(document(Some(plain)), document(Some(encoded)));
        assert_eq!(document(Some(plain))["Version"], "2012-10-17");
        // Neither: kept as a string, so the audit names it instead of
        // silently auditing an empty policy.
        assert_eq!(
            document(Some("%7Bbroken")),
            Value::String("%7Bbroken".into())
        );
        assert_eq!(document(None), Value::Null);
    }

    #[test]
    fn key_ids_are_masked() {
        assert_eq!(mask("AKIAIOSFODNN7EXAMPLE"), "****MPLE");
        assert_eq!(mask("AB"), "****AB");
    }
}
