//! CSV and Parquet exports: one row per principal × action with verdict and evidence.

mod common;

use common::leastpriv;
use polars::prelude::*;

#[test]
fn csv_has_a_row_per_principal_and_action() {
    let run = leastpriv()
        .args(["audit", "fixtures/demo", "--format", "csv"])
        .run();
    run.code(0);
    let mut rdr = csv::Reader::from_reader(run.stdout.as_bytes());
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(headers, leastpriv::report::frames::COLUMNS);
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let find = |who: &str, action: &str| {
        rows.iter()
            .find(|r| &r[col("principal_name")] == who && &r[col("action")] == action)
            .unwrap_or_else(|| panic!("no row for {who} {action}"))
    };
    let decrypt = find("orders-api", "kms:Decrypt");
    assert_eq!(&decrypt[col("verdict")], "used");
    assert_eq!(&decrypt[col("count")], "60");
    assert_eq!(&decrypt[col("invoked_by")], "secretsmanager.amazonaws.com");
    assert_eq!(&decrypt[col("risk_category")], "secrets-access");
    assert_eq!(
        &find("orders-api", "dynamodb:DeleteTable")[col("verdict")],
        "unused"
    );
    assert_eq!(
        &find("orders-api", "dynamodb:GetItem")[col("verdict")],
        "unobservable"
    );
    let denied = find("support-agent", "iam:CreateAccessKey");
    assert_eq!(&denied[col("verdict")], "denied");
    assert_eq!(&denied[col("granted")], "false");
}

#[test]
fn parquet_round_trips_and_needs_an_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("audit.parquet");
    let run = leastpriv()
        .args(["audit", "fixtures/demo", "--format", "parquet", "--output"])
        .arg(&out)
        .run();
    run.code(0);
    let df = ParquetReader::new(std::fs::File::open(&out).unwrap())
        .finish()
        .unwrap();
    assert_eq!(
        df.get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        leastpriv::report::frames::COLUMNS
    );
    let csv_run = leastpriv()
        .args(["audit", "fixtures/demo", "--format", "csv"])
        .run();
    assert_eq!(
        df.height(),
        csv_run.stdout.lines().count() - 1,
        "same rows as the CSV"
    );

    let no_out = leastpriv()
        .args(["audit", "fixtures/demo", "--format", "parquet"])
        .run();
    no_out.code(2);
    assert!(no_out.stderr.contains("--output"), "{}", no_out.stderr);
}
