//! The whole access decision (`policy::access`) and the assume-role graph
//! (`policy::trust`) on small hand-made cases; the evaluator corpus
//! (`tests/evaluator/organizations.yaml`, `resource-policies.yaml`) holds
//! the cases that follow AWS's documentation rule by rule.

use leastpriv::catalog::Catalog;
use leastpriv::ingest::policy_json::parse_document;
use leastpriv::model::resource::PolicyRole;
use leastpriv::model::{AttachedPolicy, PolicyDocument, PolicySource};
use leastpriv::policy::access::{
    decide, AccessRequest, AccessResponse, IdentityInput, ResourcePolicyInput, Route,
};
use leastpriv::policy::caller::{Caller, CallerKind};
use leastpriv::policy::grants::{EffectiveGrants, Expander};
use leastpriv::policy::request::{Decision, Request};
use leastpriv::policy::trust::TrustGraph;
use std::sync::Arc;

fn doc(v: serde_json::Value) -> PolicyDocument {
    parse_document(&v, "$").unwrap()
}

fn inline(v: serde_json::Value) -> AttachedPolicy {
    AttachedPolicy {
        source: PolicySource::Inline {
            policy_name: "p".into(),
        },
        document: Arc::new(doc(v)),
    }
}

fn run(
    caller: &Caller,
    ident: Option<&AttachedPolicy>,
    res: ResourcePolicyInput,
    resource_account: &str,
    action: &str,
) -> AccessResponse {
    let pols: Vec<&AttachedPolicy> = ident.into_iter().collect();
    decide(&AccessRequest {
        caller,
        identity: IdentityInput {
            policies: &pols,
            boundary: None,
            known: ident.is_some() || caller.account.as_deref() == Some(resource_account),
        },
        resource_account: Some(resource_account),
        resource_policy: res,
        org: None,
        request: &Request {
            action: action.into(),
            resource: "arn:aws:kms:us-east-1:111:key/k".into(),
            context: Default::default(),
        },
        complete: false,
    })
}

#[test]
fn a_key_policy_without_the_account_locks_iam_out() {
    let role = Caller::named(CallerKind::Role, "arn:aws:iam::111:role/app", None);
    let admin = inline(
        serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    );
    let locked = doc(serde_json::json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111:role/break-glass"}, "Action": "kms:*", "Resource": "*"}]}));
    let r = run(
        &role,
        Some(&admin),
        ResourcePolicyInput::Policy(&locked, PolicyRole::KeyPolicy),
        "111",
        "kms:Decrypt",
    );
    assert_eq!(r.decision, Decision::ImplicitDeny);
    assert!(r.notes[0].contains("cannot grant"), "{:?}", r.notes);
    let trusting = doc(serde_json::json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111:root"}, "Action": "kms:*", "Resource": "*"}]}));
    let r = run(
        &role,
        Some(&admin),
        ResourcePolicyInput::Policy(&trusting, PolicyRole::KeyPolicy),
        "111",
        "kms:Decrypt",
    );
    assert_eq!(r.decision, Decision::Allow);
    let glass = Caller::named(CallerKind::Role, "arn:aws:iam::111:role/break-glass", None);
    let nothing = inline(serde_json::json!({"Statement": []}));
    let r = run(
        &glass,
        Some(&nothing),
        ResourcePolicyInput::Policy(&locked, PolicyRole::KeyPolicy),
        "111",
        "kms:Decrypt",
    );
    assert_eq!(r.decision, Decision::Allow);
    assert_eq!(r.route, Some(Route::ResourcePolicy));
}

#[test]
fn cross_account_needs_both_sides() {
    let other = Caller::named(CallerKind::Account, "arn:aws:iam::333:root", None);
    let policy = doc(serde_json::json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "333"}, "Action": "kms:Decrypt", "Resource": "*"}]}));
    let r = run(
        &other,
        None,
        ResourcePolicyInput::Policy(&policy, PolicyRole::Ordinary),
        "111",
        "kms:Decrypt",
    );
    assert_eq!(
        r.decision,
        Decision::Unknown,
        "their identity policies decide"
    );
    assert!(r.cross_account);
    let r = run(
        &other,
        None,
        ResourcePolicyInput::None,
        "111",
        "kms:Decrypt",
    );
    assert_eq!(r.decision, Decision::ImplicitDeny);
}

#[test]
fn a_chain_of_roles_to_an_administrator() {
    let cat = Catalog::embedded();
    let role = |name: &str, trust: &str, policy: &str| {
        format!(
            r#"{{"RoleName":"{name}","Arn":"arn:aws:iam::1:role/{name}","AssumeRolePolicyDocument":{trust},"RolePolicyList":[{{"PolicyName":"p","PolicyDocument":{policy}}}]}}"#
        )
    };
    let trusts = |who: &str| {
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{who}"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    let may_assume = |arn: &str| {
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{arn}"}}]}}"#
        )
    };
    let ec2 = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let admin = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let text = format!(
        r#"{{"RoleDetailList":[{},{},{},{}]}}"#,
        role(
            "ci-runner",
            ec2,
            &may_assume("arn:aws:iam::1:role/chain-hop")
        ),
        role(
            "chain-hop",
            &trusts("arn:aws:iam::1:role/ci-runner"),
            &may_assume("arn:aws:iam::1:role/break-glass")
        ),
        role("break-glass", &trusts("arn:aws:iam::1:root"), admin),
        role(
            "bystander",
            &trusts("arn:aws:iam::1:root"),
            r#"{"Statement":[]}"#
        ),
    );
    let account =
        leastpriv::ingest::iam::parse(text.as_bytes(), std::path::Path::new("iam.json")).unwrap();
    let grants: Vec<EffectiveGrants> = account
        .principals
        .iter()
        .map(|p| leastpriv::policy::effective_grants(cat, &mut Expander::new(cat), p))
        .collect();
    let g = TrustGraph::build(cat, account.principals.iter().zip(grants.iter()), None);
    let at = |n: &str| g.index_of(&format!("arn:aws:iam::1:role/{n}")).unwrap();
    let edges: Vec<(u32, u32)> = g.edges.iter().map(|e| (e.from, e.to)).collect();
    assert!(edges.contains(&(at("ci-runner"), at("chain-hop"))));
    assert!(edges.contains(&(at("chain-hop"), at("break-glass"))));
    // `break-glass` trusts the account: `chain-hop` gets in through its
    // own grant; `bystander` has none.
    assert!(!edges.iter().any(|e| e.0 == at("bystander")));
    let chains = g.chains_to(&|i| i == at("break-glass"));
    let c = chains[at("ci-runner") as usize].as_ref().unwrap();
    assert_eq!(c.hops, vec![at("chain-hop"), at("break-glass")]);
    assert!(c.certain);
    assert!(chains[at("bystander") as usize].is_none());
    assert_eq!(
        g.roles.iter().map(|r| r.outside.len()).sum::<usize>(),
        1,
        "the EC2 service"
    );
}
