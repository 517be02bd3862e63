//! CSV and Parquet exports: one row per principal × action with verdict and evidence.

use crate::common::leastpriv;
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

/// `diff` reads exports as well as JSON reports: the same run exported as
/// Parquet, as CSV and as JSON has the same permissions, and a verdict
/// changed in an export is exactly the drift.
#[test]
fn diff_reads_parquet_and_csv_exports() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    for (format, file) in [
        ("parquet", "a.parquet"),
        ("csv", "a.csv"),
        ("json", "a.json"),
    ] {
        leastpriv()
            .args(["audit", "fixtures/demo", "--format", format, "--output"])
            .arg(path(file))
            .run()
            .code(0);
    }
    let same = |old: &str, new: &str| {
        let d = leastpriv::drift::diff(&path(old), &path(new)).expect("diff");
        assert!(!d.findings_compared(), "{old} vs {new}");
        assert!(d.is_empty(), "{old} vs {new}: {d:#?}");
    };
    same("a.parquet", "a.parquet");
    same("a.parquet", "a.csv");
    // The export's rows give back exactly the report's permissions.
    same("a.json", "a.parquet");
    same("a.csv", "a.json");

    // orders-api starts using one of its unused actions.
    let text = std::fs::read_to_string(path("a.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut wtr = csv::Writer::from_writer(Vec::new());
    wtr.write_record(&headers).unwrap();
    let mut moved = None;
    for r in rdr.records() {
        let r = r.unwrap();
        let mut fields: Vec<String> = r.iter().map(str::to_string).collect();
        if moved.is_none()
            && &r[col("principal_name")] == "orders-api"
            && &r[col("verdict")] == "unused"
        {
            fields[col("verdict")] = "used".to_string();
            fields[col("count")] = "3".to_string();
            moved = Some(r[col("action")].to_string());
        }
        wtr.write_record(&fields).unwrap();
    }
    let moved = moved.expect("orders-api has unused actions");
    std::fs::write(path("b.csv"), wtr.into_inner().unwrap()).unwrap();
    let d = leastpriv::drift::diff(&path("a.parquet"), &path("b.csv")).expect("diff");
    assert_eq!(d.principals_changed.len(), 1, "{d:#?}");
    let p = &d.principals_changed[0];
    assert!(p.arn.ends_with("/orders-api"), "{}", p.arn);
    assert_eq!(p.moved.len(), 1);
    assert_eq!(p.moved[0].action, moved);
    assert_eq!(p.moved[0].to, leastpriv::drift::Status::Used);
    assert!(p.grants_added.is_empty() && p.grants_removed.is_empty());

    // From the command line, with the summary saying findings were not compared.
    let run = leastpriv()
        .args(["diff", "--format", "json"])
        .arg(path("a.parquet"))
        .arg(path("b.csv"))
        .run();
    run.code(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["summary"]["findings_compared"], false);
    assert_eq!(v["summary"]["principals_changed"], 1);
    assert_eq!(v["old"]["export"], "parquet");
    assert_eq!(v["new"]["export"], "csv");
    let text = leastpriv()
        .args(["diff"])
        .arg(path("a.parquet"))
        .arg(path("b.csv"))
        .run();
    assert!(
        text.stdout.contains("findings: not compared"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_broken_export_is_an_error_naming_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.parquet");
    leastpriv()
        .args(["audit", "fixtures/demo", "--format", "parquet", "--output"])
        .arg(&good)
        .run()
        .code(0);
    // A truncated Parquet file.
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let run = leastpriv().arg("diff").arg(&good).arg(&cut).run();
    run.code(2);
    assert!(run.stderr.contains("cut.parquet"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    // A CSV with an unknown verdict, and one without a needed column.
    let csv = dir.path().join("odd.csv");
    std::fs::write(
        &csv,
        "principal_arn,principal_name,action,verdict,granted,count\n\
         arn:aws:iam::1:role/a,a,s3:GetObject,used,true,1\n\
         arn:aws:iam::1:role/a,a,s3:PutObject,maybe,true,0\n",
    )
    .unwrap();
    let e = leastpriv::drift::diff(&good, &csv).unwrap_err().to_string();
    assert!(
        e.contains("odd.csv") && e.contains("row 2") && e.contains("maybe"),
        "{e}"
    );
    let short = dir.path().join("short.csv");
    std::fs::write(
        &short,
        "principal_arn,action\narn:aws:iam::1:role/a,s3:GetObject\n",
    )
    .unwrap();
    let e = leastpriv::drift::diff(&good, &short)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("short.csv") && e.contains("`principal_name`"),
        "{e}"
    );
    let bad_count = dir.path().join("count.csv");
    std::fs::write(
        &bad_count,
        "principal_arn,principal_name,action,verdict,granted,count\n\
         arn:aws:iam::1:role/a,a,s3:GetObject,used,true,many\n",
    )
    .unwrap();
    let e = leastpriv::drift::diff(&good, &bad_count)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("count.csv") && e.contains("row 1") && e.contains("`count`"),
        "{e}"
    );
}

/// `diff` reads exports written before the one verdict (issue 20): no
/// `grant`, `refused_by` or `not_granted` columns, a refused granted action
/// written twice (its `unused` row and its `denied` row), and `failed` rows.
/// Read against today's export of the same run, only the actions whose
/// verdict moved are drift.
#[test]
fn diff_reads_exports_from_before_the_one_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    leastpriv()
        .args(["audit", "fixtures/demo", "--format", "csv", "--output"])
        .arg(path("new.csv"))
        .run()
        .code(0);
    let text = std::fs::read_to_string(path("new.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let keep: Vec<usize> = (0..headers.len())
        .filter(|&i| !matches!(&headers[i], "grant" | "refused_by" | "not_granted"))
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let old_row = |r: &csv::StringRecord, verdict: Option<&str>| -> Vec<String> {
        keep.iter()
            .map(|&i| match verdict {
                Some(v) if i == col("verdict") => v.to_string(),
                _ => r[i].to_string(),
            })
            .collect()
    };
    let mut wtr = csv::Writer::from_writer(Vec::new());
    wtr.write_record(keep.iter().map(|&i| &headers[i])).unwrap();
    let mut doubled = None;
    for r in rdr.records() {
        let r = r.unwrap();
        wtr.write_record(old_row(&r, None)).unwrap();
        // The old exports' second rows: a refusal beside the unused row of
        // one granted action, and a failed call beside another.
        if &r[col("principal_name")] == "orders-api" && &r[col("verdict")] == "unused" {
            match doubled {
                None => {
                    wtr.write_record(old_row(&r, Some("denied"))).unwrap();
                    doubled = Some(r[col("action")].to_string());
                }
                Some(_) => wtr.write_record(old_row(&r, Some("failed"))).unwrap(),
            }
        }
    }
    let doubled = doubled.expect("orders-api has unused actions");
    std::fs::write(path("old.csv"), wtr.into_inner().unwrap()).unwrap();
    // An old export reads, against itself and against today's: the same
    // run, so no permission drift (a refusal that went away is not drift).
    let d = leastpriv::drift::diff(&path("old.csv"), &path("old.csv")).expect("old vs old");
    assert!(d.is_empty(), "{d:#?}");
    let d = leastpriv::drift::diff(&path("old.csv"), &path("new.csv")).expect("old vs new");
    assert!(d.is_empty(), "{d:#?}");
    // The other way, the old export's extra refusal row is a new refusal of
    // that action, and nothing else moved (its unused row still says unused).
    let d = leastpriv::drift::diff(&path("new.csv"), &path("old.csv")).expect("new vs old");
    assert_eq!(d.principals_changed.len(), 1, "{d:#?}");
    let p = &d.principals_changed[0];
    let denied: Vec<&str> = p.denied_new.iter().map(|x| x.action.as_str()).collect();
    assert_eq!(denied, [doubled.as_str()], "{p:#?}");
    assert!(
        p.moved.is_empty() && p.grants_added.is_empty() && p.grants_removed.is_empty(),
        "{p:#?}"
    );
}
