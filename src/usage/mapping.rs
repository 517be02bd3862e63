//! CloudTrail `(eventSource, eventName)` to the IAM actions that authorized the call.
//!
//! Most events map by rule: the service prefix is the event source without `.amazonaws.com`,
//! the event name loses any API-version suffix (`UpdateFunctionCode20150331v2`), and
//! `prefix:Name` is looked up in the [`Catalog`] case-insensitively. Everything that rule gets
//! wrong is data, not code: `rules/cloudtrail.yaml` (hand-curated, with sources) and
//! `rules/cloudtrail-sdk.yaml` (generated from iam-dataset by `scripts/gen-cloudtrail-map.py`).
//!
//! This module only classifies names. It does not read records, resolve principals or resources,
//! and it never prints: callers decide what an unmapped event means. The mapper also carries the
//! error-code rules (`error_codes`), which say how a mapped call ended: both are what a record
//! means, and both make the fingerprint an activity store is checked against.

use std::collections::HashMap;

use serde::Deserialize;

use crate::catalog::{ActionId, Catalog};
use crate::util::FastMap;

/// The rules shipped in the binary, in load order: later files override earlier ones.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "rules/cloudtrail-sdk.yaml",
        include_str!("../../rules/cloudtrail-sdk.yaml"),
    ),
    (
        "rules/cloudtrail.yaml",
        include_str!("../../rules/cloudtrail.yaml"),
    ),
    (
        "rules/cloudtrail-passrole.yaml",
        include_str!("../../rules/cloudtrail-passrole.yaml"),
    ),
];

/// What a request parameter that passes a role holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holds {
    RoleArn,
    RoleName,
    RoleArnOrName,
    InstanceProfileArn,
    InstanceProfileName,
    /// Present when the call may pass a role the record does not name
    /// (a launch template's instance profile).
    Unknown,
}

/// One request parameter of a call that passes a role to a service
/// (`passes_role` in the rules).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleParam {
    /// Dotted path into `requestParameters`; `[]` walks a list.
    pub path: String,
    pub holds: Holds,
    /// The `iam:PassedToService` value, when established.
    #[serde(default)]
    pub passed_to: Option<String>,
}

/// What a CloudTrail event says about the permissions its caller needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// The call was authorized as these actions (one or more, in rule order).
    Actions(Vec<ActionId>),
    /// An IAM-authenticated call that needs no Allow (`sts:GetCallerIdentity`),
    /// with the catalog action of the same name when there is one.
    NoPermission(Option<ActionId>),
    /// Not an IAM-authorized call at all: console sign-in, portal tokens, service events.
    NotIam,
    /// Neither a rule nor the catalog knows this event.
    Unmapped,
}

/// [`Mapped`] borrowed from the mapper, for callers that must not allocate per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappedRef<'a> {
    Actions(&'a [ActionId]),
    /// No rule applies and the event name is the action's name (the usual case).
    Action(ActionId),
    NoPermission(Option<ActionId>),
    NotIam,
    Unmapped,
}

impl MappedRef<'_> {
    pub fn to_owned(self) -> Mapped {
        match self {
            MappedRef::Actions(ids) => Mapped::Actions(ids.to_vec()),
            MappedRef::Action(id) => Mapped::Actions(vec![id]),
            MappedRef::NoPermission(id) => Mapped::NoPermission(id),
            MappedRef::NotIam => Mapped::NotIam,
            MappedRef::Unmapped => Mapped::Unmapped,
        }
    }
}

/// Errors while loading mapping rules.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file is not valid YAML, or does not have the rules schema.
    #[error("invalid rules file `{file}`: {message}")]
    Yaml {
        file: String,
        /// 1-based, when the parser knows it.
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// A rule names an action the catalog does not have (a typo, or a stale rule).
    #[error("`{file}`: `{entry}`: unknown action `{action}`")]
    UnknownAction {
        file: String,
        entry: String,
        action: String,
    },
    /// A source is mapped to a service prefix the catalog does not have.
    #[error("`{file}`: `sources.{source_name}`: unknown service prefix `{prefix}`")]
    UnknownService {
        file: String,
        source_name: String,
        prefix: String,
    },
    /// An `events` entry with no actions: that is what `no_permission` is for.
    #[error("`{file}`: `{entry}`: empty action list (use `no_permission` or `not_iam`)")]
    EmptyActions { file: String, entry: String },
    /// The same event is given two meanings in one file.
    #[error("`{file}`: `{entry}`: also listed in `{other}`")]
    Conflict {
        file: String,
        entry: String,
        other: String,
    },
    /// The error-code rules (`rules/error-codes.yaml`) do not load.
    #[error(transparent)]
    ErrorCodes(#[from] super::error_codes::ErrorCodesError),
}

/// The schema of a rules file; see the header of `rules/cloudtrail.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    sources: HashMap<String, String>,
    /// Source or prefix -> event name -> actions. Ordered so that errors are deterministic.
    #[serde(default)]
    events: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    no_permission: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    not_iam: std::collections::BTreeMap<String, Vec<String>>,
    /// Source or prefix -> event name -> the parameters that pass a role.
    #[serde(default)]
    passes_role:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<RoleParam>>>,
    /// Shapes of the API-version suffix some services put on event names:
    /// `9` is any digit, any other character itself.
    #[serde(default)]
    api_version_suffixes: Vec<String>,
}

/// One rule's outcome, stored by lowercase key and name.
#[derive(Debug, Clone)]
enum Rule {
    Actions(Vec<ActionId>),
    NoPermission(Option<ActionId>),
    NotIam,
}

impl Rule {
    fn as_ref(&self) -> MappedRef<'_> {
        match self {
            Rule::Actions(ids) => MappedRef::Actions(ids),
            Rule::NoPermission(id) => MappedRef::NoPermission(*id),
            Rule::NotIam => MappedRef::NotIam,
        }
    }
}

/// Maps CloudTrail event names to IAM actions. Built once; every lookup is two or three hash
/// probes on lowercase keys built on the stack, with no allocation for names of normal length.
#[derive(Debug)]
pub struct EventMapper {
    /// Lowercase event source -> service prefix as written in the rules.
    sources: FastMap<String, String>,
    /// Lowercase source or prefix -> lowercase event name -> rule.
    rules: FastMap<String, FastMap<String, Rule>>,
    /// The default rule (the event name is the action name) looks here.
    cat: &'static Catalog,
    /// How a mapped call ended, by its error code.
    error_codes: super::error_codes::ErrorCodes,
    /// SHA-256 of the rules texts, the channel rules and the error-code
    /// rules, so that activity mapped with other rules is recognised.
    fingerprint: String,
    /// The API-version suffix shapes of every rules file (`api_version_suffixes`).
    suffixes: Vec<String>,
    /// Lowercase source or prefix -> lowercase event name -> the parameters
    /// that pass a role (`passes_role`).
    passes: FastMap<String, FastMap<String, Vec<RoleParam>>>,
    /// `iam:PassRole`, which those calls are evidence of.
    pass_role: Option<ActionId>,
    /// SHA-256 of the mapping rules texts alone.
    texts_digest: String,
    /// How calls were made (`rules/channels.yaml`): aggregated with the
    /// activity, so part of the fingerprint.
    channels: super::channel::Channels,
    /// The entries as written (event names keep their case, which
    /// EventBridge patterns need), in load order: `(source or prefix, name)`.
    written: Vec<(String, String)>,
}

impl EventMapper {
    /// The mapper with the rules shipped in the binary.
    pub fn embedded(cat: &'static Catalog) -> Result<EventMapper, MappingError> {
        EventMapper::from_yaml(cat, EMBEDDED)
    }

    /// A mapper from rules texts, given as `(file name for errors, text)`. The embedded rules are
    /// not included: pass them first (see [`EventMapper::embedded_texts`]) to extend rather than
    /// replace them. Later files override earlier ones entry by entry.
    pub fn from_yaml(
        cat: &'static Catalog,
        texts: &[(&str, &str)],
    ) -> Result<EventMapper, MappingError> {
        let channels = super::channel::Channels::embedded();
        let texts_digest = fingerprint(cat, texts);
        let mut mapper = EventMapper {
            sources: FastMap::default(),
            rules: FastMap::default(),
            cat,
            error_codes: super::error_codes::ErrorCodes::embedded()?,
            suffixes: Vec::new(),
            passes: FastMap::default(),
            pass_role: cat.lookup("iam:PassRole"),
            fingerprint: String::new(),
            texts_digest,
            channels,
            written: Vec::new(),
        };
        mapper.fingerprint = mapper.combined_fingerprint();
        for (file, text) in texts {
            mapper.load(cat, file, text)?;
        }
        Ok(mapper)
    }

    /// The mapper with other error-code rules (`--rules DIR/error-codes.yaml`).
    pub fn with_error_codes(mut self, codes: super::error_codes::ErrorCodes) -> EventMapper {
        self.error_codes = codes;
        self.fingerprint = self.combined_fingerprint();
        self
    }

    fn combined_fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(with_channels(&self.texts_digest, self.channels.text()).as_bytes());
        h.update([0]);
        h.update(self.error_codes.fingerprint().as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Identifies the rules, error-code rules and catalog this mapper was built from (hex
    /// SHA-256).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Replaces the channel rules (a `--rules DIR` copy of `channels.yaml`);
    /// the fingerprint changes with them.
    pub fn set_channels(&mut self, channels: super::channel::Channels) {
        self.channels = channels;
        self.fingerprint = self.combined_fingerprint();
    }

    /// The channel rules.
    pub fn channels(&self) -> &super::channel::Channels {
        &self.channels
    }

    /// The catalog the mapper looks actions up in.
    pub fn catalog(&self) -> &'static Catalog {
        self.cat
    }

    /// The event sources whose calls authorize as `prefix` actions: the
    /// default `PREFIX.amazonaws.com` and every `sources` entry naming it.
    pub fn sources_of(&self, prefix: &str) -> Vec<String> {
        let mut out = vec![format!("{prefix}.amazonaws.com")];
        let mut extra: Vec<String> = self
            .sources
            .iter()
            .filter(|(_, p)| p.as_str() == prefix)
            .map(|(s, _)| s.clone())
            .collect();
        extra.sort();
        for s in extra {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// Every event a rule names, as written (name case kept, which
    /// EventBridge patterns need), with the rule's current meaning:
    /// `(source or prefix, event name, meaning)`. An event that a later file
    /// overrides appears once, with its last meaning.
    pub fn written_events(&self) -> Vec<(&str, &str, MappedRef<'_>)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (key, name) in self.written.iter().rev() {
            let (lk, ln) = (key.to_ascii_lowercase(), name.to_ascii_lowercase());
            if !seen.insert((lk.clone(), ln.clone())) {
                continue;
            }
            if let Some(rule) = self.rules.get(&lk).and_then(|r| r.get(&ln)) {
                out.push((key.as_str(), name.as_str(), rule.as_ref()));
            }
        }
        out.reverse();
        out
    }

    /// How a mapped call ended, by its error code and message.
    pub fn error_codes(&self) -> &super::error_codes::ErrorCodes {
        &self.error_codes
    }

    /// The names under which CloudTrail logs a call of `name` with an API
    /// version, as wildcards (`*` is any run of characters, as in
    /// EventBridge's `wildcard` and CloudWatch Logs' filters), derived from
    /// the same `api_version_suffixes` the mapping strips: `name` followed by
    /// each shape's literal head and `*` (`UpdateFunctionCode2*` for
    /// `29999999`); a shape that opens with a digit stands for ten
    /// (`name0*` .. `name9*`). None when `name` does not end with a letter
    /// (the rule strips nothing there). The wildcard also takes `name2` and
    /// anything; a test checks that no action of the catalog is named so.
    pub fn versioned_wildcards(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if !name.bytes().last().is_some_and(|b| b.is_ascii_alphabetic()) {
            return out;
        }
        for shape in &self.suffixes {
            let head: String = shape.chars().take_while(|&c| c != '9').collect();
            let heads: Vec<String> = if head.is_empty() {
                (0..10).map(|d| d.to_string()).collect()
            } else {
                vec![head]
            };
            for h in heads {
                let w = format!("{name}{h}*");
                if !out.contains(&w) {
                    out.push(w);
                }
            }
        }
        out
    }

    /// The rules files shipped in the binary, `(name, text)` in load order.
    pub fn embedded_texts() -> &'static [(&'static str, &'static str)] {
        EMBEDDED
    }

    fn load(&mut self, cat: &Catalog, file: &str, text: &str) -> Result<(), MappingError> {
        let parsed: RulesFile = yaml_serde::from_str(text).map_err(|err| {
            let location = err.location();
            MappingError::Yaml {
                file: file.to_owned(),
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
                message: err.to_string(),
            }
        })?;

        for shape in parsed.api_version_suffixes {
            if shape.is_empty() || !shape.is_ascii() || !shape.bytes().any(|b| b == b'9') {
                return Err(MappingError::Yaml {
                    file: file.to_owned(),
                    line: None,
                    column: None,
                    message: format!(
                        "api_version_suffixes: `{shape}` is not a suffix shape (ASCII, with `9` for each digit)"
                    ),
                });
            }
            if !self.suffixes.contains(&shape) {
                self.suffixes.push(shape);
            }
        }

        for (key, names) in parsed.passes_role {
            for (name, params) in names {
                if params.is_empty() || params.iter().any(|p| p.path.is_empty()) {
                    return Err(MappingError::Yaml {
                        file: file.to_owned(),
                        line: None,
                        column: None,
                        message: format!(
                            "passes_role.{key}.{name}: needs at least one parameter, each with a path"
                        ),
                    });
                }
                self.passes
                    .entry(key.to_ascii_lowercase())
                    .or_default()
                    .insert(name.to_ascii_lowercase(), params);
            }
        }

        // HashMap iteration order is random; sort so the first error reported is stable.
        let mut sources: Vec<_> = parsed.sources.into_iter().collect();
        sources.sort();
        for (source, prefix) in sources {
            if cat.service(&prefix).is_none() {
                return Err(MappingError::UnknownService {
                    file: file.to_owned(),
                    source_name: source,
                    prefix,
                });
            }
            self.sources.insert(source.to_ascii_lowercase(), prefix);
        }

        // Entries of this file, to reject one event given two meanings here; across files a later
        // entry simply wins.
        let mut seen: HashMap<(String, String), String> = HashMap::new();
        let mut claim = |key: &str, name: &str, entry: String| -> Result<(), MappingError> {
            let lower = (key.to_ascii_lowercase(), name.to_ascii_lowercase());
            match seen.get(&lower) {
                Some(other) => Err(MappingError::Conflict {
                    file: file.to_owned(),
                    entry,
                    other: other.clone(),
                }),
                None => {
                    seen.insert(lower, entry);
                    Ok(())
                }
            }
        };

        for (key, names) in &parsed.events {
            for (name, targets) in names {
                let entry = format!("events.{key}.{name}");
                claim(key, name, entry.clone())?;
                if targets.is_empty() {
                    return Err(MappingError::EmptyActions {
                        file: file.to_owned(),
                        entry,
                    });
                }
                let mut ids = Vec::with_capacity(targets.len());
                for target in targets {
                    let id = cat
                        .lookup(target)
                        .ok_or_else(|| MappingError::UnknownAction {
                            file: file.to_owned(),
                            entry: entry.clone(),
                            action: target.clone(),
                        })?;
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                self.insert(key, name, Rule::Actions(ids));
                self.written.push((key.clone(), name.clone()));
            }
        }
        for (section, lists) in [
            ("no_permission", &parsed.no_permission),
            ("not_iam", &parsed.not_iam),
        ] {
            for (key, names) in lists {
                for name in names {
                    claim(key, name, format!("{section}.{key}.{name}"))?;
                    let rule = if section == "no_permission" {
                        // Resolved once here so the hot path needs no lookup.
                        let prefix = self.service_prefix(key).to_string();
                        Rule::NoPermission(cat.lookup(&format!("{prefix}:{name}")))
                    } else {
                        Rule::NotIam
                    };
                    self.insert(key, name, rule);
                    self.written.push((key.clone(), name.clone()));
                }
            }
        }
        Ok(())
    }

    fn insert(&mut self, key: &str, name: &str, rule: Rule) {
        self.rules
            .entry(key.to_ascii_lowercase())
            .or_default()
            .insert(name.to_ascii_lowercase(), rule);
    }

    /// The IAM service prefix of an event source: a `sources` rule, else the source without
    /// `.amazonaws.com` (case kept as given; CloudTrail writes sources in lowercase).
    pub fn service_prefix<'a>(&'a self, event_source: &'a str) -> &'a str {
        if let Some(prefix) = with_lowercase(event_source, |lower| {
            self.sources.get(lower).map(String::as_str)
        }) {
            return prefix;
        }
        strip_amazonaws(event_source)
    }

    /// The IAM actions behind one CloudTrail event.
    pub fn map(&self, event_source: &str, event_name: &str) -> Mapped {
        self.map_ref(event_source, event_name).to_owned()
    }

    /// [`EventMapper::map`] without allocating: the actions are borrowed from the mapper.
    pub fn map_ref(&self, event_source: &str, event_name: &str) -> MappedRef<'_> {
        with_lowercase(event_source, |source| {
            with_lowercase(event_name, |name| self.map_lower(source, name))
        })
    }

    /// `iam:PassRole`, when the catalog has it.
    pub fn pass_role(&self) -> Option<ActionId> {
        self.pass_role
    }

    /// The request parameters through which one CloudTrail event passes a
    /// role to a service, if it is such a call (`passes_role`).
    pub fn role_params(&self, event_source: &str, event_name: &str) -> Option<&[RoleParam]> {
        with_lowercase(event_source, |source| {
            with_lowercase(event_name, |name| {
                let prefix = self.service_prefix(source);
                let stripped = strip_api_version(name, &self.suffixes);
                [source, prefix].into_iter().find_map(|key| {
                    let calls = self.passes.get(key)?;
                    calls
                        .get(name)
                        .or_else(|| calls.get(stripped))
                        .map(Vec::as_slice)
                })
            })
        })
    }

    fn map_lower(&self, source: &str, name: &str) -> MappedRef<'_> {
        // `source` is lowercase, so the prefix is too: `sources` values are catalog prefixes,
        // which are lowercase, and the fallback is a slice of `source`.
        let prefix = self.service_prefix(source);
        let stripped = strip_api_version(name, &self.suffixes);
        let names = [Some(name), (stripped != name).then_some(stripped)];

        // A rule keyed by the exact source is more specific than one keyed by the prefix
        // (`sso.amazonaws.com` portal events vs the `sso` admin API).
        for key in [source, prefix] {
            if let Some(rules) = self.rules.get(key) {
                for candidate in names.iter().flatten() {
                    if let Some(rule) = rules.get(*candidate) {
                        return rule.as_ref();
                    }
                }
            }
        }
        for candidate in names.iter().flatten() {
            if let Some(id) = self.cat.find_lowercase(prefix, candidate) {
                return MappedRef::Action(id);
            }
        }
        MappedRef::Unmapped
    }
}

/// `s3.amazonaws.com` -> `s3`, case-insensitively; anything else unchanged.
fn strip_amazonaws(source: &str) -> &str {
    const SUFFIX: &str = ".amazonaws.com";
    let cut = source.len().wrapping_sub(SUFFIX.len());
    match (source.get(..cut), source.get(cut..)) {
        (Some(head), Some(tail)) if tail.eq_ignore_ascii_case(SUFFIX) && !head.is_empty() => head,
        _ => source,
    }
}

/// Drops the API-version suffix some services put on event names: one of
/// `shapes` (`29999999` for Lambda's `20150331`, `2999_99_99` for
/// CloudFront's `2020_05_31`; `9` is a digit), optionally followed by `v`
/// and a revision, right after a letter: `UpdateFunctionCode20150331v2` ->
/// `UpdateFunctionCode`, `CreateDistribution2020_05_31` ->
/// `CreateDistribution`. Anything else unchanged: digits right before the
/// suffix are part of the name (`Foo120150331`).
fn strip_api_version<'n>(name: &'n str, shapes: &[String]) -> &'n str {
    let bytes = name.as_bytes();
    let mut end = bytes.len();
    // Optional `v<digits>` revision.
    let revision_digits = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if revision_digits > 0 && revision_digits < end {
        let v = end - revision_digits - 1;
        if bytes[v].eq_ignore_ascii_case(&b'v') {
            end = v;
        }
    }
    let fits = |shape: &[u8]| {
        let Some(start) = end.checked_sub(shape.len()) else {
            return false;
        };
        start > 0
            && bytes[start - 1].is_ascii_alphabetic()
            && bytes[start..end].iter().zip(shape).all(|(&b, &s)| {
                if s == b'9' {
                    b.is_ascii_digit()
                } else {
                    b == s
                }
            })
    };
    match shapes.iter().find(|s| fits(s.as_bytes())) {
        Some(s) => &name[..end - s.len()],
        None => name,
    }
}

/// Calls `f` with the ASCII-lowercase form of `text`, built on the stack when it is short (event
/// sources and names always are), so the hot path does not allocate.
fn with_lowercase<R>(text: &str, f: impl FnOnce(&str) -> R) -> R {
    const STACK: usize = 128;
    if !text.bytes().any(|b| b.is_ascii_uppercase()) {
        return f(text);
    }
    if text.len() <= STACK {
        let mut buf = [0u8; STACK];
        let lower = &mut buf[..text.len()];
        lower.copy_from_slice(text.as_bytes());
        lower.make_ascii_lowercase();
        // ASCII lowercasing keeps UTF-8 valid, so this cannot fail; fall through if it ever did.
        if let Ok(lower) = std::str::from_utf8(lower) {
            return f(lower);
        }
    }
    f(&text.to_ascii_lowercase())
}

/// The fingerprint of the mapping texts together with the channel rules.
fn with_channels(texts_digest: &str, channels: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(texts_digest.as_bytes());
    h.update([0]);
    h.update(channels.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn fingerprint(cat: &Catalog, texts: &[(&str, &str)]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(cat.date().as_bytes());
    h.update([0]);
    for (name, text) in texts {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapper() -> EventMapper {
        match EventMapper::embedded(Catalog::embedded()) {
            Ok(mapper) => mapper,
            Err(err) => panic!("embedded rules do not load: {err}"),
        }
    }

    fn names(mapped: Mapped) -> Vec<String> {
        let cat = Catalog::embedded();
        match mapped {
            Mapped::Actions(ids) => ids.into_iter().map(|id| cat.full_name(id)).collect(),
            other => panic!("expected actions, got {other:?}"),
        }
    }

    fn assert_maps(source: &str, name: &str, expected: &[&str]) {
        let mut got = names(mapper().map(source, name));
        got.sort();
        let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(got, expected, "{source} {name}");
    }

    #[test]
    fn strips_api_versions() {
        let shapes = &mapper().suffixes;
        let strip = |n| strip_api_version(n, shapes);
        assert_eq!(strip("UpdateFunctionCode20150331v2"), "UpdateFunctionCode");
        assert_eq!(strip("ListFunctions20150331"), "ListFunctions");
        assert_eq!(strip("GetFunction20150331v2"), "GetFunction");
        assert_eq!(strip("ListObjectsV2"), "ListObjectsV2");
        assert_eq!(strip("GetObject"), "GetObject");
        assert_eq!(strip("20150331"), "20150331");
        assert_eq!(strip("Foo120150331"), "Foo120150331");
        assert_eq!(strip("Foo2015033v2"), "Foo2015033v2");
        assert_eq!(strip("v2"), "v2");
        assert_eq!(strip(""), "");
        assert_eq!(strip("CreateDistribution2020_05_31"), "CreateDistribution");
        assert_eq!(strip("UpdateDistribution2014_01_31"), "UpdateDistribution");
        assert_eq!(strip("Foo2020_05_3"), "Foo2020_05_3");
        assert_eq!(strip("Foo12020_05_31"), "Foo12020_05_31");
        assert_eq!(strip("2020_05_31"), "2020_05_31");
    }

    /// The suffix rule is checked against the whole catalog: it changes no
    /// action's name (no false positive), and each CloudFront action, logged
    /// with the API version in CloudFront's form, maps to itself.
    #[test]
    fn the_version_suffix_rule_holds_over_the_catalog() {
        let m = mapper();
        let cat = Catalog::embedded();
        let mut cloudfront = 0;
        for svc in cat.services() {
            for id in cat.expand(&format!("{}:*", svc.prefix)).iter() {
                let full = cat.full_name(id);
                let name = full.split(':').nth(1).unwrap_or_default();
                assert_eq!(strip_api_version(name, &m.suffixes), name, "{full}");
                if svc.prefix == "cloudfront" {
                    cloudfront += 1;
                    for version in ["2020_05_31", "2019_03_26", "2014_01_31"] {
                        let logged = format!("{name}{version}");
                        assert_eq!(
                            m.map("cloudfront.amazonaws.com", &logged),
                            Mapped::Actions(vec![id]),
                            "{logged}"
                        );
                    }
                }
            }
        }
        assert!(cloudfront > 100, "{cloudfront} CloudFront actions");
    }

    /// The alerts' wildcards for versioned names take more than the rule
    /// (`CreateDistribution2` and anything): no action of a service, and no
    /// event a rule names, may be named so, or an alert would take it for
    /// another action's call.
    #[test]
    fn versioned_wildcards_take_no_other_action() {
        let m = mapper();
        let cat = Catalog::embedded();
        assert_eq!(
            m.versioned_wildcards("CreateDistribution"),
            vec!["CreateDistribution2*".to_string()]
        );
        assert!(m.versioned_wildcards("ListObjectsV2").is_empty());
        let wild = |w: &str, s: &str| {
            let head = w.trim_end_matches('*');
            s.len() > head.len() && s.starts_with(head)
        };
        for svc in cat.services() {
            let names: Vec<String> = cat
                .expand(&format!("{}:*", svc.prefix))
                .iter()
                .map(|id| cat.action(id).name.to_string())
                .chain(
                    m.written_events()
                        .into_iter()
                        .filter(|(k, _, _)| m.service_prefix(k) == svc.prefix)
                        .map(|(_, n, _)| n.to_string()),
                )
                .collect();
            for a in &names {
                for w in m.versioned_wildcards(a) {
                    for b in &names {
                        assert!(
                            !wild(&w, b) || strip_api_version(b, &m.suffixes) == a,
                            "{}: `{w}` takes `{b}`",
                            svc.prefix
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn service_prefix_defaults_and_exceptions() {
        let m = mapper();
        assert_eq!(m.service_prefix("s3.amazonaws.com"), "s3");
        assert_eq!(m.service_prefix("monitoring.amazonaws.com"), "cloudwatch");
        assert_eq!(m.service_prefix("email.amazonaws.com"), "ses");
        assert_eq!(m.service_prefix("tagging.amazonaws.com"), "tag");
        assert_eq!(m.service_prefix("bedrock-runtime.amazonaws.com"), "bedrock");
        assert_eq!(m.service_prefix("bedrock-agent.amazonaws.com"), "bedrock");
        assert_eq!(m.service_prefix("es.amazonaws.com"), "es");
        assert_eq!(
            m.service_prefix("elasticloadbalancing.amazonaws.com"),
            "elasticloadbalancing"
        );
        assert_eq!(m.service_prefix("sso-oauth.amazonaws.com"), "sso-oauth");
        assert_eq!(m.service_prefix("MONITORING.amazonaws.com"), "cloudwatch");
        assert_eq!(m.service_prefix("weird"), "weird");
        assert_eq!(m.service_prefix(".amazonaws.com"), ".amazonaws.com");
    }

    #[test]
    fn default_rule_finds_catalog_actions_case_insensitively() {
        assert_maps("iam.amazonaws.com", "CreateUser", &["iam:CreateUser"]);
        assert_maps("iam.amazonaws.com", "createuser", &["iam:CreateUser"]);
        assert_maps("s3.amazonaws.com", "GetObject", &["s3:GetObject"]);
        assert_maps(
            "s3.amazonaws.com",
            "PutBucketPublicAccessBlock",
            &["s3:PutBucketPublicAccessBlock"],
        );
        assert_maps("s3.amazonaws.com", "GetObjectAcl", &["s3:GetObjectAcl"]);
        assert_maps(
            "s3.amazonaws.com",
            "GetBucketPolicy",
            &["s3:GetBucketPolicy"],
        );
        assert_maps("ec2.amazonaws.com", "RunInstances", &["ec2:RunInstances"]);
        assert_maps(
            "ec2.amazonaws.com",
            "GetPasswordData",
            &["ec2:GetPasswordData"],
        );
        assert_maps(
            "dynamodb.amazonaws.com",
            "BatchGetItem",
            &["dynamodb:BatchGetItem"],
        );
        assert_maps(
            "kms.amazonaws.com",
            "GenerateDataKeyWithoutPlaintext",
            &["kms:GenerateDataKeyWithoutPlaintext"],
        );
        assert_maps(
            "monitoring.amazonaws.com",
            "DescribeAlarms",
            &["cloudwatch:DescribeAlarms"],
        );
        assert_maps(
            "tagging.amazonaws.com",
            "GetResources",
            &["tag:GetResources"],
        );
        assert_maps(
            "bedrock-runtime.amazonaws.com",
            "InvokeModel",
            &["bedrock:InvokeModel"],
        );
    }

    #[test]
    fn lambda_versioned_names() {
        assert_maps(
            "lambda.amazonaws.com",
            "UpdateFunctionCode20150331v2",
            &["lambda:UpdateFunctionCode"],
        );
        assert_maps(
            "lambda.amazonaws.com",
            "ListFunctions20150331",
            &["lambda:ListFunctions"],
        );
        assert_maps(
            "lambda.amazonaws.com",
            "GetFunction20150331v2",
            &["lambda:GetFunction"],
        );
        assert_maps("lambda.amazonaws.com", "Invoke", &["lambda:InvokeFunction"]);
    }

    #[test]
    fn s3_exceptions() {
        assert_maps("s3.amazonaws.com", "ListBuckets", &["s3:ListAllMyBuckets"]);
        assert_maps("s3.amazonaws.com", "HeadObject", &["s3:GetObject"]);
        assert_maps("s3.amazonaws.com", "HeadBucket", &["s3:ListBucket"]);
        for name in [
            "CreateMultipartUpload",
            "UploadPart",
            "CompleteMultipartUpload",
        ] {
            assert_maps("s3.amazonaws.com", name, &["s3:PutObject"]);
        }
        assert_maps(
            "s3.amazonaws.com",
            "UploadPartCopy",
            &["s3:GetObject", "s3:PutObject"],
        );
        assert_maps(
            "s3.amazonaws.com",
            "CopyObject",
            &["s3:GetObject", "s3:PutObject"],
        );
        assert_maps("s3.amazonaws.com", "DeleteObjects", &["s3:DeleteObject"]);
        assert_maps("s3.amazonaws.com", "ListObjects", &["s3:ListBucket"]);
        assert_maps("s3.amazonaws.com", "ListObjectsV2", &["s3:ListBucket"]);
        assert_maps(
            "s3.amazonaws.com",
            "ListObjectVersions",
            &["s3:ListBucketVersions"],
        );
        assert_maps(
            "s3.amazonaws.com",
            "DeleteBucketEncryption",
            &["s3:PutEncryptionConfiguration"],
        );
    }

    #[test]
    fn other_service_exceptions() {
        assert_maps(
            "kms.amazonaws.com",
            "ReEncrypt",
            &["kms:ReEncryptFrom", "kms:ReEncryptTo"],
        );
        assert_maps(
            "secretsmanager.amazonaws.com",
            "BatchGetSecretValue",
            &[
                "secretsmanager:BatchGetSecretValue",
                "secretsmanager:GetSecretValue",
            ],
        );
        assert_maps(
            "bedrock-runtime.amazonaws.com",
            "Converse",
            &["bedrock:InvokeModel"],
        );
        // From the generated iam-dataset file.
        assert_maps(
            "apigateway.amazonaws.com",
            "GetRestApis",
            &["apigateway:GET"],
        );
    }

    #[test]
    fn permissionless_and_non_iam() {
        let m = mapper();
        let cat = Catalog::embedded();
        assert_eq!(
            m.map("sts.amazonaws.com", "GetCallerIdentity"),
            Mapped::NoPermission(cat.lookup("sts:GetCallerIdentity"))
        );
        assert!(cat.lookup("sts:GetCallerIdentity").is_some());
        assert!(matches!(
            m.map("dynamodb.amazonaws.com", "DescribeEndpoints"),
            Mapped::NoPermission(_)
        ));
        for name in [
            "ConsoleLogin",
            "CheckMfa",
            "ExitRole",
            "SwitchRole",
            "RenewRole",
            "UserAuthentication",
            "CredentialChallenge",
            "CredentialVerification",
            "PasswordUpdated",
        ] {
            assert_eq!(
                m.map("signin.amazonaws.com", name),
                Mapped::NotIam,
                "{name}"
            );
        }
        for name in [
            "Federate",
            "GetRoleCredentials",
            "ListAccounts",
            "ListAccountRoles",
            "Authenticate",
            "Logout",
        ] {
            assert_eq!(m.map("sso.amazonaws.com", name), Mapped::NotIam, "{name}");
            assert_eq!(
                m.map("portal.sso.amazonaws.com", name),
                Mapped::NotIam,
                "{name}"
            );
        }
        assert_eq!(m.map("kms.amazonaws.com", "RotateKey"), Mapped::NotIam);
        assert_eq!(
            m.map("organizations.amazonaws.com", "CreateAccountResult"),
            Mapped::NotIam
        );
    }

    #[test]
    fn unknown_events_are_unmapped() {
        let m = mapper();
        assert_eq!(m.map("s3.amazonaws.com", "NoSuchCall"), Mapped::Unmapped);
        assert_eq!(m.map("nosuch.amazonaws.com", "GetObject"), Mapped::Unmapped);
        assert_eq!(m.map("", ""), Mapped::Unmapped);
        assert_eq!(
            m.map_ref("s3.amazonaws.com", "NoSuchCall"),
            MappedRef::Unmapped
        );
    }

    #[test]
    fn later_files_override_earlier_ones() {
        let cat = Catalog::embedded();
        let base = "events:\n  s3:\n    HeadObject: [s3:GetObject]\n";
        let over = "not_iam:\n  s3.amazonaws.com: [HeadObject]\n";
        let m = EventMapper::from_yaml(cat, &[("a.yaml", base), ("b.yaml", over)])
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(m.map("s3.amazonaws.com", "HeadObject"), Mapped::NotIam);
    }

    #[test]
    fn unknown_action_names_file_and_entry() {
        let cat = Catalog::embedded();
        let text = "events:\n  s3:\n    HeadObject: [s3:GetObjekt]\n";
        let err = EventMapper::from_yaml(cat, &[("x.yaml", text)])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("`x.yaml`: `events.s3.HeadObject`: unknown action `s3:GetObjekt`")
        );
    }

    #[test]
    fn yaml_errors_have_a_location_and_unknown_fields_are_rejected() {
        let cat = Catalog::embedded();
        match EventMapper::from_yaml(cat, &[("x.yaml", "event:\n  s3: {}\n")]) {
            Err(MappingError::Yaml { file, line, .. }) => {
                assert_eq!(file, "x.yaml");
                assert_eq!(line, Some(1));
            }
            other => panic!("expected a yaml error, got {other:?}"),
        }
    }

    #[test]
    fn conflicts_within_one_file_are_rejected() {
        let cat = Catalog::embedded();
        let text =
            "no_permission:\n  sts: [GetCallerIdentity]\nnot_iam:\n  STS: [getcalleridentity]\n";
        assert!(matches!(
            EventMapper::from_yaml(cat, &[("x.yaml", text)]),
            Err(MappingError::Conflict { .. })
        ));
        let empty = "events:\n  s3:\n    HeadObject: []\n";
        assert!(matches!(
            EventMapper::from_yaml(cat, &[("x.yaml", empty)]),
            Err(MappingError::EmptyActions { .. })
        ));
        let source = "sources:\n  foo.amazonaws.com: nosuchservice\n";
        assert!(matches!(
            EventMapper::from_yaml(cat, &[("x.yaml", source)]),
            Err(MappingError::UnknownService { .. })
        ));
    }
}
