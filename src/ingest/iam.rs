//! `aws iam get-account-authorization-details` output (CLI form, or the raw
//! API form with URL-encoded documents) into a `model::Account`.

use super::policy_json::{parse_document_value, PolicyError};
use super::IngestError;
use crate::model::{
    Account, AttachedPolicy, PolicyDocument, PolicySource, Principal, PrincipalType,
};
use rayon::prelude::*;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Reads and normalizes an authorization-details file.
pub fn load(path: &Path) -> Result<Account, IngestError> {
    let bytes = super::read_file(path)?;
    parse(&bytes, path)
}

/// The top level of an authorization-details document: each list element
/// stays raw text until it is read. A JSON tree of the whole document took
/// about twelve times the file (some 80 MB for 10,000 roles), and the
/// allocator kept that memory for the rest of the run.
type RawRoot<'a> = BTreeMap<std::borrow::Cow<'a, str>, &'a RawValue>;

/// Parses authorization details; `path` is only used to name errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Account, IngestError> {
    let parser = Parser {
        path,
        inline_docs: Mutex::default(),
    };
    // Reading the top level checks the syntax of the whole file.
    let root: RawRoot = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            parser.shape("$", "expected an object")
        } else {
            IngestError::json(path, &e)
        }
    })?;
    parser.account(&root)
}

struct Parser<'a> {
    path: &'a Path,
    /// Inline documents by their JSON text: identical inline policies (roles
    /// stamped from one template) share one document, so the audit evaluates
    /// them once (`verdict::principal_verdicts` groups principals by document).
    /// Shared by the threads that read principals.
    inline_docs: Mutex<HashMap<String, Arc<PolicyDocument>>>,
}

/// The managed policy `arn`, attached as `mk` says; `None`, and `arn` noted
/// once in `missing`, when the document does not hold it.
fn attach_managed(
    managed: &HashMap<String, Managed>,
    missing: &mut Vec<String>,
    arn: &str,
    mk: &dyn Fn(String, String) -> PolicySource,
) -> Option<AttachedPolicy> {
    match managed.get(arn) {
        Some(m) => Some(AttachedPolicy {
            source: mk(m.name.clone(), m.version.clone()),
            document: m.document.clone(),
        }),
        None => {
            if !missing.iter().any(|a| a == arn) {
                missing.push(arn.to_string());
            }
            None
        }
    }
}

struct Managed {
    name: String,
    version: String,
    document: Arc<PolicyDocument>,
}

impl Parser<'_> {
    fn shape(&self, location: &str, message: impl Into<String>) -> IngestError {
        IngestError::Shape {
            path: self.path.to_path_buf(),
            location: location.to_string(),
            message: message.into(),
        }
    }

    fn policy_err(&self, e: PolicyError) -> IngestError {
        self.shape(&e.location, e.message)
    }

    fn obj<'v>(&self, v: &'v Value, at: &str) -> Result<&'v Map<String, Value>, IngestError> {
        v.as_object()
            .ok_or_else(|| self.shape(at, "expected an object"))
    }

    fn list<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<&'v [Value], IngestError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(self.shape(&format!("{at}.{key}"), "expected a list")),
        }
    }

    fn string(&self, obj: &Map<String, Value>, key: &str, at: &str) -> Result<String, IngestError> {
        match obj.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(self.shape(&format!("{at}.{key}"), "expected a string")),
            None => Err(self.shape(at, format!("missing `{key}`"))),
        }
    }

    fn opt_string(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<Option<String>, IngestError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.shape(&format!("{at}.{key}"), "expected a string")),
        }
    }

    /// The elements of a top-level list, as raw text.
    fn top_list<'r>(
        &self,
        root: &RawRoot<'r>,
        key: &str,
    ) -> Result<Vec<&'r RawValue>, IngestError> {
        match root.get(key) {
            None => Ok(Vec::new()),
            Some(raw) if raw.get() == "null" => Ok(Vec::new()),
            Some(raw) => serde_json::from_str(raw.get())
                .map_err(|_| self.shape(&format!("$.{key}"), "expected a list")),
        }
    }

    /// One list element as a tree, for as long as it is read.
    fn element(&self, raw: &RawValue, at: &str) -> Result<Value, IngestError> {
        serde_json::from_str(raw.get()).map_err(|e| self.shape(at, e.to_string()))
    }

    fn account(&self, root: &RawRoot) -> Result<Account, IngestError> {
        if ![
            "UserDetailList",
            "RoleDetailList",
            "GroupDetailList",
            "Policies",
        ]
        .iter()
        .any(|k| root.contains_key(*k))
        {
            return Err(self.shape(
                "$",
                "not an authorization-details document: none of `UserDetailList`, `RoleDetailList`, `GroupDetailList`, `Policies`",
            ));
        }

        let mut managed: HashMap<String, Managed> = HashMap::new();
        for (i, p) in self.top_list(root, "Policies")?.into_iter().enumerate() {
            let at = format!("$.Policies[{i}]");
            let p = self.element(p, &at)?;
            let p = self.obj(&p, &at)?;
            let arn = self.string(p, "Arn", &at)?;
            let name = self.string(p, "PolicyName", &at)?;
            let default = self.opt_string(p, "DefaultVersionId", &at)?;
            let versions = self.list(p, "PolicyVersionList", &at)?;
            let mut chosen = None;
            for (j, v) in versions.iter().enumerate() {
                let vat = format!("{at}.PolicyVersionList[{j}]");
                let v = self.obj(v, &vat)?;
                let id = self.opt_string(v, "VersionId", &vat)?.unwrap_or_default();
                let is_default = matches!(v.get("IsDefaultVersion"), Some(Value::Bool(true)))
                    || default.as_deref() == Some(id.as_str());
                if is_default {
                    let doc = v
                        .get("Document")
                        .ok_or_else(|| self.shape(&vat, "missing `Document`"))?;
                    let doc = parse_document_value(doc, &format!("{vat}.Document"))
                        .map_err(|e| self.policy_err(e))?;
                    chosen = Some((id, doc));
                    break;
                }
            }
            // Only the default version is in force; a policy without one cannot grant.
            if let Some((version, doc)) = chosen {
                managed.insert(
                    arn,
                    Managed {
                        name,
                        version,
                        document: Arc::new(doc),
                    },
                );
            }
        }

        let mut missing = Vec::new();
        let mut attach = |arn: &str, mk: &dyn Fn(String, String) -> PolicySource| {
            attach_managed(&managed, &mut missing, arn, mk)
        };

        // Groups first: their policies flow to members.
        let mut groups: HashMap<String, Vec<AttachedPolicy>> = HashMap::new();
        for (i, g) in self
            .top_list(root, "GroupDetailList")?
            .into_iter()
            .enumerate()
        {
            let at = format!("$.GroupDetailList[{i}]");
            let g = self.element(g, &at)?;
            let g = self.obj(&g, &at)?;
            let name = self.string(g, "GroupName", &at)?;
            let mut pols = Vec::new();
            for (j, ip) in self.list(g, "GroupPolicyList", &at)?.iter().enumerate() {
                let (pname, doc) = self.inline(ip, &format!("{at}.GroupPolicyList[{j}]"))?;
                pols.push(AttachedPolicy {
                    source: PolicySource::GroupInline {
                        group: name.clone(),
                        policy_name: pname,
                    },
                    document: doc,
                });
            }
            for (j, mp) in self
                .list(g, "AttachedManagedPolicies", &at)?
                .iter()
                .enumerate()
            {
                let mat = format!("{at}.AttachedManagedPolicies[{j}]");
                let arn = self.string(self.obj(mp, &mat)?, "PolicyArn", &mat)?;
                let group = name.clone();
                if let Some(p) = attach(&arn, &|n, v| PolicySource::GroupManaged {
                    group: group.clone(),
                    arn: arn.clone(),
                    name: n,
                    version: v,
                }) {
                    pols.push(p);
                }
            }
            groups.insert(name, pols);
        }

        // Each user and role is read on its own (in parallel: a JSON tree per
        // principal and its policy documents were most of reading 10,000
        // roles), then gathered in file order, so the first error and the
        // missing policies come out as a sequential read gives them.
        let mut items = Vec::new();
        for (kind, list_key, prefix) in [
            (PrincipalType::User, "UserDetailList", "User"),
            (PrincipalType::Role, "RoleDetailList", "Role"),
        ] {
            for (i, u) in self.top_list(root, list_key)?.into_iter().enumerate() {
                items.push((kind, list_key, prefix, i, u));
            }
        }
        let read: Vec<Result<(Principal, Vec<String>), IngestError>> = items
            .par_iter()
            .map(|&(kind, list_key, prefix, i, u)| {
                self.principal(
                    kind,
                    &format!("$.{list_key}[{i}]"),
                    prefix,
                    u,
                    &managed,
                    &groups,
                )
            })
            .collect();
        let mut principals = Vec::with_capacity(read.len());
        let mut account_id = None;
        for r in read {
            let (p, not_found) = r?;
            if account_id.is_none() {
                account_id = p.arn.split(':').nth(4).map(str::to_string);
            }
            for arn in not_found {
                if !missing.contains(&arn) {
                    missing.push(arn);
                }
            }
            principals.push(p);
        }
        principals.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(Account {
            account_id,
            principals,
            missing_policies: missing,
        })
    }

    /// One user or role (`at` names it in errors), and the managed policies
    /// it names that the document does not hold.
    fn principal(
        &self,
        kind: PrincipalType,
        at: &str,
        prefix: &str,
        u: &RawValue,
        managed: &HashMap<String, Managed>,
        groups: &HashMap<String, Vec<AttachedPolicy>>,
    ) -> Result<(Principal, Vec<String>), IngestError> {
        let mut missing: Vec<String> = Vec::new();
        let mut attach = |arn: &str, mk: &dyn Fn(String, String) -> PolicySource| {
            attach_managed(managed, &mut missing, arn, mk)
        };
        let u = self.element(u, at)?;
        let u = self.obj(&u, at)?;
        let name = self.string(u, &format!("{prefix}Name"), at)?;
        let arn = self.string(u, "Arn", at)?;
        let mut policies = Vec::new();
        for (j, ip) in self
            .list(u, &format!("{prefix}PolicyList"), at)?
            .iter()
            .enumerate()
        {
            let (pname, doc) = self.inline(ip, &format!("{at}.{prefix}PolicyList[{j}]"))?;
            policies.push(AttachedPolicy {
                source: PolicySource::Inline { policy_name: pname },
                document: doc,
            });
        }
        for (j, mp) in self
            .list(u, "AttachedManagedPolicies", at)?
            .iter()
            .enumerate()
        {
            let mat = format!("{at}.AttachedManagedPolicies[{j}]");
            let parn = self.string(self.obj(mp, &mat)?, "PolicyArn", &mat)?;
            if let Some(p) = attach(&parn, &|n, v| PolicySource::Managed {
                arn: parn.clone(),
                name: n,
                version: v,
            }) {
                policies.push(p);
            }
        }
        let mut member_of = Vec::new();
        if kind == PrincipalType::User {
            for (j, g) in self.list(u, "GroupList", at)?.iter().enumerate() {
                let g = g.as_str().ok_or_else(|| {
                    self.shape(&format!("{at}.GroupList[{j}]"), "expected a string")
                })?;
                member_of.push(g.to_string());
                if let Some(gp) = groups.get(g) {
                    policies.extend(gp.iter().cloned());
                }
            }
        }
        let boundary = match u.get("PermissionsBoundary") {
            None | Some(Value::Null) => None,
            Some(b) => {
                let bat = format!("{at}.PermissionsBoundary");
                let barn = self.string(self.obj(b, &bat)?, "PermissionsBoundaryArn", &bat)?;
                let found = attach(&barn, &|n, v| PolicySource::Boundary {
                    arn: barn.clone(),
                    name: n,
                    version: v,
                });
                // A boundary we cannot read still bounds: treat it as
                // allowing nothing rather than as absent, and say so.
                Some(found.unwrap_or_else(|| AttachedPolicy {
                    source: PolicySource::Boundary {
                        arn: barn.clone(),
                        name: barn.rsplit('/').next().unwrap_or(&barn).to_string(),
                        version: "missing".into(),
                    },
                    document: Arc::new(PolicyDocument::default()),
                }))
            }
        };
        let trust_policy = match u.get("AssumeRolePolicyDocument") {
            None | Some(Value::Null) => None,
            Some(d) => Some(
                parse_document_value(d, &format!("{at}.AssumeRolePolicyDocument"))
                    .map_err(|e| self.policy_err(e))?,
            ),
        };
        let mut tags = Vec::new();
        for (j, t) in self.list(u, "Tags", at)?.iter().enumerate() {
            let tat = format!("{at}.Tags[{j}]");
            let t = self.obj(t, &tat)?;
            tags.push((
                self.string(t, "Key", &tat)?,
                self.opt_string(t, "Value", &tat)?.unwrap_or_default(),
            ));
        }
        let role_last_used = u
            .get("RoleLastUsed")
            .and_then(|r| r.get("LastUsedDate"))
            .and_then(Value::as_str)
            .map(str::to_string);
        // Read leniently: only PassRole's inference uses them.
        let instance_profiles = u
            .get("InstanceProfileList")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|p| p.get("Arn").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let principal = Principal {
            id: self
                .opt_string(u, &format!("{prefix}Id"), at)?
                .unwrap_or_default(),
            path: self
                .opt_string(u, "Path", at)?
                .unwrap_or_else(|| "/".into()),
            created: self.opt_string(u, "CreateDate", at)?,
            arn,
            name,
            principal_type: kind,
            policies,
            boundary,
            trust_policy,
            tags,
            groups: member_of,
            role_last_used,
            instance_profiles,
        };
        Ok((principal, missing))
    }

    fn inline(&self, v: &Value, at: &str) -> Result<(String, Arc<PolicyDocument>), IngestError> {
        let o = self.obj(v, at)?;
        let name = self.string(o, "PolicyName", at)?;
        let doc = o
            .get("PolicyDocument")
            .ok_or_else(|| self.shape(at, "missing `PolicyDocument`"))?;
        // The raw API form is a URL-encoded string, the CLI form an object.
        let key = match doc {
            Value::String(s) => format!("s{s}"),
            other => format!("o{other}"),
        };
        let docs = || self.inline_docs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = docs().get(&key) {
            return Ok((name, Arc::clone(d)));
        }
        // Parsed outside the lock; when two threads parse the same text,
        // the first one stored is the one every principal shares.
        let parsed = Arc::new(
            parse_document_value(doc, &format!("{at}.PolicyDocument"))
                .map_err(|e| self.policy_err(e))?,
        );
        let shared = Arc::clone(docs().entry(key).or_insert(parsed));
        Ok((name, shared))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_policies_flow_to_members_and_boundaries_attach() {
        let doc = serde_json::json!({
            "UserDetailList": [{"UserName":"alice","UserId":"AIDA1","Arn":"arn:aws:iam::111122223333:user/alice","Path":"/","GroupList":["dev"],
                "UserPolicyList":[],"AttachedManagedPolicies":[],
                "PermissionsBoundary":{"PermissionsBoundaryType":"Policy","PermissionsBoundaryArn":"arn:aws:iam::111122223333:policy/b"}}],
            "GroupDetailList": [{"GroupName":"dev","GroupId":"AGPA1","Arn":"arn:aws:iam::111122223333:group/dev","Path":"/",
                "GroupPolicyList":[{"PolicyName":"read","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}}],
                "AttachedManagedPolicies":[{"PolicyName":"p","PolicyArn":"arn:aws:iam::111122223333:policy/p"}]}],
            "RoleDetailList": [],
            "Policies": [
                {"PolicyName":"p","Arn":"arn:aws:iam::111122223333:policy/p","DefaultVersionId":"v2","PolicyVersionList":[
                    {"VersionId":"v1","IsDefaultVersion":false,"Document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}},
                    {"VersionId":"v2","IsDefaultVersion":true,"Document":"%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22ec2%3ADescribe%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"}]},
                {"PolicyName":"b","Arn":"arn:aws:iam::111122223333:policy/b","DefaultVersionId":"v1","PolicyVersionList":[
                    {"VersionId":"v1","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}}]}
            ]
        });
        let acct = parse(doc.to_string().as_bytes(), Path::new("iam.json")).unwrap();
        let alice = &acct.principals[0];
        assert_eq!(alice.policies.len(), 2);
        assert!(
            matches!(&alice.policies[1].source, PolicySource::GroupManaged { version, .. } if version == "v2")
        );
        assert_eq!(
            alice.policies[1].document.statements[0].actions,
            crate::model::ActionSpec::Action(vec!["ec2:Describe*".into()])
        );
        assert!(alice.boundary.is_some());
        assert_eq!(acct.account_id.as_deref(), Some("111122223333"));
    }

    #[test]
    fn errors_name_file_and_path() {
        let doc = br#"{"UserDetailList":[{"UserName":"a","Arn":"arn:aws:iam::1:user/a","UserPolicyList":[{"PolicyName":"x","PolicyDocument":{"Statement":[{"Effect":"Allow"}]}}]}]}"#;
        let e = parse(doc, Path::new("snap/iam.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("snap/iam.json"), "{e}");
        assert!(
            e.contains("$.UserDetailList[0].UserPolicyList[0].PolicyDocument.Statement[0]"),
            "{e}"
        );
        let e = parse(b"{\"UserDetailList\": [", Path::new("iam.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = parse(b"[]", Path::new("iam.json")).unwrap_err().to_string();
        assert!(e.contains("expected an object"), "{e}");
        let e = parse(br#"{"RoleDetailList":{}}"#, Path::new("iam.json"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("$.RoleDetailList") && e.contains("expected a list"),
            "{e}"
        );
        let e = parse(
            br#"{"Policies":null,"RoleDetailList":[7]}"#,
            Path::new("iam.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("$.RoleDetailList[0]") && e.contains("expected an object"),
            "{e}"
        );
    }
}
