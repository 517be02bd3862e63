//! `leastpriv pull` of an AWS Organization against moto server, seeded by
//! `tests/support/seed.py --scenario org`: a management account
//! (111111111111) and three members (222222222222 prod, 333333333333 dev,
//! 444444444444 security, the delegated administrator of Identity Center),
//! SCPs and an RCP, IAM Identity Center, resource policies and an
//! organization trail. Each test has its own server.

use crate::common::moto::Moto;
use crate::common::{leastpriv, Run};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const WINDOW: [&str; 4] = ["--since", "2026-10-01", "--until", "2026-10-31"];
const MANAGEMENT: &str = "111111111111";
const PROD: &str = "222222222222";
const DEV: &str = "333333333333";
const SECURITY: &str = "444444444444";
const ROLE: &str = "OrganizationAccountAccessRole";

struct Org {
    moto: Moto,
    seed: Value,
    tmp: tempfile::TempDir,
}

fn org() -> Option<Org> {
    let moto = Moto::start()?;
    let seed = moto.seed_org();
    // The seeding's own calls (it assumes roles too) are not the pull's.
    moto.clear_calls();
    Some(Org {
        moto,
        seed,
        tmp: tempfile::tempdir().unwrap(),
    })
}

impl Org {
    /// `leastpriv pull` as the management account (its access key).
    fn pull(&self, out: &Path, extra: &[&str]) -> Run {
        let mut cmd = leastpriv();
        for (k, v) in self.moto.env() {
            cmd = cmd.env(k, &v);
        }
        cmd.env(
            "AWS_ACCESS_KEY_ID",
            self.seed["access_key_id"].as_str().unwrap(),
        )
        .arg("pull")
        .arg("--out")
        .arg(out)
        .args(WINDOW)
        .args(["--no-access-advisor", "--iam-page-size", "7"])
        .args(extra)
        .tmp(self.tmp.path())
        .run()
    }

    fn pull_org(&self, out: &Path, extra: &[&str]) -> Run {
        let mut args = vec!["--organization", "--role-name", ROLE];
        args.extend_from_slice(extra);
        self.pull(out, &args)
    }

    fn out(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn by<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}

/// A policy string as JSON.
fn doc(v: &Value) -> Value {
    serde_json::from_str(v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))).unwrap()
}

fn resource<'a>(rp: &'a Value, arn: &str) -> &'a Value {
    by(&rp["ResourcePolicies"], "ResourceArn", arn)
}

#[test]
fn organization_pull_writes_every_file_with_the_seeded_content() {
    let Some(o) = org() else { return };
    let out = o.out("org");
    let run = o.pull_org(&out, &[]);
    run.code(0);
    assert!(
        run.stdout.contains("Organization o-") && run.stdout.contains("4 of 4 pulled"),
        "{}",
        run.stdout
    );
    let s = &o.seed;
    let org_id = s["organization"]["id"].as_str().unwrap();
    let root = s["organization"]["root_id"].as_str().unwrap();
    let ous = &s["ous"];

    // The organization snapshot's manifest: every account, the trail read once.
    let m = read(&out.join("manifest.json"));
    assert_eq!(m["schema"], "leastpriv.organization-snapshot/v1");
    assert_eq!(m["organization_id"], org_id);
    assert_eq!(m["management_account_id"], MANAGEMENT);
    assert_eq!(m["role_name"], ROLE);
    let ids: Vec<&str> = m["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [MANAGEMENT, PROD, DEV, SECURITY]);
    assert!(m["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["status"] == "pulled"));
    assert_eq!(m["problems"], serde_json::json!([]), "{m}");
    assert_eq!(m["event_source"], "s3");
    assert_eq!(m["trail"], format!("s3://lp-org-trail-{MANAGEMENT}/"));
    assert_eq!(m["downloaded"]["fetched"], 4, "{m}");

    // organization.json: the tree, the policies with content and targets.
    let org = read(&out.join("organization.json"));
    assert_eq!(org["Organization"]["Id"], org_id);
    assert_eq!(org["Organization"]["MasterAccountId"], MANAGEMENT);
    assert_eq!(org["Roots"][0]["Id"], root);
    let types: BTreeSet<String> = org["Roots"][0]["PolicyTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}={}",
                t["Type"].as_str().unwrap(),
                t["Status"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        types.contains("RESOURCE_CONTROL_POLICY=ENABLED")
            && types.contains("SERVICE_CONTROL_POLICY=ENABLED"),
        "{types:?}"
    );
    let ou = |name: &str| by(&org["OrganizationalUnits"], "Name", name);
    assert_eq!(ou("Prod")["Id"], ous["Prod"]);
    assert_eq!(ou("Prod")["ParentId"], ous["Workloads"]);
    assert_eq!(ou("Workloads")["ParentId"], root);
    assert_eq!(ou("Security")["ParentId"], root);
    let account = |id: &str| by(&org["Accounts"], "Id", id);
    assert_eq!(account(PROD)["ParentId"], ous["Prod"]);
    assert_eq!(account(PROD)["Name"], "prod");
    assert_eq!(account(PROD)["Status"], "ACTIVE");
    assert_eq!(account(DEV)["ParentId"], ous["Dev"]);
    assert_eq!(account(SECURITY)["ParentId"], ous["Security"]);
    assert_eq!(account(MANAGEMENT)["ParentId"], root);
    let policy = |name: &str| {
        org["Policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["PolicySummary"]["Name"] == name)
            .unwrap_or_else(|| panic!("no policy {name}"))
    };
    let targets = |p: &Value| -> BTreeSet<String> {
        p["Targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["TargetId"].as_str().unwrap().to_string())
            .collect()
    };
    let guard = policy("prod-guardrails");
    assert_eq!(guard["PolicySummary"]["Type"], "SERVICE_CONTROL_POLICY");
    assert_eq!(guard["PolicySummary"]["AwsManaged"], false);
    assert_eq!(
        targets(guard),
        BTreeSet::from([ous["Prod"].as_str().unwrap().to_string()])
    );
    let content = doc(&guard["Content"]);
    assert_eq!(
        content["Statement"][0]["Action"],
        "secretsmanager:DeleteSecret"
    );
    assert_eq!(content["Statement"][0]["Effect"], "Deny");
    let allow_list = policy("security-allow-list");
    assert_eq!(
        targets(allow_list),
        BTreeSet::from([ous["Security"].as_str().unwrap().to_string()])
    );
    let full = policy("FullAWSAccess");
    assert_eq!(full["PolicySummary"]["AwsManaged"], true);
    assert!(
        targets(full).contains(root) && !targets(full).contains(ous["Security"].as_str().unwrap())
    );
    let rcp = policy("deny-external-secret-access");
    assert_eq!(rcp["PolicySummary"]["Type"], "RESOURCE_CONTROL_POLICY");
    assert_eq!(targets(rcp), BTreeSet::from([root.to_string()]));
    assert_eq!(
        doc(&rcp["Content"])["Statement"][0]["Condition"]["StringNotEqualsIfExists"]
            ["aws:PrincipalOrgID"],
        org_id
    );
    assert_eq!(
        policy("RCPFullAWSAccess")["PolicySummary"]["Type"],
        "RESOURCE_CONTROL_POLICY"
    );

    // identity-center.json: people, groups, permission sets, assignments.
    let ic = read(&out.join("identity-center.json"));
    let sso = &s["sso"];
    assert_eq!(ic["InstanceArn"], sso["instance_arn"]);
    assert_eq!(ic["IdentityStoreId"], sso["identity_store_id"]);
    let alice = by(&ic["Users"], "UserName", "alice");
    assert_eq!(alice["UserId"], sso["users"]["alice"]);
    assert_eq!(alice["DisplayName"], "Alice Admin");
    assert_eq!(alice["Emails"][0]["Value"], "alice@example.com");
    assert_eq!(ic["Users"].as_array().unwrap().len(), 3);
    let developers = sso["groups"]["Developers"].as_str().unwrap();
    assert_eq!(
        by(&ic["Groups"], "GroupId", developers)["DisplayName"],
        "Developers"
    );
    let members: BTreeSet<&str> = ic["GroupMemberships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["GroupId"] == developers)
        .map(|m| m["MemberId"]["UserId"].as_str().unwrap())
        .collect();
    assert_eq!(
        members,
        BTreeSet::from([
            sso["users"]["bob"].as_str().unwrap(),
            sso["users"]["carol"].as_str().unwrap()
        ])
    );
    let set = |name: &str| by(&ic["PermissionSets"], "Name", name);
    let dev_set = set("DeveloperAccess");
    assert_eq!(
        dev_set["PermissionSetArn"],
        sso["permission_sets"]["DeveloperAccess"]
    );
    assert_eq!(dev_set["SessionDuration"], "PT4H");
    assert_eq!(
        doc(&dev_set["InlinePolicy"])["Statement"][0]["Action"],
        serde_json::json!(["lambda:*", "sqs:*", "dynamodb:*", "s3:*"])
    );
    assert_eq!(
        dev_set["CustomerManagedPolicyReferences"],
        serde_json::json!([{"Name": "lp-dev-extra", "Path": "/"}])
    );
    assert_eq!(
        dev_set["PermissionsBoundary"],
        serde_json::json!({"CustomerManagedPolicyReference": {"Name": "lp-sso-boundary", "Path": "/"}})
    );
    let admin = set("AdministratorAccess");
    assert_eq!(
        admin["AttachedManagedPolicies"],
        serde_json::json!([{"Name": "AdministratorAccess", "Arn": "arn:aws:iam::aws:policy/AdministratorAccess"}])
    );
    assert_eq!(admin["SessionDuration"], "PT1H");
    let read_only = set("ReadOnly");
    assert_eq!(read_only["InlinePolicy"], Value::Null);
    assert_eq!(read_only["PermissionsBoundary"], Value::Null);
    let got: BTreeSet<(String, String, String, String)> = ic["AccountAssignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let f = |k: &str| a[k].as_str().unwrap().to_string();
            (
                f("AccountId"),
                f("PermissionSetArn"),
                f("PrincipalType"),
                f("PrincipalId"),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String, String)> = sso["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account"].as_str().unwrap().to_string(),
                sso["permission_sets"][a["permission_set"].as_str().unwrap()]
                    .as_str()
                    .unwrap()
                    .to_string(),
                a["principal_type"].as_str().unwrap().to_string(),
                a["principal_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);

    // One account snapshot per account, each with the organization's file.
    for id in [MANAGEMENT, PROD, DEV, SECURITY] {
        let dir = out.join("accounts").join(id);
        let am = read(&dir.join("manifest.json"));
        assert_eq!(am["account_id"], id);
        assert_eq!(am["organization"]["source"], "organization", "{am}");
        assert_eq!(am["problems"], serde_json::json!([]), "{id}: {am}");
        assert_eq!(read(&dir.join("organization.json")), org);
        assert!(dir.join("iam.json").is_file() && dir.join("resource-policies.json").is_file());
        // The caller's own account is read with its own credentials.
        if id == MANAGEMENT {
            assert!(am.get("assumed_role").is_none(), "{am}");
        } else {
            assert_eq!(am["assumed_role"], format!("arn:aws:iam::{id}:role/{ROLE}"));
            assert_eq!(am["event_source"], "organization-trail");
        }
    }
    let prod_iam = read(&out.join("accounts").join(PROD).join("iam.json"));
    assert!(prod_iam["RoleDetailList"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["Arn"]
            .as_str()
            .unwrap()
            .starts_with(&format!("arn:aws:iam::{PROD}:"))));
    let assumed = o
        .moto
        .calls()
        .iter()
        .filter(|c| c["operation"] == "AssumeRole")
        .count();
    assert_eq!(assumed, 3, "one AssumeRole per member account");

    // Resource policies of the prod account, `null` where there is none.
    let rp = read(
        &out.join("accounts")
            .join(PROD)
            .join("resource-policies.json"),
    );
    let r = &s["resources"][PROD];
    let keys = &r["kms_keys"];
    let db = resource(&rp, r["secrets"]["prod/db/credentials"].as_str().unwrap());
    assert_eq!(db["ResourceType"], "AWS::SecretsManager::Secret");
    assert_eq!(db["KmsKeyId"], keys["prod-secrets"]);
    assert_eq!(
        doc(&db["Policy"])["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{DEV}:root")
    );
    let api = resource(&rp, r["secrets"]["prod/api-key"].as_str().unwrap());
    assert_eq!(api["Policy"], Value::Null);
    assert!(api.get("KmsKeyId").is_none(), "{api}");
    let data_key = resource(&rp, keys["prod-data"].as_str().unwrap());
    assert_eq!(data_key["ResourceType"], "AWS::KMS::Key");
    let principals: Vec<String> = doc(&data_key["Policy"])["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Principal"]["AWS"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !principals.contains(&format!("arn:aws:iam::{PROD}:root")),
        "{principals:?}"
    );
    let bucket = resource(&rp, &format!("arn:aws:s3:::lp-prod-data-{PROD}"));
    assert_eq!(bucket["ResourceType"], "AWS::S3::Bucket");
    assert_eq!(bucket["KmsKeyId"], keys["prod-data"]);
    assert_eq!(doc(&bucket["Policy"])["Statement"][1]["Sid"], "TlsOnly");
    let artifacts = resource(&rp, &format!("arn:aws:s3:::lp-artifacts-{PROD}"));
    assert_eq!(artifacts["Policy"], Value::Null);
    assert!(artifacts.get("KmsKeyId").is_none(), "{artifacts}");
    let params = &r["parameters"];
    // Named by alias in SSM, by the key's ARN here.
    let password = resource(&rp, params["/prod/db/password"].as_str().unwrap());
    assert_eq!(password["KmsKeyId"], keys["prod-secrets"]);
    assert_eq!(password["Policy"], Value::Null);
    let token = resource(&rp, params["/prod/api/token"].as_str().unwrap());
    assert_eq!(
        token["KmsKeyId"],
        format!("arn:aws:kms:us-east-1:{PROD}:alias/aws/ssm"),
        "an AWS managed alias with no key yet stays an alias"
    );
    assert!(
        resource(&rp, params["/prod/app/log-level"].as_str().unwrap())
            .get("KmsKeyId")
            .is_none()
    );
    let shared = resource(&rp, params["/prod/shared/endpoint"].as_str().unwrap());
    assert_eq!(doc(&shared["Policy"])["Statement"][0]["Sid"], "DevReads");
    let topic = resource(&rp, r["topics"]["prod-alerts"].as_str().unwrap());
    assert_eq!(
        doc(&topic["Policy"])["Statement"][0]["Action"],
        "sns:Publish"
    );
    let events = resource(&rp, r["queues"]["prod-events"]["arn"].as_str().unwrap());
    assert_eq!(events["KmsKeyId"], keys["prod-data"]);
    let intake = resource(&rp, r["queues"]["prod-intake"]["arn"].as_str().unwrap());
    assert_eq!(doc(&intake["Policy"])["Statement"][0]["Principal"], "*");
    assert!(intake.get("KmsKeyId").is_none());
    let function = resource(&rp, r["functions"]["prod-processor"].as_str().unwrap());
    assert_eq!(function["ResourceType"], "AWS::Lambda::Function");
    let sids: BTreeSet<String> = doc(&function["Policy"])["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        sids,
        BTreeSet::from(["DevInvokes".into(), "FromDataBucket".into()])
    );
    let repo = resource(&rp, r["repositories"]["prod/app"].as_str().unwrap());
    assert_eq!(doc(&repo["Policy"])["Statement"][0]["Sid"], "DevPulls");
    let table = resource(&rp, r["tables"]["prod-orders"].as_str().unwrap());
    assert_eq!(
        doc(&table["Policy"])["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{DEV}:role/github-deploy")
    );
    let am = read(&out.join("accounts").join(PROD).join("manifest.json"));
    assert_eq!(am["resource_policies"]["AWS::SSM::Parameter"], 4, "{am}");
    assert_eq!(
        am["resource_policies"]["AWS::SecretsManager::Secret"], 2,
        "{am}"
    );

    // The dev account's own resources, in its own snapshot.
    let dev_rp = read(
        &out.join("accounts")
            .join(DEV)
            .join("resource-policies.json"),
    );
    let dev = &s["resources"][DEV];
    let dev_shared = resource(&dev_rp, dev["secrets"]["dev/shared"].as_str().unwrap());
    assert_eq!(
        doc(&dev_shared["Policy"])["Statement"][0]["Condition"]["StringEquals"]
            ["aws:PrincipalOrgID"],
        org_id
    );
    let scratch = resource(&dev_rp, &format!("arn:aws:s3:::lp-dev-scratch-{DEV}"));
    assert_eq!(doc(&scratch["Policy"])["Statement"][0]["Principal"], "*");
    assert!(
        !dev_rp.to_string().contains("lp-prod-data"),
        "another account's bucket"
    );

    // The organization trail went to the accounts it belongs to: each
    // account's activity store, and no log file in the account snapshots.
    assert!(out
        .join("cloudtrail/s3")
        .join(format!("lp-org-trail-{MANAGEMENT}"))
        .is_dir());
    assert!(!out.join("accounts").join(PROD).join("cloudtrail").exists());
    let report = audit_json(&out.join("accounts").join(PROD));
    let processor = report["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "processor-role")
        .expect("processor-role");
    assert!(
        processor["used"].to_string().contains("sqs:ReceiveMessage"),
        "{processor}"
    );
    assert_eq!(report["coverage"]["records"], 1, "only prod's own record");
    // What the pull wrote is what the audit reads (issue 22's files): the
    // organization and resource policies are inputs, they parse without a
    // problem, prod's SCP blocks grants, and the trust rules see the roles.
    let inputs = report["coverage"]["inputs"].to_string();
    for file in ["organization.json", "resource-policies.json"] {
        assert!(inputs.contains(file), "{file} not an input: {inputs}");
    }
    let problems = report["coverage"]["problems"].to_string();
    assert!(
        !problems.contains("organization.json") && !problems.contains("resource-policies.json"),
        "{problems}"
    );
    let admin = report["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "break-glass-admin")
        .expect("break-glass-admin");
    assert!(
        admin["blocked_by_scp"]
            .to_string()
            .contains("iam:CreateUser"),
        "prod-guardrails blocks iam:CreateUser: {}",
        admin["blocked_by_scp"]
    );
    let fired: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["principal"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (rule, role) in [
        ("unguarded-cross-account-trust", "vendor-audit"),
        ("unsafe-oidc-trust", "github-any"),
    ] {
        let arn = format!("arn:aws:iam::{PROD}:role/{role}");
        assert!(
            fired.contains(&(rule.to_string(), arn.clone())),
            "{rule} on {arn}: {fired:?}"
        );
    }
    let dev_report = audit_json(&out.join("accounts").join(DEV));
    let hop = dev_report["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "chain-hop")
        .expect("chain-hop");
    assert!(hop["used"].to_string().contains("sts:AssumeRole"), "{hop}");

    // No credential anywhere in what the pull wrote.
    for f in crate::common::files_under(&out) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(
            !text.contains(o.seed["access_key_id"].as_str().unwrap()),
            "{} holds the access key",
            f.display()
        );
    }
}

fn audit_json(dir: &Path) -> Value {
    let run = leastpriv()
        .arg("audit")
        .arg(dir)
        .args(WINDOW)
        .args(["--format", "json"])
        .run();
    run.code(0);
    run.json()
}

#[test]
fn members_without_organization_access_get_a_gap_and_still_pull_themselves() {
    let Some(o) = org() else { return };
    let out = o.out("members");
    // The prod member and the delegated administrator, through the
    // management account's key (today's --assume-role, several accounts).
    let run = o.pull(
        &out,
        &[
            "--assume-role",
            &format!("arn:aws:iam::{PROD}:role/{ROLE}"),
            "--assume-role",
            &format!("arn:aws:iam::{SECURITY}:role/{ROLE}"),
            "--source",
            "none",
        ],
    );
    run.code(0);
    let prod = out.join(PROD);
    let m = read(&prod.join("manifest.json"));
    assert_eq!(m["organization"]["source"], "denied", "{m}");
    assert_eq!(m["organization"]["id"], o.seed["organization"]["id"]);
    let stages: BTreeSet<&str> = m["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        BTreeSet::from(["identity-center", "organization"]),
        "{m}"
    );
    assert!(!prod.join("organization.json").exists());
    assert!(!prod.join("identity-center.json").exists());
    // Its own account is whole.
    assert!(prod.join("iam.json").is_file());
    let rp = read(&prod.join("resource-policies.json"));
    assert!(rp["ResourcePolicies"].as_array().unwrap().len() > 10);
    assert!(run.stderr.contains("organization"), "{}", run.stderr);

    // The delegated administrator reads the organization and Identity Center.
    let sec = out.join(SECURITY);
    let m = read(&sec.join("manifest.json"));
    assert_eq!(m["organization"]["source"], "pulled", "{m}");
    assert_eq!(m["problems"], serde_json::json!([]), "{m}");
    assert_eq!(m["identity_center"]["permission_sets"], 3, "{m}");
    let org = read(&sec.join("organization.json"));
    assert_eq!(org["Accounts"].as_array().unwrap().len(), 4);
    let ic = read(&sec.join("identity-center.json"));
    assert_eq!(ic["InstanceArn"], o.seed["sso"]["instance_arn"]);

    // --strict makes the member's gap an error (the snapshot is written).
    o.pull(
        &o.out("strict"),
        &[
            "--assume-role",
            &format!("arn:aws:iam::{PROD}:role/{ROLE}"),
            "--source",
            "none",
            "--strict",
        ],
    )
    .code(2);
    assert!(o.out("strict").join("manifest.json").is_file());
}

#[test]
fn accounts_and_ous_narrow_the_organization_pull() {
    let Some(o) = org() else { return };
    let workloads = o.seed["ous"]["Workloads"].as_str().unwrap();
    let out = o.out("workloads");
    o.pull_org(&out, &["--ous", workloads, "--source", "none"])
        .code(0);
    let m = read(&out.join("manifest.json"));
    let ids: Vec<&str> = m["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [PROD, DEV], "the OU's accounts at any depth");
    let dirs: BTreeSet<String> = std::fs::read_dir(out.join("accounts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(dirs, BTreeSet::from([PROD.to_string(), DEV.to_string()]));
    // The whole organization is still described (the SCP path needs it).
    assert_eq!(
        read(&out.join("organization.json"))["Accounts"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // --accounts, again into the same directory: the snapshot is replaced.
    o.pull_org(&out, &["--accounts", SECURITY, "--source", "none"])
        .code(0);
    let dirs: Vec<String> = std::fs::read_dir(out.join("accounts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(dirs, [SECURITY]);
    assert!(!o.tmp.path().join("workloads.partial").exists());

    // Unknown ids are usage errors that name them.
    let run = o.pull_org(&o.out("x"), &["--accounts", "999999999999"]);
    run.code(2);
    assert!(run.stderr.contains("`999999999999`"), "{}", run.stderr);
    let run = o.pull_org(&o.out("x"), &["--ous", "ou-nope-12345678"]);
    run.code(2);
    assert!(run.stderr.contains("`ou-nope-12345678`"), "{}", run.stderr);
    // --role-name is required, --assume-role excluded.
    o.pull(&o.out("x"), &["--organization"]).code(2);
}

#[test]
fn an_organization_pull_resumes_and_an_unreachable_account_does_not_stop_the_others() {
    let Some(o) = org() else { return };
    let out = o.out("org");
    // The first log download fails on its only attempt; the second account
    // assumed is refused.
    o.moto.fault("GetObject", 1, 500, "InternalError");
    o.moto.fault("AssumeRole", 1, 403, "AccessDenied");
    let run = o.pull_org(
        &out,
        &[
            "--account-concurrency",
            "1",
            "--concurrency",
            "1",
            "--max-attempts",
            "1",
        ],
    );
    run.code(2);
    assert!(
        run.stderr.contains("1 of 4 account(s) could not be pulled")
            && run
                .stderr
                .contains(&format!("{PROD} (arn:aws:iam::{PROD}:role/{ROLE})")),
        "{}",
        run.stderr
    );
    let m = read(&out.join("manifest.json"));
    let prod = by(&m["accounts"], "id", PROD);
    assert_eq!(prod["status"], "failed");
    assert!(
        prod["message"].as_str().unwrap().contains("AccessDenied"),
        "{prod}"
    );
    assert_eq!(m["downloaded"]["failed"], 1, "{m}");
    assert_eq!(m["downloaded"]["fetched"], 3, "{m}");
    assert!(!out.join("accounts").join(PROD).exists());
    for id in [MANAGEMENT, DEV, SECURITY] {
        assert!(
            out.join("accounts")
                .join(id)
                .join("manifest.json")
                .is_file(),
            "{id}"
        );
    }

    // The re-run reuses the fetched log file and fetches the missing one.
    let gets = |moto: &Moto| {
        moto.calls()
            .iter()
            .filter(|c| c["operation"] == "GetObject")
            .count()
    };
    let before = gets(&o.moto);
    o.pull_org(&out, &[]).code(0);
    let m = read(&out.join("manifest.json"));
    assert_eq!(m["downloaded"]["reused"], 3, "{m}");
    assert_eq!(m["downloaded"]["fetched"], 1, "{m}");
    assert_eq!(m["problems"], serde_json::json!([]), "{m}");
    assert_eq!(gets(&o.moto) - before, 1);
    assert!(out
        .join("accounts")
        .join(PROD)
        .join("manifest.json")
        .is_file());
}

/// Issue 23's audit side on a pulled organization: `audit ORG` reads every
/// account at once with a summary per account, and `who` finds an Identity
/// Center user and the assignments that reach her.
#[test]
fn a_pulled_organization_is_audited_as_one_and_who_finds_a_person() {
    let Some(o) = org() else { return };
    let out = o.out("org");
    o.pull_org(&out, &[]).code(0);
    let doc = audit_json(&out);
    assert_eq!(doc["schema"], "leastpriv.audit/v1");
    let accounts: Vec<&str> = doc["organization"]["accounts"]
        .as_array()
        .expect("organization.accounts")
        .iter()
        .map(|a| a["account"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, [MANAGEMENT, PROD, DEV, SECURITY]);
    assert_eq!(doc["organization"]["identity_center"], true);
    let by_account = doc["organization"]["principals_by_account"]
        .as_object()
        .expect("principals_by_account");
    assert!(by_account[PROD].as_array().unwrap().iter().all(|a| a
        .as_str()
        .unwrap()
        .starts_with(&format!("arn:aws:iam::{PROD}:"))));

    let run = leastpriv()
        .args(["who"])
        .arg(&out)
        .args(["alice@example.com", "--format", "json"])
        .args(WINDOW)
        .run();
    run.code(0);
    let who = run.json();
    assert_eq!(who["schema"], "leastpriv.who/v1");
    assert_eq!(who["identity"]["kind"], "identity-center-user");
    assert_eq!(who["identity"]["user_id"], o.seed["sso"]["users"]["alice"]);
    let reach = who["can"]["principals"].as_array().unwrap();
    assert!(
        reach.iter().any(|r| r["account"] == PROD
            && r["via"]
                .as_str()
                .is_some_and(|v| v.starts_with("permission set ReadOnly"))),
        "{reach:?}"
    );
}

/// The `AWSReservedSSO_SET_*` role of `account` in the pulled snapshot: its
/// ARN (with the `/aws-reserved/sso.amazonaws.com/` path).
fn sso_role(out: &Path, account: &str, set: &str) -> String {
    let iam = read(&out.join("accounts").join(account).join("iam.json"));
    let prefix = format!("AWSReservedSSO_{set}_");
    let roles: Vec<String> = iam["RoleDetailList"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["RoleName"].as_str().unwrap().starts_with(&prefix))
        .map(|r| r["Arn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(roles.len(), 1, "{account}: {roles:?}");
    roles[0].clone()
}

/// One successful call of a role session, as CloudTrail writes it (the
/// session issuer's ARN with the role's path).
fn session_call(
    role_arn: &str,
    session: &str,
    n: u32,
    source: &str,
    name: &str,
    resources: Value,
) -> Value {
    let account = role_arn.split(':').nth(4).unwrap();
    let role = role_arn.rsplit('/').next().unwrap();
    serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": format!("AROAEXAMPLE{n:09}:{session}"),
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            "accountId": account,
            "accessKeyId": format!("ASIAUSE{account}{n:01}"),
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": format!("AROAEXAMPLE{n:09}"),
                                  "arn": role_arn, "accountId": account, "userName": role},
                "attributes": {"creationDate": "2026-10-21T08:00:00Z", "mfaAuthenticated": "false"}
            }
        },
        "eventTime": format!("2026-10-21T09:{n:02}:00Z"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.20",
        "requestParameters": {},
        "responseElements": null,
        "resources": resources,
        "eventID": format!("00000000-0000-4000-a{n:03}-{account}"),
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management"
    })
}

/// The actions of a policy document's Allow statements whose Sid starts
/// with `sid`.
fn allowed_actions(doc: &Value, sid: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in doc["Statement"].as_array().unwrap() {
        if s["Effect"] != "Allow" || !s["Sid"].as_str().unwrap_or_default().starts_with(sid) {
            continue;
        }
        match &s["Action"] {
            Value::String(a) => {
                out.insert(a.clone());
            }
            Value::Array(a) => out.extend(a.iter().map(|x| x.as_str().unwrap().to_string())),
            _ => {}
        }
    }
    out
}

/// Issue 23 end to end: an organization pulled from moto (a management
/// account and three members; Identity Center's DeveloperAccess provisioned
/// in prod and dev), a trail of the test's own added to the pulled
/// organization trail (`cloudtrail/s3/BUCKET/AWSLogs/o-ORG/ACCOUNT/...`),
/// then `recommend`: the permission set's inline policy is the union of
/// its use in both accounts with what each contributed, the account roles
/// of the set point at it, a plain role of an account is narrowed to its
/// use, and every proof passes (`--check`).
#[test]
fn recommend_on_a_pulled_organization_unions_a_permission_sets_use() {
    let Some(o) = org() else { return };
    let out = o.out("org");
    o.pull_org(&out, &[]).code(0);
    let org_id = o.seed["organization"]["id"].as_str().unwrap();
    let prod_dev_set = sso_role(&out, PROD, "DeveloperAccess");
    let dev_dev_set = sso_role(&out, DEV, "DeveloperAccess");
    assert!(
        prod_dev_set
            .contains(":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_DeveloperAccess_"),
        "{prod_dev_set}"
    );
    let processor = format!("arn:aws:iam::{PROD}:role/processor-role");
    let table = format!("arn:aws:dynamodb:us-east-1:{PROD}:table/prod-orders");
    let resource =
        |arn: &str, kind: &str| serde_json::json!([{"ARN": arn, "accountId": PROD, "type": kind}]);
    // bob in prod reads a table; carol in dev lists functions and reads
    // logs (the set's customer managed policy); both list buckets; the
    // prod processor also writes the table.
    let prod = vec![
        session_call(
            &prod_dev_set,
            "bob",
            1,
            "dynamodb.amazonaws.com",
            "GetItem",
            resource(&table, "AWS::DynamoDB::Table"),
        ),
        session_call(
            &prod_dev_set,
            "bob",
            2,
            "s3.amazonaws.com",
            "ListBuckets",
            Value::Null,
        ),
        session_call(
            &processor,
            "processor",
            3,
            "dynamodb.amazonaws.com",
            "PutItem",
            resource(&table, "AWS::DynamoDB::Table"),
        ),
    ];
    let dev = vec![
        session_call(
            &dev_dev_set,
            "carol",
            4,
            "lambda.amazonaws.com",
            "ListFunctions20150331",
            Value::Null,
        ),
        session_call(
            &dev_dev_set,
            "carol",
            5,
            "logs.amazonaws.com",
            "FilterLogEvents",
            Value::Null,
        ),
        session_call(
            &dev_dev_set,
            "carol",
            6,
            "s3.amazonaws.com",
            "ListBuckets",
            Value::Null,
        ),
    ];
    let trail = out
        .join("cloudtrail/s3")
        .join(format!("lp-org-trail-{MANAGEMENT}"))
        .join("AWSLogs")
        .join(org_id);
    for (account, records) in [(PROD, prod), (DEV, dev)] {
        let dir = trail.join(account).join("CloudTrail/us-east-1/2026/10/21");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!(
                "{account}_CloudTrail_us-east-1_20261021T0900Z_use.json"
            )),
            serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap(),
        )
        .unwrap();
    }

    let rec = o.out("rec");
    let run = leastpriv()
        .arg("recommend")
        .arg(&out)
        .args(WINDOW)
        .arg("--out")
        .arg(&rec)
        .run();
    run.code(0);

    // The permission set: one inline policy for both accounts, as
    // Terraform for the set Identity Center holds.
    let ps = rec.join("permission-set/DeveloperAccess");
    let doc = read(&ps.join("DeveloperAccess.json"));
    assert_eq!(
        allowed_actions(&doc, "Used"),
        BTreeSet::from(
            [
                "dynamodb:GetItem",
                "lambda:ListFunctions",
                "logs:FilterLogEvents",
                "s3:ListAllMyBuckets"
            ]
            .map(String::from)
        ),
        "{doc}"
    );
    // The table bob read, in its own account; the set's wildcards gone
    // (data events, which the trail does not log, are kept by name).
    assert!(doc.to_string().contains(&table), "{doc}");
    let all = allowed_actions(&doc, "");
    for a in [
        "lambda:*",
        "sqs:*",
        "dynamodb:*",
        "s3:*",
        "secretsmanager:GetSecretValue",
    ] {
        assert!(!all.contains(a), "{a} in {doc}");
    }
    let tf = std::fs::read_to_string(ps.join("DeveloperAccess.tf")).unwrap();
    let sso = &o.seed["sso"];
    assert!(
        tf.contains("aws_ssoadmin_permission_set_inline_policy")
            && tf.contains(sso["instance_arn"].as_str().unwrap())
            && tf.contains(sso["permission_sets"]["DeveloperAccess"].as_str().unwrap()),
        "{tf}"
    );
    // The account roles of the set: nothing to apply there.
    for (account, role) in [(PROD, &prod_dev_set), (DEV, &dev_dev_set)] {
        let name = role.rsplit('/').next().unwrap();
        let tf = std::fs::read_to_string(rec.join(account).join("role").join(format!("{name}.tf")))
            .unwrap();
        assert!(!tf.contains("resource "), "{tf}");
        assert!(tf.contains("permission-set/DeveloperAccess/"), "{tf}");
    }
    // A plain role of one account, narrowed to what it did.
    let own = read(&rec.join(PROD).join("role/processor-role.json"));
    let used = allowed_actions(&own, "Used");
    assert!(used.contains("dynamodb:PutItem"), "{own}");
    assert!(used.contains("sqs:ReceiveMessage"), "{own}");
    assert!(!used.contains("sqs:DeleteMessage"), "{own}");

    // What each account contributed, in the JSON document.
    let run = leastpriv()
        .arg("recommend")
        .arg(&out)
        .args(WINDOW)
        .args(["--format", "json"])
        .run();
    run.code(0);
    let all = run.json();
    let set = all["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"] == "permission-set" && r["name"] == "DeveloperAccess")
        .expect("the DeveloperAccess recommendation");
    assert_eq!(
        set["permission_set_arn"],
        sso["permission_sets"]["DeveloperAccess"]
    );
    assert_eq!(set["evidence_complete"], true, "{set}");
    let part = |account: &str| -> BTreeSet<String> {
        let a = by(&set["accounts"], "account", account);
        assert_eq!(a["evidence"], true, "{a}");
        a["only_here"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(part(PROD), BTreeSet::from(["dynamodb:GetItem".to_string()]));
    assert_eq!(
        part(DEV),
        BTreeSet::from([
            "lambda:ListFunctions".to_string(),
            "logs:FilterLogEvents".to_string()
        ])
    );

    // Every proof passes.
    let run = leastpriv()
        .arg("recommend")
        .arg(&out)
        .args(WINDOW)
        .arg("--check")
        .run();
    run.code(0);
    assert!(run.stdout.starts_with("proof: "), "{}", run.stdout);
}

/// One Athena result row: `columns`' values by name, the others null.
fn athena_row(columns: &[&str], values: &[(&str, &str)]) -> Vec<Option<String>> {
    for (k, _) in values {
        assert!(columns.contains(k), "no column {k}");
    }
    columns
        .iter()
        .map(|c| {
            values
                .iter()
                .find(|(k, _)| k == c)
                .map(|(_, v)| v.to_string())
        })
        .collect()
}

/// `pull --organization --athena` keeps each account's session chains in
/// `accounts/ID/sessions.json` (Athena's links and uses queries; moto runs
/// no SQL, so the rows are canned), and `who ORG PERSON` follows a person
/// from Identity Center into another account's role; a session whose key
/// no link shows says where its chain breaks.
#[test]
fn an_organization_pulled_with_athena_keeps_its_session_chains() {
    use leastpriv::pull::athena::{COLUMNS, LINK_COLUMNS, USE_COLUMNS};
    let Some(o) = org() else { return };
    // Identity Center's role for alice in prod (as AWS names it), a role
    // of dev she chains into, and a session in security of unknown origin
    // that says it is hers.
    let sso =
        format!("arn:aws:iam::{PROD}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef");
    let sso_session =
        format!("arn:aws:sts::{PROD}:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice");
    let hop = format!("arn:aws:iam::{DEV}:role/chain-hop");
    let hop_session = format!("arn:aws:sts::{DEV}:assumed-role/chain-hop/alice");
    let audit_role = format!("arn:aws:iam::{SECURITY}:role/org-audit-readonly");
    let audit_session = format!("arn:aws:sts::{SECURITY}:assumed-role/org-audit-readonly/laptop");

    let aggregated = |account: &str, principal: &str, source: &str, name: &str, n: &str| {
        athena_row(
            COLUMNS,
            &[
                ("account", account),
                ("identity_type", "AssumedRole"),
                ("principal", principal),
                ("identity_account", account),
                ("event_source", source),
                ("event_name", name),
                ("events", n),
                ("first_seen", "2026-10-21T09:00:00Z"),
                ("last_seen", "2026-10-21T09:30:00Z"),
            ],
        )
    };
    let rows = vec![
        aggregated(PROD, &sso, "s3.amazonaws.com", "ListBuckets", "2"),
        aggregated(PROD, &sso, "sts.amazonaws.com", "AssumeRole", "1"),
        aggregated(DEV, &hop, "s3.amazonaws.com", "ListBuckets", "4"),
        aggregated(SECURITY, &audit_role, "iam.amazonaws.com", "ListRoles", "1"),
    ];
    // The AssumeRole call is in the caller's trail and the role owner's.
    let link = |account: &str| {
        athena_row(
            LINK_COLUMNS,
            &[
                ("account", account),
                ("event_time", "2026-10-21T09:05:00Z"),
                ("event_name", "AssumeRole"),
                ("recipient_account", account),
                ("shared_event_id", "5d4f7a0e-0000-4000-8000-000000000001"),
                ("caller_type", "AssumedRole"),
                ("caller_arn", &sso_session),
                ("caller_account", PROD),
                ("caller_key", "ASIAALICEPROD0000001"),
                ("caller_issuer", &sso),
                ("role_arn", &hop),
                ("role_session_name", "alice"),
                ("request_source_identity", "alice@example.com"),
                ("tags", r#"[{"key":"ticket","value":"CHG-42"}]"#),
                ("transitive_tag_keys", r#"["ticket"]"#),
                ("issued_key", "ASIAALICEDEV00000002"),
                ("assumed_role_arn", &hop_session),
                ("response_source_identity", "alice@example.com"),
            ],
        )
    };
    let links = vec![link(PROD), link(DEV)];
    let used = |account: &str,
                key: &str,
                arn: &str,
                issuer: &str,
                si: Option<&str>,
                call: (&str, &str, Option<&str>, &str)| {
        let mut v = vec![
            ("account", account),
            ("access_key", key),
            ("session_arn", arn),
            ("issuer", issuer),
            ("event_source", call.0),
            ("event_name", call.1),
            ("events", call.3),
            ("first_seen", "2026-10-21T09:01:00Z"),
            ("last_seen", "2026-10-21T09:30:00Z"),
        ];
        if let Some(s) = si {
            v.push(("source_identity", s));
        }
        if let Some(e) = call.2 {
            v.push(("error_code", e));
        }
        athena_row(USE_COLUMNS, &v)
    };
    let (prod_key, dev_key) = ("ASIAALICEPROD0000001", "ASIAALICEDEV00000002");
    let uses = vec![
        used(
            PROD,
            prod_key,
            &sso_session,
            &sso,
            None,
            ("s3.amazonaws.com", "ListBuckets", None, "2"),
        ),
        used(
            PROD,
            prod_key,
            &sso_session,
            &sso,
            None,
            ("sts.amazonaws.com", "AssumeRole", None, "1"),
        ),
        // The role owner's copy of the same AssumeRole call: counted once.
        used(
            DEV,
            prod_key,
            &sso_session,
            &sso,
            None,
            ("sts.amazonaws.com", "AssumeRole", None, "1"),
        ),
        used(
            DEV,
            dev_key,
            &hop_session,
            &hop,
            Some("alice@example.com"),
            ("s3.amazonaws.com", "ListBuckets", None, "4"),
        ),
        used(
            DEV,
            dev_key,
            &hop_session,
            &hop,
            Some("alice@example.com"),
            (
                "ec2.amazonaws.com",
                "DescribeInstances",
                Some("Client.UnauthorizedOperation"),
                "1",
            ),
        ),
        used(
            SECURITY,
            "ASIAORPHAN0000000003",
            &audit_session,
            &audit_role,
            Some("alice@example.com"),
            ("iam.amazonaws.com", "ListRoles", None, "1"),
        ),
    ];
    // Queued in the order the pull asks: aggregation, links, uses.
    o.moto.athena_results(MANAGEMENT, COLUMNS, &rows);
    o.moto.athena_results(MANAGEMENT, LINK_COLUMNS, &links);
    o.moto.athena_results(MANAGEMENT, USE_COLUMNS, &uses);

    let out = o.out("org");
    let run = o.pull_org(
        &out,
        &[
            "--athena",
            "--trail-bucket",
            &format!("s3://lp-org-trail-{MANAGEMENT}"),
            "--athena-output",
            "s3://lp-athena-results/leastpriv/",
        ],
    );
    run.code(0);
    let queries = o.moto.athena_queries();
    let sql: Vec<&str> = queries
        .iter()
        .map(|q| q["query"].as_str().unwrap())
        .collect();
    assert_eq!(sql.len(), 5, "{sql:?}");
    for secret in ["sessionToken", "externalId", "tokenCode", "policy"] {
        assert!(
            !sql[3].contains(secret) && !sql[4].contains(secret),
            "{secret}"
        );
    }
    assert!(sql[3].contains("json_extract_scalar(responseelements, '$.credentials.accessKeyId')"));
    assert!(sql[4].contains("GROUP BY"));

    for a in [PROD, DEV, SECURITY] {
        let file = read(&out.join("accounts").join(a).join("sessions.json"));
        assert_eq!(file["format"], "leastpriv.sessions/v1");
        assert_eq!(file["account"], a);
        let text = file.to_string();
        assert!(!text.contains("sessionToken"), "{text}");
    }
    let dev_file = read(&out.join("accounts").join(DEV).join("sessions.json"));
    assert_eq!(dev_file["issued"].as_array().unwrap().len(), 1);
    assert_eq!(dev_file["used"].as_array().unwrap().len(), 3);
    assert_eq!(
        dev_file["issued"][0]["responseElements"]["credentials"]["accessKeyId"],
        dev_key
    );

    let who = |format: &str| {
        let run = leastpriv()
            .args(["who"])
            .arg(&out)
            .args(["alice@example.com", "--format", format])
            .args(WINDOW)
            .run();
        run.code(0);
        run
    };
    let doc = who("json").json();
    let sessions = doc["sessions"].as_array().expect("sessions");
    let session = |key: &str| {
        sessions
            .iter()
            .find(|s| s["access_key_id"] == key)
            .unwrap_or_else(|| panic!("no session {key} in {doc}"))
    };
    let dev_session = session(dev_key);
    let chain = &dev_session["chain"];
    assert_eq!(chain["origin_kind"], "identity-center-user", "{chain}");
    assert_eq!(chain["origin"], "alice");
    assert_eq!(chain["permission_set"], "ReadOnly");
    assert_eq!(chain["crosses_accounts"], true);
    assert_eq!(chain["breaks"], Value::Null);
    assert_eq!(chain["source_identity"], "alice@example.com");
    let hops: Vec<(&str, &str)> = chain["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["account"].as_str().unwrap(),
                h["access_key_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(hops, [(PROD, prod_key), (DEV, dev_key)]);
    assert_eq!(chain["hops"][1]["issued_by"], "AssumeRole");
    assert_eq!(chain["held_tags"][0]["key"], "ticket");
    assert_eq!(dev_session["records"], 5);
    // The role owner's copy of alice's AssumeRole did not count twice.
    assert_eq!(session(prod_key)["records"], 3);
    // What she did in dev, and was refused there, through the chain.
    let text = doc.to_string();
    assert!(text.contains("ec2:DescribeInstances"), "{text}");

    let orphan = session("ASIAORPHAN0000000003");
    let breaks = orphan["chain"]["breaks"].as_str().expect("a broken chain");
    assert!(
        breaks.contains("`ASIAORPHAN0000000003`") && breaks.contains("org-audit-readonly"),
        "{breaks}"
    );
    assert_eq!(orphan["chain"]["origin_kind"], "unknown");

    let table = who("table").stdout;
    assert!(
        table.contains("chain breaks: no `AssumeRole*` record"),
        "{table}"
    );

    // A damaged file stops the audit with its name and the place.
    let dev_path = out.join("accounts").join(DEV).join("sessions.json");
    let damaged = std::fs::read_to_string(&dev_path)
        .unwrap()
        .replace("\"count\": 4", "\"count\": \"four\"");
    std::fs::write(&dev_path, damaged).unwrap();
    let run = leastpriv()
        .args(["who"])
        .arg(&out)
        .args(["alice@example.com"])
        .args(WINDOW)
        .run();
    run.code(2);
    assert!(
        run.stderr.contains(&format!("{DEV}/sessions.json")) && run.stderr.contains("line "),
        "{}",
        run.stderr
    );
}
