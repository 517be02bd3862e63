//! The decoded IAM credential report (CSV).

use super::IngestError;
use std::collections::HashMap;
use std::path::Path;

/// One access key's state from the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKeyState {
    pub slot: u8,
    pub active: bool,
    pub last_rotated: Option<String>,
    pub last_used: Option<String>,
    pub last_used_service: Option<String>,
}

/// One row of the credential report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRow {
    pub user: String,
    pub arn: String,
    pub created: Option<String>,
    pub password_enabled: bool,
    pub password_last_used: Option<String>,
    pub mfa_active: bool,
    pub access_keys: Vec<AccessKeyState>,
}

impl CredentialRow {
    pub fn active_keys(&self) -> impl Iterator<Item = &AccessKeyState> {
        self.access_keys.iter().filter(|k| k.active)
    }
}

/// The report, by user ARN.
#[derive(Clone, Debug, Default)]
pub struct CredentialReport {
    pub rows: HashMap<String, CredentialRow>,
}

pub fn load(path: &Path) -> Result<CredentialReport, IngestError> {
    let bytes = super::read_file(path)?;
    parse(&bytes, path)
}

/// AWS writes `N/A`, `no_information` or `not_supported` where there is no value.
fn value(s: Option<&str>) -> Option<String> {
    match s.map(str::trim) {
        None | Some("") | Some("N/A") | Some("no_information") | Some("not_supported") => None,
        Some(v) => Some(v.to_string()),
    }
}

pub fn parse(bytes: &[u8], path: &Path) -> Result<CredentialReport, IngestError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let csv_err = |e: csv::Error| IngestError::Csv {
        path: path.to_path_buf(),
        line: e.position().map(|p| p.line()).unwrap_or(0),
        message: e.to_string(),
    };
    let headers = reader.headers().map_err(csv_err)?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(user_i), Some(arn_i)) = (col("user"), col("arn")) else {
        return Err(IngestError::Csv {
            path: path.to_path_buf(),
            line: 1,
            message: "not a credential report: no `user` and `arn` columns".into(),
        });
    };
    let mut report = CredentialReport::default();
    for rec in reader.records() {
        let rec = rec.map_err(csv_err)?;
        let get = |name: &str| col(name).and_then(|i| rec.get(i));
        let flag = |name: &str| {
            get(name)
                .map(|v| v.eq_ignore_ascii_case("true"))
                .unwrap_or(false)
        };
        let mut keys = Vec::new();
        for slot in [1u8, 2] {
            keys.push(AccessKeyState {
                slot,
                active: flag(&format!("access_key_{slot}_active")),
                last_rotated: value(get(&format!("access_key_{slot}_last_rotated"))),
                last_used: value(get(&format!("access_key_{slot}_last_used_date"))),
                last_used_service: value(get(&format!("access_key_{slot}_last_used_service"))),
            });
        }
        let row = CredentialRow {
            user: rec.get(user_i).unwrap_or_default().to_string(),
            arn: rec.get(arn_i).unwrap_or_default().to_string(),
            created: value(get("user_creation_time")),
            password_enabled: flag("password_enabled"),
            password_last_used: value(get("password_last_used")),
            mfa_active: flag("mfa_active"),
            access_keys: keys,
        };
        report.rows.insert(row.arn.clone(), row);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_na() {
        let csv = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
ci,arn:aws:iam::1:user/ci,2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-01-01T00:00:00+00:00,2026-10-01T00:00:00+00:00,us-east-1,lambda,true,2025-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n";
        let r = parse(csv.as_bytes(), Path::new("c.csv")).unwrap();
        let row = &r.rows["arn:aws:iam::1:user/ci"];
        assert!(!row.password_enabled);
        assert_eq!(row.active_keys().count(), 2);
        assert_eq!(row.access_keys[1].last_used, None);
    }

    #[test]
    fn bad_csv_names_file() {
        let e = parse(b"a,b\n1,2\n", Path::new("x.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.csv"));
    }
}
