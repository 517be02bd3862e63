//! Session chains: which credentials issued which, back to the first
//! identity (an IAM user, an Identity Center user, a SAML or OIDC subject,
//! a workload's service), and what each role session did.
//!
//! An `AssumeRole*` record's `responseElements.credentials.accessKeyId` is
//! the key every call of the new session is signed with
//! (`userIdentity.accessKeyId`); the caller of `AssumeRole` is itself a
//! session with its own key, or the first identity. Records arrive in no
//! particular order, from several threads: reading keeps two compact maps by
//! access key (what issued it; what its session did, per action and
//! outcome), merged at the end, and [`SessionChains::resolve`] walks them.
//! Their size grows with role sessions (one entry per `AssumeRole*` call and
//! per session key used), never with events: a session that makes 10,000
//! calls to 5 actions holds 5 entries.
//!
//! Where a link is missing (the issuing call is in logs that were not read,
//! or before the window), the chain says where it breaks; the session's
//! `sourceIdentity`, which AWS carries along the chain, still names who the
//! first caller said it was.
//!
//! Session tags follow the STS rules for role chaining: a tag set with
//! `TransitiveTagKeys` (or a SAML/OIDC `TransitiveTagKeys` attribute) passes
//! to every later session of the chain, and a later `AssumeRole` cannot
//! change its value (STS refuses a tag whose key, compared without case,
//! is already inherited); a tag that is not transitive stays on the one
//! session. The `AssumeRole` record of a chained call also lists what it
//! inherited (`requestParameters.incomingTransitiveTags`), which names tags
//! set before the chain's first recorded link.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_role-chaining>
//!
//! This module reads raw records; it knows nothing of grants or Identity
//! Center's assignments beyond the user list used to name a person.

use super::activity::Outcome;
use super::attribution::Actor;
use super::mapping::MappedRef;
use crate::catalog::ActionId;
use crate::ingest::cloudtrail::RawRecord;
use crate::model::identity_center::{permission_set_of_role, IdentityCenter};
use crate::util::FastMap;
use std::borrow::Cow;

/// Who called an `AssumeRole*` API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssuedBy {
    /// A role session, by its own key (`None` when the record lacks it).
    Session {
        key: Option<Box<str>>,
        role: Box<str>,
        session: Box<str>,
    },
    IamUser(Box<str>),
    Root(Box<str>),
    /// `AssumeRoleWithSAML`: the subject and the identity provider.
    Saml {
        subject: Box<str>,
        provider: Box<str>,
    },
    /// `AssumeRoleWithWebIdentity`: the token's subject and its issuer.
    WebIdentity {
        subject: Box<str>,
        provider: Box<str>,
    },
    /// An AWS service on a workload's behalf (`ec2.amazonaws.com`, ...).
    Service(Box<str>),
    /// Any other identity, by ARN or type.
    Other(Box<str>),
}

/// One `AssumeRole*` call that issued a session key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub role: Box<str>,
    pub session: Box<str>,
    pub by: IssuedBy,
    pub source_identity: Option<Box<str>>,
    /// Session tags the call set, `key=value`.
    pub tags: Box<[Box<str>]>,
    /// The keys it made transitive and the transitive tags it inherited;
    /// `None` (one word) for the many calls without either.
    pub transitive: Option<Box<Transitive>>,
    pub time: i64,
    pub event: Box<str>,
}

/// What an `AssumeRole*` record says about transitive session tags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transitive {
    /// `requestParameters.transitiveTagKeys`.
    pub keys: Box<[Box<str>]>,
    /// `requestParameters.incomingTransitiveTags`, `key=value`: what the
    /// calling session passed on.
    pub incoming: Box<[Box<str>]>,
}

/// One action of a session, with one outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionAction {
    pub action: ActionId,
    pub outcome: Outcome,
    pub count: u64,
    pub first: i64,
    pub last: i64,
}

/// What one role session (one access key) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUse {
    /// The role's ARN (with its path, from the session issuer).
    pub role: Box<str>,
    pub session: Box<str>,
    pub source_identity: Option<Box<str>>,
    /// `IDENTITY_STORE/USER_ID` (`onBehalfOf`).
    pub on_behalf_of: Option<Box<str>>,
    pub records: u64,
    pub first: i64,
    pub last: i64,
    /// Sorted by action and outcome.
    pub actions: Vec<SessionAction>,
}

impl SessionUse {
    fn merge(&mut self, o: SessionUse) {
        self.records += o.records;
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        if self.source_identity.is_none() {
            self.source_identity = o.source_identity;
        }
        if self.on_behalf_of.is_none() {
            self.on_behalf_of = o.on_behalf_of;
        }
        for a in o.actions {
            self.add(a.action, a.outcome, a.count, a.first, a.last);
        }
    }

    fn add(&mut self, action: ActionId, outcome: Outcome, count: u64, first: i64, last: i64) {
        match self
            .actions
            .binary_search_by(|x| (x.action, x.outcome).cmp(&(action, outcome)))
        {
            Ok(i) => {
                let x = &mut self.actions[i];
                x.count += count;
                x.first = x.first.min(first);
                x.last = x.last.max(last);
            }
            Err(i) => self.actions.insert(
                i,
                SessionAction {
                    action,
                    outcome,
                    count,
                    first,
                    last,
                },
            ),
        }
    }
}

/// The links read from the logs, by access key.
#[derive(Clone, Debug, Default)]
pub struct SessionChains {
    pub issued: FastMap<Box<str>, Issue>,
    pub used: FastMap<Box<str>, SessionUse>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    #[serde(borrow, default)]
    role_arn: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    role_session_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    source_identity: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tags: Vec<Tag<'a>>,
    /// `AssumeRoleWithSAML` / `AssumeRoleWithWebIdentity`: the session tags
    /// from the assertion or token, as a map.
    #[serde(borrow, default)]
    principal_tags: Option<FastMap<Cow<'a, str>, Cow<'a, str>>>,
    #[serde(borrow, default)]
    transitive_tag_keys: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    incoming_transitive_tags: Option<FastMap<Cow<'a, str>, Cow<'a, str>>>,
}

#[derive(serde::Deserialize)]
struct Tag<'a> {
    #[serde(borrow, default)]
    key: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    value: Option<Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    #[serde(borrow, default)]
    credentials: Option<Credentials<'a>>,
    #[serde(borrow, default)]
    assumed_role_user: Option<AssumedRoleUser<'a>>,
    #[serde(borrow, default)]
    source_identity: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    subject_from_web_identity_token: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    provider: Option<Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credentials<'a> {
    #[serde(borrow, default)]
    access_key_id: Option<Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssumedRoleUser<'a> {
    #[serde(borrow, default)]
    arn: Option<Cow<'a, str>>,
}

/// `arn:aws:sts::A:assumed-role/NAME/SESSION` → (`arn:aws:iam::A:role/NAME`, SESSION).
fn role_of_session_arn(arn: &str) -> Option<(String, &str)> {
    let (head, rest) = arn.split_once(":assumed-role/")?;
    let (name, session) = rest.split_once('/')?;
    let account = head.rsplit(':').next().unwrap_or_default();
    let partition = head.split(':').nth(1).unwrap_or("aws");
    Some((
        format!("arn:{partition}:iam::{account}:role/{name}"),
        session,
    ))
}

impl SessionChains {
    /// Notes the key a successful `AssumeRole*` call issued, if the record
    /// shows it. Idempotent: copies of the record (each account's, a
    /// duplicate) note the same link.
    pub fn note_issue(&mut self, rec: &RawRecord<'_>, time: i64) {
        let (Some(source), Some(name)) = (rec.event_source.as_deref(), rec.event_name.as_deref())
        else {
            return;
        };
        if source != "sts.amazonaws.com"
            || !name.starts_with("AssumeRole")
            || rec.error_code.as_deref().is_some_and(|c| !c.is_empty())
        {
            return;
        }
        let Some(resp) = rec
            .response_elements
            .and_then(|r| serde_json::from_str::<Response>(r).ok())
        else {
            return;
        };
        let Some(key) = resp
            .credentials
            .as_ref()
            .and_then(|c| c.access_key_id.as_deref())
            .filter(|k| !k.is_empty())
        else {
            return;
        };
        if self.issued.contains_key(key) {
            return;
        }
        let req = rec
            .request_parameters
            .and_then(|r| serde_json::from_str::<Request>(r).ok());
        let from_response = resp
            .assumed_role_user
            .as_ref()
            .and_then(|u| u.arn.as_deref())
            .and_then(role_of_session_arn);
        let role = req
            .as_ref()
            .and_then(|r| r.role_arn.as_deref())
            .map(str::to_string)
            .or_else(|| from_response.as_ref().map(|(r, _)| r.clone()))
            .unwrap_or_default();
        let session = req
            .as_ref()
            .and_then(|r| r.role_session_name.as_deref())
            .or(from_response.as_ref().map(|(_, s)| *s))
            .unwrap_or_default();
        let source_identity = resp
            .source_identity
            .as_deref()
            .or(req.as_ref().and_then(|r| r.source_identity.as_deref()))
            .map(Box::from);
        let pairs = |m: &Option<FastMap<Cow<'_, str>, Cow<'_, str>>>| -> Vec<Box<str>> {
            let mut v: Vec<Box<str>> = m
                .iter()
                .flatten()
                .map(|(k, v)| format!("{k}={v}").into())
                .collect();
            v.sort_unstable();
            v
        };
        let tags = req
            .as_ref()
            .map(|r| {
                let mut t: Vec<Box<str>> = r
                    .tags
                    .iter()
                    .filter_map(|t| Some(format!("{}={}", t.key.as_deref()?, t.value.as_deref()?)))
                    .map(Box::from)
                    .collect();
                t.extend(pairs(&r.principal_tags));
                t.into_boxed_slice()
            })
            .unwrap_or_default();
        let transitive = req.as_ref().and_then(|r| {
            let t = Transitive {
                keys: r
                    .transitive_tag_keys
                    .iter()
                    .map(|k| Box::from(&**k))
                    .collect(),
                incoming: pairs(&r.incoming_transitive_tags).into(),
            };
            (!t.keys.is_empty() || !t.incoming.is_empty()).then(|| Box::new(t))
        });
        let by = issued_by(rec, name, &resp);
        self.issued.insert(
            key.into(),
            Issue {
                role: role.into(),
                session: session.into(),
                by,
                source_identity,
                tags,
                transitive,
                time,
                event: name.into(),
            },
        );
    }

    /// Notes one call of a role session, signed with `key`, that ended as
    /// `outcome` (as `rules/error-codes.yaml` reads its error code); its
    /// actions only when `actions` (only `who` reads a session's actions:
    /// 16 entries of 32 bytes per session of the synthetic organization,
    /// half the chain maps).
    pub fn note_use(
        &mut self,
        key: &str,
        actor: &Actor<'_>,
        mapped: MappedRef<'_>,
        outcome: Outcome,
        time: i64,
        actions: bool,
    ) {
        self.note_uses(key, actor, mapped, outcome, 1, time, time, actions);
    }

    /// [`SessionChains::note_use`] of `count` calls between `first` and
    /// `last`: a row that Athena aggregated (one session × action × outcome).
    #[allow(clippy::too_many_arguments)]
    pub fn note_uses(
        &mut self,
        key: &str,
        actor: &Actor<'_>,
        mapped: MappedRef<'_>,
        outcome: Outcome,
        count: u64,
        first: i64,
        last: i64,
        actions: bool,
    ) {
        let s = match self.used.get_mut(key) {
            Some(s) => s,
            None => self.used.entry(key.into()).or_insert_with(|| SessionUse {
                role: actor.arn.as_ref().into(),
                session: actor.session.as_deref().unwrap_or_default().into(),
                source_identity: actor.source_identity.as_deref().map(Box::from),
                on_behalf_of: actor.on_behalf_of.as_deref().map(Box::from),
                records: 0,
                first,
                last,
                actions: Vec::new(),
            }),
        };
        s.records += count;
        s.first = s.first.min(first);
        s.last = s.last.max(last);
        if !actions {
            return;
        }
        let one;
        let ids: &[ActionId] = match mapped {
            MappedRef::Actions(ids) => ids,
            MappedRef::Action(id) => {
                one = [id];
                &one
            }
            MappedRef::NoPermission(Some(id)) if outcome == Outcome::Success => {
                one = [id];
                &one
            }
            _ => &[],
        };
        for &id in ids {
            s.add(id, outcome, count, first, last);
        }
    }

    pub fn merge(&mut self, o: SessionChains) {
        for (k, v) in o.issued {
            self.issued.entry(k).or_insert(v);
        }
        for (k, v) in o.used {
            match self.used.get_mut(&k) {
                Some(s) => s.merge(v),
                None => {
                    self.used.insert(k, v);
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.issued.is_empty() && self.used.is_empty()
    }

    /// The chain behind the session signed with `key`: its links from the
    /// first identity to this session, and where it breaks.
    pub fn resolve(&self, key: &str, ic: Option<&IdentityCenter>) -> Chain {
        let mut hops: Vec<Hop> = Vec::new();
        let mut source_identity = None;
        let mut tags: Vec<String> = Vec::new();
        // The call that issued each hop's key, aligned with `hops`.
        let mut issues: Vec<Option<&Issue>> = Vec::new();
        let mut key: Box<str> = key.into();
        // A chain is a handful of roles long (AWS limits role chaining to
        // one hour sessions, not length), so the bound only stops a cycle
        // that forged or broken records could make.
        for _ in 0..64 {
            let used = self.used.get(&key);
            let issue = self.issued.get(&key);
            let (role, session) = match (used, issue) {
                (Some(u), _) => (u.role.to_string(), u.session.to_string()),
                (None, Some(i)) => (i.role.to_string(), i.session.to_string()),
                (None, None) => (String::new(), String::new()),
            };
            if source_identity.is_none() {
                source_identity = used
                    .and_then(|u| u.source_identity.as_deref())
                    .or(issue.and_then(|i| i.source_identity.as_deref()))
                    .map(str::to_string);
            }
            if let Some(i) = issue {
                tags.extend(i.tags.iter().map(|t| t.to_string()));
            }
            hops.push(Hop {
                role: role.clone(),
                session: session.clone(),
                key: key.to_string(),
                issued_at: issue.map(|i| i.time),
                issued_by: issue.map(|i| i.event.to_string()),
            });
            issues.push(issue);
            let finish = |origin: Origin, breaks: Option<String>, mut hops: Vec<Hop>| {
                hops.reverse();
                let mut issues = issues.clone();
                issues.reverse();
                Chain {
                    origin,
                    held_tags: held_tags(&issues),
                    hops,
                    breaks,
                    source_identity: source_identity.clone(),
                    tags: tags.clone(),
                }
            };
            let Some(issue) = issue else {
                let role_name = role.rsplit('/').next().unwrap_or_default();
                let obo = used.and_then(|u| u.on_behalf_of.as_deref());
                if let Some(set) = permission_set_of_role(role_name) {
                    return finish(
                        person_of_ic_session(ic, &session, obo, Some(set)),
                        None,
                        hops,
                    );
                }
                if let Some(o) = obo {
                    return finish(
                        person_of_ic_session(ic, &session, Some(o), None),
                        None,
                        hops,
                    );
                }
                let why = format!(
                    "no `AssumeRole*` record in the logs read issued key `{key}` (role `{role}`, session `{session}`): the calling account's trail is not among the logs, or the call was before the window"
                );
                return finish(Origin::Unknown, Some(why), hops);
            };
            match &issue.by {
                IssuedBy::Session { key: Some(k), .. } => {
                    if hops.iter().any(|h| *h.key == **k) {
                        let why = format!("key `{k}` issues itself through a cycle of records");
                        return finish(Origin::Unknown, Some(why), hops);
                    }
                    key = k.clone();
                }
                IssuedBy::Session {
                    key: None,
                    role,
                    session,
                } => {
                    let why = format!(
                        "the `{}` call by session `{session}` of `{role}` does not show the caller's access key",
                        issue.event
                    );
                    return finish(Origin::Unknown, Some(why), hops);
                }
                IssuedBy::IamUser(arn) => {
                    return finish(Origin::IamUser(arn.to_string()), None, hops)
                }
                IssuedBy::Root(arn) => return finish(Origin::Root(arn.to_string()), None, hops),
                IssuedBy::Saml { subject, provider } => {
                    return finish(
                        Origin::Saml {
                            subject: subject.to_string(),
                            provider: provider.to_string(),
                        },
                        None,
                        hops,
                    )
                }
                IssuedBy::WebIdentity { subject, provider } => {
                    return finish(
                        Origin::WebIdentity {
                            subject: subject.to_string(),
                            provider: provider.to_string(),
                        },
                        None,
                        hops,
                    )
                }
                IssuedBy::Service(s) => return finish(Origin::Service(s.to_string()), None, hops),
                IssuedBy::Other(s) => return finish(Origin::Other(s.to_string()), None, hops),
            }
        }
        let why = "the chain is longer than 64 sessions".to_string();
        hops.reverse();
        issues.reverse();
        Chain {
            origin: Origin::Unknown,
            held_tags: held_tags(&issues),
            hops,
            breaks: Some(why),
            source_identity,
            tags,
        }
    }

    /// The sessions whose chain crosses from one account into another or
    /// breaks, sorted by key: what the organization view lists of them.
    /// Resolved one at a time, so that only these are held.
    pub fn crossings(&self, ic: Option<&IdentityCenter>) -> Vec<Crossing> {
        let mut out = Vec::new();
        for (_, s, chain) in self.resolve_each(ic) {
            if let Some(why) = chain.breaks {
                out.push(Crossing::Broken {
                    role: s.role.to_string(),
                    session: s.session.to_string(),
                    why,
                    calls: s.records,
                });
            } else if chain.crosses_accounts() {
                out.push(Crossing::Chain {
                    origin: format!("{} {}", chain.origin.kind(), chain.origin.name()),
                    hops: chain
                        .hops
                        .iter()
                        .map(|h| format!("{} ({})", h.role, h.session))
                        .collect(),
                    tags: chain
                        .held_tags
                        .iter()
                        .map(|t| format!("{}={} ({})", t.key, t.value, chain.tag_origin(t)))
                        .collect(),
                    source_identity: chain.source_identity,
                    calls: s.records,
                });
            }
        }
        out.shrink_to_fit();
        out
    }

    /// Every session used, resolved, sorted by key.
    pub fn resolve_all<'a>(
        &'a self,
        ic: Option<&'a IdentityCenter>,
    ) -> Vec<(&'a str, &'a SessionUse, Chain)> {
        self.resolve_each(ic).collect()
    }

    /// Every session used, sorted by key, each resolved when the iterator
    /// reaches it: an organization has hundreds of thousands of sessions,
    /// and a caller that keeps a few of them (the organization view keeps
    /// those that cross accounts or break) need not hold every chain.
    pub fn resolve_each<'a>(
        &'a self,
        ic: Option<&'a IdentityCenter>,
    ) -> impl Iterator<Item = (&'a str, &'a SessionUse, Chain)> + 'a {
        let mut keys: Vec<(&str, &SessionUse)> = self.used.iter().map(|(k, u)| (&**k, u)).collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(b.0));
        keys.into_iter()
            .map(move |(k, u)| (k, u, self.resolve(k, ic)))
    }
}

/// Session tag keys are compared without case: STS keeps one of
/// `Department` and `department`.
fn same_key(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// `key=value` → (key, value).
fn split_tag(t: &str) -> (&str, &str) {
    t.split_once('=').unwrap_or((t, ""))
}

/// The session tags the last session of a chain holds, from the calls that
/// issued each hop's key (first hop first; `None` where no record shows
/// the call), as STS applies them along a role chain.
fn held_tags(issues: &[Option<&Issue>]) -> Vec<HeldTag> {
    // The tags the session of the current hop holds.
    let mut held: Vec<HeldTag> = Vec::new();
    for (i, issue) in issues.iter().enumerate() {
        // What the calling session passes on: its transitive tags.
        let mut next: Vec<HeldTag> = held.into_iter().filter(|t| t.transitive).collect();
        let Some(issue) = issue else {
            // The call is not in the logs read: what the session holds is
            // unknown (only the first hop can lack its call).
            held = Vec::new();
            continue;
        };
        let tr = issue.transitive.as_deref();
        // The record's own list of what it inherited names tags set before
        // the first recorded link; it is what AWS applied, so its value wins.
        for t in tr.map(|t| &*t.incoming).unwrap_or_default() {
            let (k, v) = split_tag(t);
            match next.iter_mut().find(|h| same_key(&h.key, k)) {
                Some(h) if h.value == v => {}
                Some(h) => {
                    h.value = v.to_string();
                    h.set_at = None;
                    h.seen_at = i;
                }
                None => next.push(HeldTag {
                    key: k.to_string(),
                    value: v.to_string(),
                    transitive: true,
                    set_at: None,
                    seen_at: i,
                }),
            }
        }
        for t in issue.tags.iter() {
            let (k, v) = split_tag(t);
            // STS refuses a tag whose key is inherited: the inherited one
            // stands (a record showing both is not one STS accepted).
            if next.iter().any(|h| same_key(&h.key, k)) {
                continue;
            }
            let transitive = tr.is_some_and(|tr| tr.keys.iter().any(|x| same_key(x, k)));
            next.push(HeldTag {
                key: k.to_string(),
                value: v.to_string(),
                transitive,
                set_at: Some(i),
                seen_at: i,
            });
        }
        held = next;
    }
    held.sort_by(|a, b| a.key.cmp(&b.key));
    held
}

fn person_of_ic_session(
    ic: Option<&IdentityCenter>,
    session: &str,
    on_behalf_of: Option<&str>,
    permission_set: Option<&str>,
) -> Origin {
    let by_id = on_behalf_of
        .map(|o| o.rsplit('/').next().unwrap_or(o))
        .and_then(|id| ic.and_then(|ic| ic.user_by_id(id)));
    let user = by_id.or_else(|| ic.and_then(|ic| ic.user_of_session(session)));
    Origin::IdentityCenterUser {
        user_id: user
            .map(|u| u.id.clone())
            .or_else(|| on_behalf_of.map(|o| o.rsplit('/').next().unwrap_or(o).to_string())),
        user_name: user
            .map(|u| u.user_name.clone())
            .unwrap_or_else(|| session.to_string()),
        permission_set: permission_set.map(str::to_string),
        known: user.is_some(),
    }
}

fn issued_by(rec: &RawRecord<'_>, name: &str, resp: &Response<'_>) -> IssuedBy {
    let Some(id) = rec.user_identity.as_ref() else {
        return IssuedBy::Other("unknown".into());
    };
    let kind = id.kind.as_deref().unwrap_or_default();
    let provider = || {
        id.identity_provider
            .as_deref()
            .or(resp.provider.as_deref())
            .unwrap_or_default()
            .into()
    };
    match kind {
        "AssumedRole" => {
            let issuer = id
                .session_context
                .as_ref()
                .and_then(|s| s.session_issuer.as_ref())
                .and_then(|i| i.arn.as_deref());
            let arn = id.arn.as_deref().unwrap_or_default();
            let from_arn = role_of_session_arn(arn);
            IssuedBy::Session {
                key: id
                    .access_key_id
                    .as_deref()
                    .filter(|k| !k.is_empty())
                    .map(Box::from),
                role: issuer
                    .map(str::to_string)
                    .or(from_arn.as_ref().map(|(r, _)| r.clone()))
                    .unwrap_or_default()
                    .into(),
                session: from_arn.map(|(_, s)| s).unwrap_or_default().into(),
            }
        }
        "IAMUser" => IssuedBy::IamUser(id.arn.as_deref().unwrap_or_default().into()),
        "Root" => IssuedBy::Root(id.arn.as_deref().unwrap_or_default().into()),
        "SAMLUser" => IssuedBy::Saml {
            subject: resp
                .subject
                .as_deref()
                .or(id.user_name.as_deref())
                .or(id.principal_id.as_deref())
                .unwrap_or_default()
                .into(),
            provider: provider(),
        },
        "WebIdentityUser" => IssuedBy::WebIdentity {
            subject: resp
                .subject_from_web_identity_token
                .as_deref()
                .or(id.user_name.as_deref())
                .or(id.principal_id.as_deref())
                .unwrap_or_default()
                .into(),
            provider: provider(),
        },
        "AWSService" => IssuedBy::Service(
            id.invoked_by
                .as_deref()
                .or(rec.source_ip_address.as_deref())
                .unwrap_or("an AWS service")
                .into(),
        ),
        _ if name == "AssumeRoleWithSAML" => IssuedBy::Saml {
            subject: resp.subject.as_deref().unwrap_or_default().into(),
            provider: provider(),
        },
        _ if name == "AssumeRoleWithWebIdentity" => IssuedBy::WebIdentity {
            subject: resp
                .subject_from_web_identity_token
                .as_deref()
                .unwrap_or_default()
                .into(),
            provider: provider(),
        },
        other => IssuedBy::Other(
            id.arn
                .as_deref()
                .map(str::to_string)
                .unwrap_or_else(|| other.to_string())
                .into(),
        ),
    }
}

/// A session whose chain the organization view lists, in its words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crossing {
    /// A session chain from one account into another: its first identity
    /// (`KIND NAME`), and each session as `ROLE_ARN (SESSION)`.
    Chain {
        origin: String,
        hops: Vec<String>,
        source_identity: Option<String>,
        /// The session tags the last session holds, `key=value (where set)`.
        tags: Vec<String>,
        calls: u64,
    },
    /// A session whose chain breaks, and why.
    Broken {
        role: String,
        session: String,
        why: String,
        calls: u64,
    },
}

/// The first identity of a chain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    IamUser(String),
    Root(String),
    /// A person of Identity Center: by the session name (its user name),
    /// named in `identity-center.json` when `known`.
    IdentityCenterUser {
        user_id: Option<String>,
        user_name: String,
        permission_set: Option<String>,
        known: bool,
    },
    Saml {
        subject: String,
        provider: String,
    },
    WebIdentity {
        subject: String,
        provider: String,
    },
    /// A workload: the service that assumed the role for it.
    Service(String),
    Other(String),
    /// The chain breaks before its first identity.
    Unknown,
}

impl Origin {
    /// `identity-center-user`, `iam-user`, ... as reports name the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::IamUser(_) => "iam-user",
            Origin::Root(_) => "root",
            Origin::IdentityCenterUser { .. } => "identity-center-user",
            Origin::Saml { .. } => "saml-subject",
            Origin::WebIdentity { .. } => "oidc-subject",
            Origin::Service(_) => "workload",
            Origin::Other(_) => "other",
            Origin::Unknown => "unknown",
        }
    }

    /// The identity's name: an ARN, a user name, a subject, a service.
    pub fn name(&self) -> String {
        match self {
            Origin::IamUser(a) | Origin::Root(a) | Origin::Service(a) | Origin::Other(a) => {
                a.clone()
            }
            Origin::IdentityCenterUser { user_name, .. } => user_name.clone(),
            Origin::Saml { subject, provider } | Origin::WebIdentity { subject, provider } => {
                format!("{provider}:{subject}")
            }
            Origin::Unknown => "(unknown)".into(),
        }
    }
}

/// One session of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The role's ARN.
    pub role: String,
    pub session: String,
    /// The session's access key id (an identifier, never a secret).
    pub key: String,
    /// When and by which call the key was issued, if a record shows it.
    pub issued_at: Option<i64>,
    pub issued_by: Option<String>,
}

impl Hop {
    /// The account of the role.
    pub fn account(&self) -> &str {
        self.role.split(':').nth(4).unwrap_or_default()
    }
}

/// The chain behind one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub origin: Origin,
    /// From the first session to this one.
    pub hops: Vec<Hop>,
    /// Where and why the chain breaks, when it does.
    pub breaks: Option<String>,
    /// The `sourceIdentity` the sessions carried, if any.
    pub source_identity: Option<String>,
    /// Session tags set along the chain, `key=value`.
    pub tags: Vec<String>,
    /// The session tags the last session holds (transitive tags inherited
    /// along the chain and the tags its own call set), by key.
    pub held_tags: Vec<HeldTag>,
}

/// A session tag the last session of a chain holds, and where it was set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldTag {
    pub key: String,
    pub value: String,
    /// Whether it passes to a session this one starts.
    pub transitive: bool,
    /// The hop (index into [`Chain::hops`]) whose issuing call set it;
    /// `None` when it was set before the first recorded link (the record of
    /// hop `seen_at` shows it inherited).
    pub set_at: Option<usize>,
    /// The first hop whose issuing record shows the tag.
    pub seen_at: usize,
}

impl Chain {
    /// Where a held tag was set, for reports: `ACCOUNT:ROLE (SESSION)`, or
    /// before that hop when the logs do not show where.
    pub fn tag_origin(&self, t: &HeldTag) -> String {
        let at = |i: usize| {
            self.hops.get(i).map_or_else(String::new, |h| {
                let name = h.role.rsplit('/').next().unwrap_or(&h.role);
                format!("{}:{name} ({})", h.account(), h.session)
            })
        };
        match t.set_at {
            Some(i) => format!("set by the call that started {}", at(i)),
            None => format!(
                "inherited by {}, set before the chain's first recorded link",
                at(t.seen_at)
            ),
        }
    }
}

impl Chain {
    /// Whether the chain crosses from one account into another.
    pub fn crosses_accounts(&self) -> bool {
        let mut accounts = self.hops.iter().map(Hop::account).filter(|a| !a.is_empty());
        let first = accounts.next();
        accounts.any(|a| Some(a) != first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(json: &str) -> RawRecord<'_> {
        serde_json::from_str(json).expect("record")
    }

    fn assume(caller: &str, role: &str, session: &str, issued: &str, si: &str) -> String {
        format!(
            r#"{{"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","userIdentity":{caller},
            "requestParameters":{{"roleArn":"{role}","roleSessionName":"{session}","sourceIdentity":"{si}","tags":[{{"key":"team","value":"ops"}}]}},
            "responseElements":{{"credentials":{{"accessKeyId":"{issued}","expiration":"x"}},"sourceIdentity":"{si}"}}}}"#
        )
    }

    fn use_of(chains: &mut SessionChains, key: &str, role: &str, session: &str) {
        let actor = Actor {
            kind: super::super::ActorKind::Principal,
            arn: Cow::Borrowed(role),
            session: Some(Cow::Borrowed(session)),
            source_identity: None,
            invoked_by: None,
            on_behalf_of: None,
            federated_name: None,
            on_behalf_of_subject: None,
        };
        chains.note_use(
            key,
            &actor,
            MappedRef::Action(ActionId(1)),
            Outcome::Success,
            10,
            true,
        );
        chains.note_use(
            key,
            &actor,
            MappedRef::Action(ActionId(1)),
            Outcome::Denied,
            20,
            true,
        );
    }

    #[test]
    fn a_person_through_identity_center_into_another_account() {
        let mut c = SessionChains::default();
        let sso_role = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Ops_0123456789abcdef";
        let caller = r#"{"type":"AssumedRole","arn":"arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Ops_0123456789abcdef/alice","accessKeyId":"ASIAFIRST"}"#;
        let text = assume(
            caller,
            "arn:aws:iam::222222222222:role/deploy",
            "alice",
            "ASIASECOND",
            "alice",
        );
        c.note_issue(&rec(&text), 5);
        use_of(&mut c, "ASIAFIRST", sso_role, "alice");
        use_of(
            &mut c,
            "ASIASECOND",
            "arn:aws:iam::222222222222:role/deploy",
            "alice",
        );
        let chain = c.resolve("ASIASECOND", None);
        assert_eq!(chain.breaks, None);
        assert_eq!(chain.hops.len(), 2);
        assert_eq!(chain.hops[0].key, "ASIAFIRST");
        assert!(chain.crosses_accounts());
        assert_eq!(chain.source_identity.as_deref(), Some("alice"));
        assert_eq!(chain.tags, vec!["team=ops".to_string()]);
        match &chain.origin {
            Origin::IdentityCenterUser {
                user_name,
                permission_set,
                ..
            } => {
                assert_eq!(user_name, "alice");
                assert_eq!(permission_set.as_deref(), Some("Ops"));
            }
            o => panic!("{o:?}"),
        }
        let s = &c.used["ASIASECOND"];
        assert_eq!(s.actions.len(), 2, "success and denied apart");
    }

    #[test]
    fn a_missing_link_says_where_the_chain_breaks() {
        let mut c = SessionChains::default();
        use_of(
            &mut c,
            "ASIAORPHAN",
            "arn:aws:iam::222222222222:role/deploy",
            "ci",
        );
        let chain = c.resolve("ASIAORPHAN", None);
        assert_eq!(chain.origin, Origin::Unknown);
        let why = chain.breaks.expect("broken");
        assert!(
            why.contains("ASIAORPHAN") && why.contains("deploy"),
            "{why}"
        );
    }

    #[test]
    fn first_identities_of_each_kind() {
        let cases = [
            (
                r#"{"type":"IAMUser","arn":"arn:aws:iam::1:user/bob","accessKeyId":"AKIABOB"}"#,
                "AssumeRole",
                Origin::IamUser("arn:aws:iam::1:user/bob".into()),
            ),
            (
                r#"{"type":"WebIdentityUser","userName":"repo:o/r:ref:refs/heads/main","identityProvider":"token.actions.githubusercontent.com"}"#,
                "AssumeRoleWithWebIdentity",
                Origin::WebIdentity {
                    subject: "repo:o/r:ref:refs/heads/main".into(),
                    provider: "token.actions.githubusercontent.com".into(),
                },
            ),
            (
                r#"{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}"#,
                "AssumeRole",
                Origin::Service("ec2.amazonaws.com".into()),
            ),
        ];
        for (caller, event, want) in cases {
            let mut c = SessionChains::default();
            let text = assume(caller, "arn:aws:iam::1:role/r", "s", "ASIAX", "")
                .replace("\"AssumeRole\"", &format!("\"{event}\""));
            c.note_issue(&rec(&text), 1);
            assert_eq!(c.resolve("ASIAX", None).origin, want, "{event}");
        }
    }

    /// One `AssumeRole` of a chain: `caller` (a userIdentity) assumes
    /// `role` with `extra` request parameters and is issued `issued`.
    fn chained(caller: &str, role: &str, issued: &str, extra: &str) -> String {
        format!(
            r#"{{"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","userIdentity":{caller},
            "requestParameters":{{"roleArn":"{role}","roleSessionName":"s"{extra}}},
            "responseElements":{{"credentials":{{"accessKeyId":"{issued}"}}}}}}"#
        )
    }

    fn session_of(role: &str, key: &str) -> String {
        let (account, name) = (
            role.split(':').nth(4).unwrap(),
            role.rsplit('/').next().unwrap(),
        );
        format!(
            r#"{{"type":"AssumedRole","arn":"arn:aws:sts::{account}:assumed-role/{name}/s","accessKeyId":"{key}",
            "sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"{role}"}}}}}}"#
        )
    }

    const ENTRY: &str = "arn:aws:iam::222222222222:role/entry";
    const RELAY: &str = "arn:aws:iam::333333333333:role/relay";
    const DEPLOY: &str = "arn:aws:iam::111111111111:role/deploy";

    /// alice → entry (b) → relay (c) → deploy (a), tags set at the first
    /// hop with `first`, the later records as CloudTrail writes them.
    fn three_hops(first: &str, second: &str, third: &str) -> SessionChains {
        let mut c = SessionChains::default();
        let alice = r#"{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/alice","accessKeyId":"AKIAALICE"}"#;
        for (t, time) in [
            (chained(alice, ENTRY, "ASIA1", first), 1),
            (
                chained(&session_of(ENTRY, "ASIA1"), RELAY, "ASIA2", second),
                2,
            ),
            (
                chained(&session_of(RELAY, "ASIA2"), DEPLOY, "ASIA3", third),
                3,
            ),
        ] {
            c.note_issue(&rec(&t), time);
        }
        use_of(&mut c, "ASIA3", DEPLOY, "s");
        c
    }

    fn held(chain: &Chain) -> Vec<(String, String, Option<usize>)> {
        chain
            .held_tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone(), t.set_at))
            .collect()
    }

    #[test]
    fn a_transitive_tag_set_at_the_first_hop_reaches_the_last_session() {
        let c = three_hops(
            r#","tags":[{"key":"project","value":"apollo"},{"key":"cost-center","value":"42"}],"transitiveTagKeys":["project"]"#,
            r#","incomingTransitiveTags":{"project":"apollo"},"tags":[{"key":"team","value":"release"}]"#,
            r#","incomingTransitiveTags":{"project":"apollo"}"#,
        );
        let chain = c.resolve("ASIA3", None);
        assert_eq!(chain.breaks, None);
        assert_eq!(chain.hops.len(), 3);
        assert_eq!(held(&chain), [("project".into(), "apollo".into(), Some(0))]);
        assert!(chain.held_tags[0].transitive);
        assert_eq!(
            chain.tag_origin(&chain.held_tags[0]),
            "set by the call that started 222222222222:entry (s)"
        );
        // The relay's own session holds its tag and the inherited one;
        // cost-center stayed on the first session.
        let relay = c.resolve("ASIA2", None);
        assert_eq!(
            held(&relay),
            [
                ("project".into(), "apollo".into(), Some(0)),
                ("team".into(), "release".into(), Some(1))
            ]
        );
        let entry = c.resolve("ASIA1", None);
        assert_eq!(entry.held_tags.len(), 2, "{:?}", entry.held_tags);
    }

    #[test]
    fn a_tag_that_is_not_transitive_stays_on_its_session() {
        let c = three_hops(r#","tags":[{"key":"project","value":"hermes"}]"#, "", "");
        let chain = c.resolve("ASIA3", None);
        assert_eq!(chain.breaks, None);
        assert!(chain.held_tags.is_empty(), "{:?}", chain.held_tags);
        // Still listed among the tags set along the chain.
        assert_eq!(chain.tags, ["project=hermes"]);
    }

    #[test]
    fn a_chained_call_cannot_override_an_inherited_tag() {
        // Keys compare without case; STS refuses the call, so a record
        // that shows both keeps the inherited value.
        let c = three_hops(
            r#","tags":[{"key":"Project","value":"apollo"}],"transitiveTagKeys":["PROJECT"]"#,
            r#","tags":[{"key":"project","value":"hermes"}],"transitiveTagKeys":["project"]"#,
            "",
        );
        let chain = c.resolve("ASIA3", None);
        assert_eq!(held(&chain), [("Project".into(), "apollo".into(), Some(0))]);
    }

    #[test]
    fn inherited_tags_before_the_first_recorded_link() {
        // The relay's key was issued by a call the logs do not hold; its
        // AssumeRole record says what it inherited.
        let mut c = SessionChains::default();
        c.note_issue(
            &rec(&chained(
                &session_of(RELAY, "ASIAORPHAN"),
                DEPLOY,
                "ASIA3",
                r#","incomingTransitiveTags":{"project":"zeus"}"#,
            )),
            1,
        );
        use_of(&mut c, "ASIA3", DEPLOY, "s");
        let chain = c.resolve("ASIA3", None);
        assert!(chain.breaks.is_some());
        assert_eq!(held(&chain), [("project".into(), "zeus".into(), None)]);
        assert_eq!(
            chain.tag_origin(&chain.held_tags[0]),
            "inherited by 111111111111:deploy (s), set before the chain's first recorded link"
        );
    }

    #[test]
    fn saml_principal_tags_are_session_tags() {
        let mut c = SessionChains::default();
        let saml = r#"{"type":"SAMLUser","userName":"alice@example.com","identityProvider":"arn:aws:iam::222222222222:saml-provider/idp"}"#;
        let text = chained(
            saml,
            ENTRY,
            "ASIA1",
            r#","principalTags":{"department":"eng","cost":"7"},"transitiveTagKeys":["department"]"#,
        )
        .replace("\"AssumeRole\"", "\"AssumeRoleWithSAML\"");
        c.note_issue(&rec(&text), 1);
        c.note_issue(
            &rec(&chained(&session_of(ENTRY, "ASIA1"), RELAY, "ASIA2", "")),
            2,
        );
        let chain = c.resolve("ASIA2", None);
        assert_eq!(held(&chain), [("department".into(), "eng".into(), Some(0))]);
    }

    #[test]
    fn refused_and_failed_calls_issue_nothing() {
        let mut c = SessionChains::default();
        let text = assume(
            r#"{"type":"IAMUser","arn":"arn:aws:iam::1:user/bob"}"#,
            "arn:aws:iam::1:role/r",
            "s",
            "ASIAX",
            "",
        )
        .replace(
            "\"eventName\"",
            "\"errorCode\":\"AccessDenied\",\"eventName\"",
        );
        c.note_issue(&rec(&text), 1);
        assert!(c.issued.is_empty());
    }
}
