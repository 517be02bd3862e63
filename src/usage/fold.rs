//! The fold of one call into the activity: a record read from a log file
//! (`read`), or a row that Athena aggregated (`pull::athena`). It attributes
//! nothing and reads no file: it is handed the actor, the call, and how many
//! times and when it happened.

use super::activity::{
    Activity, ActorActivity, Occurrence, Outcome, ResourceSample, RESOURCE_SAMPLES,
};
use super::attribution::Actor;
use super::mapping::{EventMapper, MappedRef};
use crate::catalog::{AccessLevel, ActionId};
use crate::ingest::cloudtrail::RawRecord;
use std::collections::BTreeMap;

/// Adds `n` to a count, allocating the key only the first time it is seen.
fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(v) => *v += n,
        None => {
            map.insert(key.to_string(), n);
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssumeRoleParams<'a> {
    #[serde(borrow)]
    role_arn: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    tags: Vec<SessionTag<'a>>,
}

#[derive(serde::Deserialize)]
struct SessionTag<'a> {
    #[serde(borrow)]
    key: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    value: Option<std::borrow::Cow<'a, str>>,
}

/// Keeps the session tags of successful AssumeRole* calls, per role.
pub(super) fn note_assume_role(rec: &RawRecord<'_>, source: &str, name: &str, acc: &mut Activity) {
    if source != "sts.amazonaws.com" || !name.starts_with("AssumeRole") || rec.error_code.is_some()
    {
        return;
    }
    let Some(raw) = rec.request_parameters else {
        return;
    };
    let Ok(p) = serde_json::from_str::<AssumeRoleParams>(raw) else {
        return;
    };
    let Some(role) = p.role_arn else { return };
    let e = acc.sessions_granted.entry(role.into_owned()).or_default();
    e.count += 1;
    for t in p.tags {
        if let (Some(k), Some(v)) = (t.key, t.value) {
            let vals = e.tags.entry(k.into_owned()).or_default();
            if vals.len() < RESOURCE_SAMPLES {
                vals.insert(v.into_owned());
            }
        }
    }
    let caller = rec
        .user_identity
        .as_ref()
        .and_then(|u| u.arn.as_deref().or(u.invoked_by.as_deref()))
        .unwrap_or("unknown");
    e.callers.add(caller, 1);
    // AgentCore Runtime with a workload identity: "CloudTrail records the
    // agent's identity in userIdentity.onBehalfOf on the AssumeRole event
    // that starts its role session" (AgentCore developer guide, agent and
    // workload identity).
    if let Some(o) = rec
        .user_identity
        .as_ref()
        .and_then(|u| u.on_behalf_of.as_ref())
    {
        if o.subject_type.as_deref() == Some("workload") {
            if let Some(s) = o.subject.as_deref() {
                if e.workloads.len() < RESOURCE_SAMPLES || e.workloads.contains_key(s) {
                    *e.workloads.entry(s.to_string()).or_default() += 1;
                }
            }
        }
    }
}

/// The event of a record or of an aggregated row: what was called, and how it ended.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub source: &'a str,
    pub name: &'a str,
    pub error_code: Option<&'a str>,
    /// How the call was made (`usage::channel`); `other` when the source
    /// cannot tell (Athena rows).
    pub channel: &'a str,
    /// Read for refusals: the action and policy type it names.
    pub error_message: Option<&'a str>,
}

/// Adds `occ` calls by `actor` to the activity: one record from a log file,
/// or one pre-aggregated row (Athena). `extract` fills in the resources, and
/// is called only when the call maps to actions.
pub fn fold(
    acc: &mut Activity,
    mapper: &EventMapper,
    actor: &Actor,
    call: Call<'_>,
    occ: Occurrence,
    extract: impl FnOnce(&mut Vec<String>),
    resources: &mut Vec<String>,
) {
    let mapped = mapper.map_ref(call.source, call.name);
    fold_mapped(acc, mapper, mapped, actor, call, occ, extract, resources);
}

/// [`fold`] of a call already mapped.
#[allow(clippy::too_many_arguments)]
pub(super) fn fold_mapped(
    acc: &mut Activity,
    mapper: &EventMapper,
    mapped: MappedRef<'_>,
    actor: &Actor,
    call: Call<'_>,
    occ: Occurrence,
    extract: impl FnOnce(&mut Vec<String>),
    resources: &mut Vec<String>,
) {
    let Call {
        source,
        name,
        error_code,
        channel,
        error_message,
    } = call;
    let cat = mapper.catalog();
    let stats = &mut acc.stats;
    if !acc.actors.contains_key(actor.arn.as_ref()) {
        acc.actors
            .insert(actor.arn.to_string(), ActorActivity::empty(actor.kind));
    }
    let Some(a) = acc.actors.get_mut(actor.arn.as_ref()) else {
        return;
    };
    a.records += occ.count;
    a.first = a.first.min(occ.first);
    a.last = a.last.max(occ.last);
    if let Some(s) = &actor.source_identity {
        a.source_identities.add(s, occ.count);
    }
    if let Some(s) = &actor.session {
        a.sessions.add(s, occ.count);
        if actor.source_identity.is_none() {
            a.sessions_without_source_identity += occ.count;
            if actor.on_behalf_of.is_none() && actor.on_behalf_of_subject.is_none() {
                a.calls_without_user_identity += occ.count;
            }
        }
    }
    if let Some(p) = &actor.on_behalf_of {
        a.identity_center_users.add(p, occ.count);
    }
    if let Some(f) = &actor.federated_name {
        a.federated_users.add(f, occ.count);
    }
    a.channels.add(channel, occ.count);
    let one: [ActionId; 1];
    let listed: Option<&[ActionId]> = match mapped {
        MappedRef::Actions(ids) => Some(ids),
        MappedRef::Action(id) => {
            one = [id];
            Some(&one)
        }
        _ => None,
    };
    if let Some(actions) = listed {
        stats.mapped += occ.count;
        let class = mapper
            .error_codes()
            .classify(source, error_code, error_message);
        if let (true, Some(code)) = (class.unknown, error_code) {
            bump(&mut stats.unknown_error_codes, code, occ.count);
        }
        let outcome = class.outcome;
        // A refusal message may name the refused action (`iam:PassRole` on
        // a `RunInstances` record): the refusal counts on it, and the mapped
        // actions, whose own authorization the record does not show, are
        // attempts. A failed dependency (`KMS.AccessDeniedException` on an
        // S3 call) refuses the named action, and the mapped ones passed.
        let named = class
            .refused_action
            .and_then(|n| mapper.catalog().lookup(n))
            .filter(|_| matches!(outcome, Outcome::Denied | Outcome::FailedLikely));
        resources.clear();
        extract(resources);
        if outcome == Outcome::Success {
            if let Some(si) = &actor.source_identity {
                let e = a
                    .resources_by_source_identity
                    .get_or_insert_with(si, ResourceSample::default);
                for r in resources.iter() {
                    e.insert(r);
                }
            }
        }
        if outcome == Outcome::Success {
            for &id in actions {
                let action = cat.action(id);
                let Some(family) = AccessLevel::change_family(&action.access_levels) else {
                    continue;
                };
                a.changes.stats_mut(action.service, family, channel).add(
                    occ,
                    action.name,
                    actor.session.as_deref(),
                    resources,
                );
            }
        }
        let via = actor.invoked_by.as_deref();
        for &id in actions {
            let o = match named {
                Some(n) if outcome == Outcome::Denied && n != id => Outcome::Error,
                _ => outcome,
            };
            let s = a.actions.stats_mut((id, o));
            s.add(occ, resources, via, error_code);
            if let (Outcome::Denied, Some(p)) = (o, class.refused_by) {
                s.refused_by.add(p.as_str(), occ.count);
            }
        }
        if let Some(n) = named.filter(|n| !actions.contains(n)) {
            // The record's resources are the event's, not the named action's.
            let s = a.actions.stats_mut((n, Outcome::Denied));
            s.add(occ, &[], via, error_code);
            if let Some(p) = class.refused_by {
                s.refused_by.add(p.as_str(), occ.count);
            }
        }
        return;
    }
    match mapped {
        // Recorded above.
        MappedRef::Actions(_) | MappedRef::Action(_) => {}
        MappedRef::NoPermission(catalog_action) => {
            stats.no_permission += occ.count;
            // No permission is needed, but the call happened: a catalog action
            // of that name (sts:GetCallerIdentity) is used, never "unused".
            if let (Some(id), None) = (catalog_action, error_code) {
                a.actions.stats_mut((id, Outcome::Success)).add(
                    occ,
                    &[],
                    actor.invoked_by.as_deref(),
                    None,
                );
            }
        }
        MappedRef::NotIam => {
            stats.not_iam += occ.count;
            a.non_iam.add(&format!("{source}:{name}"), occ.count);
        }
        MappedRef::Unmapped => {
            stats.unmapped += occ.count;
            let key = format!("{source}:{name}");
            a.unmapped.add(&key, occ.count);
            *stats.unmapped_events.entry(key).or_default() += occ.count;
        }
    }
}
