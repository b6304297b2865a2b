//! The `ikz-hub` binary: exit codes, `check-config` reporting every mistake, `import`, `runs` and `preview`.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A config written into a temporary folder: main file plus `connectors.d/`.
struct TestConfig {
    dir: tempfile::TempDir,
}

impl TestConfig {
    fn new(database_url: &str) -> TestConfig {
        let dir = tempfile::tempdir().expect("temporary config folder");
        std::fs::create_dir_all(dir.path().join("connectors.d")).expect("connectors.d");
        let main = format!(
            "[database]\nurl = \"{database_url}\"\n\n[[partners]]\nslug = \"gifhorn\"\nname = \"Landkreis Gifhorn\"\nkind = \"landkreis\"\n"
        );
        std::fs::write(dir.path().join("ikz-hub.toml"), main).expect("write config");
        TestConfig { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("ikz-hub.toml")
    }

    fn connector(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join("connectors.d").join(format!("{name}.toml")), text).expect("write");
    }

    fn data_file(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.dir.path().join(name), bytes).expect("write data file");
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ikz-hub"))
            .arg("--config")
            .arg(self.path())
            .args(args)
            .env_remove("IKZ_DATABASE_URL")
            .env_remove("IKZ_CONFIG")
            .env_remove("IKZ_BIND")
            .output()
            .expect("run ikz-hub")
    }
}

/// A config with three mistakes: all three are reported with file:line:column and the CLI exits 2; `serve` refuses
/// to start on it.
#[test]
fn check_config_reports_every_mistake_and_serve_refuses() {
    let config = TestConfig::new("sqlite://unused.db");
    config.connector(
        "schulen",
        "id = \"schulen\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"schulen.jsonl\"\nschedul = \"0 0 3 * * *\"\n",
    );
    config.connector("ohne-id", "kind = \"records\"\npartner = \"gifhorn\"\nsource = \"x.jsonl\"\n");
    config.connector(
        "cron",
        "id = \"cron\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"x.jsonl\"\nschedule = \"every night\"\n",
    );
    let output = config.run(&["check-config"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let dir = config.dir.path().join("connectors.d");
    let expected = [
        format!("{}:5:1: connector `schulen`: field `schedul`: unknown key", dir.join("schulen.toml").display()),
        format!("{}:1:1: field `id`: the connector has no `id`", dir.join("ohne-id.toml").display()),
        format!("{}:5:1: connector `cron`: field `schedule`: invalid cron expression", dir.join("cron.toml").display()),
    ];
    for line in &expected {
        assert!(stderr.contains(line.as_str()), "missing {line:?} in:\n{stderr}");
    }
    assert!(stderr.contains("3 error(s)"), "{stderr}");

    let serve = config.run(&["serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(serve.status.code(), Some(2), "serve must refuse an invalid config");
}

/// `[server]`: a malformed CORS origin and limits out of range are reported with file, line:column and field.
#[test]
fn check_config_names_a_malformed_cors_origin() {
    let config = TestConfig::new("sqlite://unused.db");
    let main = std::fs::read_to_string(config.path()).expect("main");
    let server = "[server]\ncors_origins = [\n  \"https://schulen.example.de\",\n  \"schulen.example.de/\",\n  \"*\",\n]\nmax_url_bytes = 10\nrequest_timeout = \"gleich\"\n\n";
    std::fs::write(config.path(), format!("{server}{main}")).expect("write");
    let output = config.run(&["check-config"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let file = config.path().display().to_string();
    for expected in [
        format!("{file}:4:3: field `server.cors_origins[1]`: `schulen.example.de/` is not an origin"),
        format!("{file}:5:3: field `server.cors_origins[2]`: `*` is not accepted"),
        format!("{file}:7:1: field `server.max_url_bytes`: must be from 256 to 65536 bytes"),
        format!("{file}:8:1: field `server.request_timeout`: invalid duration `gleich`"),
    ] {
        assert!(stderr.contains(&expected), "missing {expected:?} in:\n{stderr}");
    }
    assert!(stderr.contains("4 error(s)"), "{stderr}");
}

/// `import` and `runs` on the CLI, `preview` writes nothing, exit code 1 for a failed run.
#[test]
fn cli_import_preview_and_runs() {
    let database = tempfile::tempdir().expect("database folder");
    let config = TestConfig::new(&format!("sqlite://{}", database.path().join("cli.db").display()));
    let record = r#"{"entity":"funding_program","id":"digitalpakt-schule-ni","source_key":"dp","source_url":null,"name":"DigitalPakt Schule Niedersachsen","legal_basis":null,"period_start":null,"period_end":null,"deadlines":[],"measures":["2.1"]}"#;
    config.data_file("programme.jsonl", format!("{record}\n").as_bytes());
    config.data_file("kaputt.jsonl", b"{not json\n{also not\n");
    config.connector(
        "programme",
        "id = \"programme\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"programme.jsonl\"\n",
    );
    config
        .connector("kaputt", "id = \"kaputt\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"kaputt.jsonl\"\n");
    let run = |args: &[&str]| config.run(args);

    let preview = run(&["preview", "--connector", "programme"]);
    assert_eq!(preview.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&preview.stdout);
    assert!(stdout.contains("\"id\":\"digitalpakt-schule-ni\""), "{stdout}");
    let runs = run(&["runs"]);
    assert!(!String::from_utf8_lossy(&runs.stdout).contains("programme"), "preview wrote a run");

    let import = run(&["import", "--connector", "programme"]);
    assert_eq!(import.status.code(), Some(0), "{}", String::from_utf8_lossy(&import.stderr));
    assert!(String::from_utf8_lossy(&import.stdout).contains("programme: run 1 succeeded — fetched 1, created 1"));

    // Every line rejected: above the reject ratio, so the run fails and the CLI says so with exit code 1.
    let failed = run(&["import", "--connector", "kaputt"]);
    assert_eq!(failed.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(stdout.contains("kaputt: run 2 failed") && stdout.contains("max_reject_ratio"), "{stdout}");

    let runs = run(&["runs", "--limit", "5"]);
    let table = String::from_utf8_lossy(&runs.stdout);
    assert!(table.contains("programme") && table.contains("kaputt") && table.contains("failed"), "{table}");

    let unknown = run(&["import", "--connector", "gibt-es-nicht"]);
    assert_eq!(unknown.status.code(), Some(2));
}

/// `parse-page` prints what the ALLRIS parser reads from the demo site's copy of the seed paper SG/256/19.
#[test]
fn parse_page_prints_the_seed_paper() {
    let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/demo/allris/vo020/1256.html");
    let output = Command::new(env!("CARGO_BIN_EXE_ikz-hub")).arg("parse-page").arg(&page).output().expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(parsed["page"], "paper");
    assert_eq!(parsed["reference"], "SG/256/19");
    assert_eq!(parsed["lead_department"], "Bürgerservice");
    let results: Vec<&str> =
        parsed["consultations"].as_array().expect("list").iter().filter_map(|c| c["result"].as_str()).collect();
    assert_eq!(results, ["adopted", "pending", "adopted"]);

    let missing = Command::new(env!("CARGO_BIN_EXE_ikz-hub")).args(["parse-page", "/nonexistent/vo020.html"]).output();
    assert_eq!(missing.expect("run").status.code(), Some(1));
}

/// `parse-page` recognises ALLRIS classic's XML export (`selfaction=ws&template=xyz`) and prints what it reads.
#[test]
fn parse_page_reads_an_xml_export() {
    let export = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/demo/allris/to020/3131.xml");
    let output = Command::new(env!("CARGO_BIN_EXE_ikz-hub")).arg("parse-page").arg(&export).output().expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(parsed["page"], "agenda_item");
    assert_eq!(parsed["number"], "Ö 5");
    assert_eq!(parsed["result"], "ungeändert beschlossen");
    assert_eq!(parsed["vote"], "einstimmig");
}

/// A plain HTTP/1.1 GET over loopback, returning the status code and body.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    Some((status, body))
}

/// Stops the server process when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ikz-hub serve` as a service manager starts it: the database from `IKZ_DATABASE_URL`, the address from
/// `IKZ_BIND`. It behaves the same on SQLite (creating the file) and PostgreSQL.
#[test]
fn serve_runs_on_sqlite_and_on_a_postgres_url() {
    let sqlite_dir = tempfile::tempdir().expect("folder");
    let sqlite_file = sqlite_dir.path().join("nested/ikz-hub.db");
    let mut urls = vec![("sqlite", format!("sqlite://{}", sqlite_file.display()), None)];
    if let Some(database) = ikz_store::testing::postgres() {
        urls.push(("postgres", database.url.clone(), Some(database)));
    }
    for (backend, url, _database) in urls {
        let config = TestConfig::new("sqlite://overridden-by-IKZ_DATABASE_URL.db");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let child = Command::new(env!("CARGO_BIN_EXE_ikz-hub"))
            .arg("--config")
            .arg(config.path())
            .arg("serve")
            .env("IKZ_DATABASE_URL", &url)
            .env("IKZ_BIND", format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start serve");
        let _server = Server(child);
        let mut ready = None;
        for _ in 0..200 {
            ready = http_get(port, "/readyz").filter(|(status, _)| *status == 200);
            if ready.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let (_, body) = ready.unwrap_or_else(|| panic!("{backend}: /readyz never answered 200"));
        assert!(body.contains(&format!("\"database\":\"{backend}\"")), "{body}");
        assert_eq!(http_get(port, "/healthz").map(|(status, _)| status), Some(200));
        let (status, partners) = http_get(port, "/api/v1/partners").expect("partners");
        assert_eq!(status, 200);
        assert!(partners.contains("\"id\":\"gifhorn\""), "{partners}");
        if backend == "sqlite" {
            assert!(sqlite_file.exists(), "serve creates the SQLite file and its folder");
        }
    }
}

/// The production examples in config/examples pass `check-config` once their secrets are in the environment, and
/// name the missing variable when one is not.
#[test]
fn production_examples_pass_check_config() {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/examples/ikz-hub.toml");
    let check = |with_password: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ikz-hub"));
        command
            .arg("--config")
            .arg(&examples)
            .arg("check-config")
            .env_remove("IKZ_DATABASE_URL")
            .env_remove("IKZ_CONFIG")
            .env_remove("IKZ_BIND")
            .env("IKZ_CONTACT", "it@landkreis.example")
            .env("IKZ_ADMIN_TOKEN", "admin-token-from-the-environment")
            .env("IKZ_READ_TOKEN", "read-token-from-the-environment");
        if with_password {
            command.env("IKZ_DB_PASSWORD", "secret");
        } else {
            command.env_remove("IKZ_DB_PASSWORD");
        }
        command.output().expect("run ikz-hub")
    };
    let output = check(true);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("valid (4 partners, 4 connectors)"), "{stdout}");

    let output = check(false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("IKZ_DB_PASSWORD"), "{stderr}");
}
