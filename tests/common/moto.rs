//! A moto server (with tests/support/moto_leastpriv.py) on 127.0.0.1 and a
//! free port, one per test, seeded through the real AWS APIs.
//!
//! The Python comes from `LEASTPRIV_MOTO_PYTHON` (scripts/test sets it to its
//! virtualenv) or `.venv/bin/python`. Without it the test is skipped with a
//! message, except under `CI=true`, where a missing emulator fails the test.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    pub url: String,
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LEASTPRIV_MOTO_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = super::repo().join(".venv/bin/python");
    venv.exists().then_some(venv)
}

impl Moto {
    /// Starts the emulator, or `None` (test skipped) outside CI when it is
    /// not installed.
    pub fn start() -> Option<Moto> {
        let Some(python) = python() else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("the moto emulator is not installed: run scripts/test (CI=true makes this a failure)");
            }
            eprintln!("SKIPPED: moto is not installed; run scripts/test to install it");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let port_file = dir.path().join("port");
        let log = std::fs::File::create(dir.path().join("moto.log")).expect("log file");
        let child = Command::new(&python)
            .arg(super::repo().join("tests/support/moto_leastpriv.py"))
            .args(["--port", "0", "--port-file"])
            .arg(&port_file)
            .arg("--parent-pid")
            .arg(std::process::id().to_string())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let deadline = Instant::now() + Duration::from_secs(60);
        let port: u16 = loop {
            if let Ok(s) = std::fs::read_to_string(&port_file) {
                break s.trim().parse().expect("port number");
            }
            assert!(
                Instant::now() < deadline,
                "moto did not start: {}",
                std::fs::read_to_string(dir.path().join("moto.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        Some(Moto {
            url: format!("http://127.0.0.1:{port}"),
            port,
            child,
            _dir: dir,
        })
    }

    /// Runs tests/support/seed.py; returns the seeded account id.
    pub fn seed(&self, account_role: Option<&str>) -> String {
        let python = python().expect("python");
        let mut cmd = Command::new(python);
        cmd.arg(super::repo().join("tests/support/seed.py"))
            .arg(&self.url);
        if let Some(r) = account_role {
            cmd.args(["--account-role", r]);
        }
        let out = cmd.output().expect("seed.py runs");
        assert!(
            out.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs `seed.py URL --scenario org` (an AWS Organization, IAM Identity
    /// Center, resource policies and an organization trail); returns its
    /// JSON summary (ids, ARNs, the management account's access key).
    pub fn seed_org(&self) -> serde_json::Value {
        let out = Command::new(python().expect("python"))
            .arg(super::repo().join("tests/support/seed.py"))
            .args([&self.url, "--scenario", "org"])
            .output()
            .expect("seed.py runs");
        assert!(
            out.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("seed JSON")
    }

    fn http(&self, method: &str, path: &str, body: &str) -> String {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("request");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("response");
        resp.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default()
    }

    /// Every AWS call the server answered: access key, service, operation, status.
    pub fn calls(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.http("GET", "/moto-api/leastpriv/calls", ""))
            .expect("calls JSON")
    }

    /// Queues the rows the next row-returning Athena query of `account` gets
    /// (moto's own seeding endpoint); the first row is the header, as Athena sends it.
    pub fn athena_results(&self, account: &str, columns: &[&str], rows: &[Vec<Option<String>>]) {
        let cell = |v: Option<&str>| match v {
            Some(s) => serde_json::json!({ "VarCharValue": s }),
            None => serde_json::json!({}),
        };
        let mut all = vec![serde_json::json!({
            "Data": columns.iter().map(|c| cell(Some(c))).collect::<Vec<_>>()
        })];
        for r in rows {
            all.push(serde_json::json!({
                "Data": r.iter().map(|v| cell(v.as_deref())).collect::<Vec<_>>()
            }));
        }
        let body = serde_json::json!({
            "account_id": account,
            "region": "us-east-1",
            "results": [{
                "rows": all,
                "column_info": columns.iter().map(|c| serde_json::json!({
                    "CatalogName": "hive", "SchemaName": "", "TableName": "",
                    "Name": c, "Label": c, "Type": "varchar",
                    "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": true
                })).collect::<Vec<_>>(),
            }],
        });
        self.http(
            "POST",
            "/moto-api/static/athena/query-results",
            &body.to_string(),
        );
    }

    /// The SQL of every Athena query the server ran, with its database.
    pub fn athena_queries(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.http("GET", "/moto-api/leastpriv/athena-queries", ""))
            .expect("athena queries JSON")
    }

    /// Forgets the calls recorded so far (e.g. the seeding's).
    pub fn clear_calls(&self) {
        self.http("DELETE", "/moto-api/leastpriv/calls", "");
    }

    /// Answers the next `count` calls of `operation` with `status`/`code`.
    pub fn fault(&self, operation: &str, count: u32, status: u16, code: &str) {
        let body = serde_json::json!({
            "faults": [{ "operation": operation, "count": count, "status": status, "code": code }]
        });
        self.http("POST", "/moto-api/leastpriv/faults", &body.to_string());
    }

    /// The environment of a `leastpriv` run against this server: fixed test
    /// credentials, no shared config, no instance metadata.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "leastpriv-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "leastpriv-test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_CONFIG_FILE", "/nonexistent/leastpriv-test".into()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/leastpriv-test".into(),
            ),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
