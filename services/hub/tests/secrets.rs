//! Secrets stay secret (issue 9): real `ikz-hub` processes log at `trace` level while they start, fail to reach a
//! PostgreSQL server whose URL carries a password, and answer authenticated requests; neither their output
//! (stderr and stdout, text and JSON logs) nor any HTTP response contains a token or a database password.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const READ: &str = "rd-7Qm2xZp9Lk4Vt8Ws3Jh6Ny1Bc5Fg0Dk";
const ADMIN: &str = "ad-4Hs9Pq2Wm7Zx1Lv6Kt3Nj8Rb5Yc0Gf";
const PASSWORD: &str = "Pg-Geheim-93Xq7zW";

fn binary() -> String {
    std::env::var("IKZ_HUB_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ikz-hub").to_owned())
}

/// A config folder: tokens from the environment, one records connector.
fn setup(database_url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("config folder");
    std::fs::create_dir_all(dir.path().join("connectors.d")).expect("connectors.d");
    let main = format!(
        "[database]\nurl = \"{database_url}\"\npool_size = 2\n\n[import]\nrun_on_start = false\n\n[auth]\npublic_read = false\n\n\
         [[auth.tokens]]\nname = \"dashboard\"\ntoken = \"${{IKZ_TEST_READ_TOKEN}}\"\nscopes = [\"read\"]\n\n\
         [[auth.tokens]]\nname = \"ops\"\ntoken = \"${{IKZ_TEST_ADMIN_TOKEN}}\"\nscopes = [\"admin\"]\n\n\
         [[partners]]\nslug = \"gifhorn\"\nname = \"Landkreis Gifhorn\"\nkind = \"landkreis\"\n"
    );
    std::fs::write(dir.path().join("ikz-hub.toml"), main).expect("config");
    let record = r#"{"entity":"funding_program","id":"digitalpakt-schule-ni","source_key":"dp","source_url":null,"name":"DigitalPakt Schule Niedersachsen","legal_basis":null,"period_start":null,"period_end":null,"deadlines":[],"measures":["2.1"]}"#;
    std::fs::write(dir.path().join("feed.jsonl"), format!("{record}\n{{kaputt\n")).expect("feed");
    std::fs::write(
        dir.path().join("connectors.d/feed.toml"),
        "id = \"feed\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"feed.jsonl\"\nmax_reject_ratio = 0.9\n",
    )
    .expect("connector");
    dir
}

fn command(dir: &tempfile::TempDir, log_format: &str, args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command
        .arg("--config")
        .arg(dir.path().join("ikz-hub.toml"))
        .args(["--log-format", log_format])
        .args(args)
        .env("RUST_LOG", "trace")
        .env("IKZ_TEST_READ_TOKEN", READ)
        .env("IKZ_TEST_ADMIN_TOKEN", ADMIN)
        .env_remove("IKZ_DATABASE_URL")
        .env_remove("IKZ_CONFIG")
        .env_remove("IKZ_BIND")
        .stdin(Stdio::null());
    command
}

/// The tokens, the test password, and the password of the test server's URL when it has one (CI's).
fn secrets() -> Vec<String> {
    let mut secrets = vec![READ.to_owned(), ADMIN.to_owned(), PASSWORD.to_owned()];
    let server = std::env::var("IKZ_TEST_POSTGRES_URL").unwrap_or_default();
    let credentials = server.split_once("://").and_then(|(_, rest)| rest.rsplit_once('@')).map(|(user, _)| user);
    if let Some((_, password)) = credentials.and_then(|credentials| credentials.split_once(':')) {
        if password.len() >= 4 {
            secrets.push(password.to_owned());
        }
    }
    secrets
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in secrets() {
        assert!(!text.contains(&secret), "{what} contains the secret {secret}:\n{text}");
    }
}

/// Runs `args` to its end (or 20 s) and returns stdout and stderr together.
fn output_of(mut command: Command) -> (Option<i32>, String) {
    let child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start ikz-hub");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut child = Guard(child);
    loop {
        if child.0.try_wait().expect("wait").is_some() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.0.kill();
    let status = child.0.wait().expect("exit");
    let mut text = String::new();
    child.0.stdout.take().expect("stdout").read_to_string(&mut text).expect("stdout");
    child.0.stderr.take().expect("stderr").read_to_string(&mut text).expect("stderr");
    (status.code(), text)
}

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A PostgreSQL server that cannot be reached, with the password in the URL's user part, in its query, percent-
/// encoded, and through IKZ_DATABASE_URL: every command fails with an error that names the server, never the
/// password.
#[test]
fn database_passwords_stay_out_of_errors_and_logs() {
    let encoded = PASSWORD.replace('-', "%2D");
    let urls = [
        format!("postgres://ikz:{PASSWORD}@127.0.0.1:1/ikz"),
        format!("postgres://ikz:{encoded}@127.0.0.1:1/ikz?connect_timeout=2"),
        format!("postgres://ikz@127.0.0.1:1/ikz?password={PASSWORD}&connect_timeout=2"),
        format!("postgresql://ikz:{PASSWORD}@localhost:1/ikz?sslmode=disable"),
        // Not a URL this program reads: the error must still not echo the password.
        format!("mysql://ikz:{PASSWORD}@127.0.0.1:1/ikz"),
    ];
    for url in &urls {
        for log_format in ["text", "json"] {
            for args in [&["serve", "--bind", "127.0.0.1:0"][..], &["migrate"], &["import", "--all"], &["runs"]] {
                let dir = setup(url);
                let (code, output) = output_of(command(&dir, log_format, args));
                let what = format!("`ikz-hub {}` with {log_format} logs and {url}", args.join(" "));
                assert_ne!(code, Some(0), "{what} succeeded without a database:\n{output}");
                assert!(
                    output.contains("127.0.0.1") || output.contains("localhost"),
                    "{what}: no clear error:\n{output}"
                );
                assert_no_secret(&what, &output);
                assert!(!output.contains(&encoded), "{what} contains the encoded password:\n{output}");
            }
        }
        // The environment override takes the same path.
        let dir = setup("sqlite://unused.db");
        let mut command = command(&dir, "text", &["migrate"]);
        command.env("IKZ_DATABASE_URL", url);
        let (code, output) = output_of(command);
        assert_ne!(code, Some(0));
        assert_no_secret(&format!("IKZ_DATABASE_URL={url}"), &output);
    }
}

fn request(port: u16, method: &str, path: &str, token: Option<&str>) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let auth = token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n{auth}\r\n"
    )
    .expect("send");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

fn log_text(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A serving process, trace logs, every kind of request with and without tokens (valid, invalid, wrong scope, in
/// the query), an import with a rejected record; then the logs and every response are searched for the secrets.
#[test]
fn tokens_and_passwords_stay_out_of_logs_and_responses() {
    let mut databases = vec![ikz_store::testing::sqlite()];
    databases.extend(ikz_store::testing::postgres());
    for database in databases {
        // With a password in the URL (a trust-auth test server ignores it; CI's server checks its own).
        let url = if database.backend == "postgres" && !database.url.contains('@') {
            database.url.replacen("://", &format!("://postgres:{PASSWORD}@"), 1)
        } else {
            database.url.clone()
        };
        for log_format in ["text", "json"] {
            let dir = setup(&url);
            let log = dir.path().join("serve.log");
            let file = std::fs::File::create(&log).expect("log file");
            let child = command(&dir, log_format, &["serve", "--bind", "127.0.0.1:0"])
                .stdout(Stdio::null())
                .stderr(file)
                .spawn()
                .expect("serve");
            let mut child = Guard(child);
            let deadline = Instant::now() + Duration::from_secs(30);
            let port = loop {
                let text = log_text(&log);
                if let Some(port) = serving_port(&text) {
                    break port;
                }
                assert!(child.0.try_wait().expect("wait").is_none(), "serve exited:\n{text}");
                assert!(Instant::now() < deadline, "serve did not start:\n{text}");
                std::thread::sleep(Duration::from_millis(50));
            };
            let mut responses = Vec::new();
            for (method, path) in [
                ("GET", "/api/v1/partners"),
                ("GET", "/api/v1/connectors"),
                ("GET", "/api/v1/import-runs"),
                ("GET", "/metrics"),
                ("GET", "/readyz"),
                ("POST", "/api/v1/connectors/feed/runs"),
            ] {
                for token in [None, Some(READ), Some(ADMIN), Some("not-a-token"), Some(&READ[..READ.len() - 1])] {
                    responses.push(request(port, method, path, token));
                }
                responses.push(request(port, method, &format!("{path}?access_token={ADMIN}"), None));
            }
            std::thread::sleep(Duration::from_millis(500));
            for id in 1..=3 {
                responses.push(request(port, "GET", &format!("/api/v1/import-runs/{id}"), Some(ADMIN)));
            }
            assert!(responses.iter().any(|r| r.starts_with("HTTP/1.1 401")), "no request was refused");
            assert!(responses.iter().any(|r| r.starts_with("HTTP/1.1 403")), "no request lacked the scope");
            assert!(responses.iter().any(|r| r.starts_with("HTTP/1.1 202")), "the admin trigger failed");
            assert!(responses.iter().any(|r| r.contains("rejected_records")), "no admin run view: {responses:#?}");
            for response in &responses {
                // A token sent in the query is the client's mistake; it must not come back either.
                assert_no_secret("a response", response);
            }
            let _ = Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status();
            let _ = child.0.wait();
            let text = log_text(&log);
            assert!(text.len() > 1000 && text.contains("ikz-hub is serving"), "the logs were not captured:\n{text}");
            assert_no_secret(&format!("the {log_format} logs on {}", database.backend), &text);
        }
    }
}

/// The port from the "ikz-hub is serving" line (text: `port=1234`, JSON: `"port":1234`).
fn serving_port(text: &str) -> Option<u16> {
    let line = text.lines().find(|line| line.contains("ikz-hub is serving"))?;
    // Text logs to a terminal-less file may still carry colour codes: drop every `ESC [ … m`.
    let mut plain = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    let line = plain.as_str();
    let at = line.find("port=").map(|at| at + 5).or_else(|| line.find("\"port\":").map(|at| at + 7))?;
    line[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
}
