//! Crash safety under load (issue 9): `ikz-hub import` of a large school list (100,000 rows) is killed with SIGKILL
//! while it is writing — seen by the database growing (SQLite's WAL file, PostgreSQL's table size) — on SQLite and
//! PostgreSQL. Afterwards the data equals the state before, the restarted process marks the run failed, and the next
//! import completes with every row.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ikz_store::queries::{list_runs, RunFilter};
use ikz_store::rows::ImportRunRow;
use ikz_store::Store;

const ROWS: usize = 100_000;

fn binary() -> String {
    std::env::var("IKZ_HUB_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ikz-hub").to_owned())
}

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn setup(database_url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("config folder");
    std::fs::create_dir_all(dir.path().join("connectors.d")).expect("connectors.d");
    let main = format!(
        "[database]\nurl = \"{database_url}\"\npool_size = 2\n\n[import]\nrun_on_start = false\n\n\
         [[partners]]\nslug = \"gifhorn\"\nname = \"Landkreis Gifhorn\"\nkind = \"landkreis\"\n"
    );
    std::fs::write(dir.path().join("ikz-hub.toml"), main).expect("config");
    std::fs::write(
        dir.path().join("connectors.d/schulen.toml"),
        "id = \"schulen\"\nkind = \"spreadsheet\"\npartner = \"gifhorn\"\nsource = \"schulen.csv\"\ntarget = \"school\"\n\
         max_tombstone_share = 1.0\n[columns]\nschool_number = \"Schulnummer\"\nname = \"Schulname\"\n\
         school_type = \"Schulform\"\ncity = \"Ort\"\n[constants]\nstate = \"NI\"\n",
    )
    .expect("connector");
    dir
}

/// A school list of `rows` schools; `edition` changes every name, so a re-import updates each row.
fn school_list(rows: usize, edition: &str) -> String {
    let types = ["Grundschule", "Oberschule", "Gymnasium", "Realschule", "Förderschule"];
    let mut text = String::with_capacity(rows * 64);
    text.push_str("Schulnummer;Schulname;Schulform;Ort\n");
    for n in 0..rows {
        let kind = types[n % types.len()];
        text.push_str(&format!("{};{kind} Nr. {n} {edition};{kind};Gifhorn\n", 10_000 + n));
    }
    text
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command
        .arg("--config")
        .arg(dir.join("ikz-hub.toml"))
        .args(args)
        .env_remove("IKZ_DATABASE_URL")
        .env_remove("IKZ_CONFIG")
        .env_remove("IKZ_BIND")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

fn runs(store: &Store) -> Vec<ImportRunRow> {
    let mut conn = store.connection().expect("connection");
    list_runs(&mut conn, &RunFilter { connector: Some("schulen".into()), limit: 100, ..Default::default() })
        .expect("runs")
}

/// How many bytes the database holds that a writer is adding to: the WAL file (SQLite), the school table with its
/// indexes, uncommitted rows included (PostgreSQL).
fn written_bytes(database_url: &str) -> u64 {
    if let Some(path) = database_url.strip_prefix("sqlite://") {
        return std::fs::metadata(format!("{path}-wal")).map(|meta| meta.len()).unwrap_or(0);
    }
    let output = Command::new("psql")
        .args([database_url, "-Atqc", "SELECT pg_total_relation_size('school')"])
        .output()
        .expect("psql (the PostgreSQL client, as CI installs it)");
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap_or(0)
}

#[test]
fn sigkill_while_a_large_import_writes_leaves_the_store_as_before() {
    for database in ikz_store::testing::all() {
        let label = database.backend;
        let dir = setup(&database.url);
        let csv: PathBuf = dir.path().join("schulen.csv");
        std::fs::write(&csv, school_list(1_000, "2024")).expect("small list");
        let status = command(dir.path(), &["import", "--connector", "schulen"]).status().expect("import");
        assert!(status.success(), "{label}: the first import failed");
        let store = Store::open(&database.url, 2).expect("store");
        let before = store.data_digest().expect("digest");

        std::fs::write(&csv, school_list(ROWS, "2025")).expect("large list");
        let start_size = written_bytes(&database.url);
        let log = dir.path().join("import.log");
        let child = command(dir.path(), &["import", "--connector", "schulen"])
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start the import");
        let mut child = Guard(child);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let grown = written_bytes(&database.url).saturating_sub(start_size);
            if grown > 2 << 20 {
                break;
            }
            let exited = child.0.try_wait().expect("wait");
            assert!(
                exited.is_none(),
                "{label}: the import ended before it had written 2 MiB ({grown} bytes); make it larger\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            assert!(Instant::now() < deadline, "{label}: the import wrote nothing in 120 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        child.0.kill().expect("SIGKILL");
        child.0.wait().expect("reaped");
        let killed = runs(&store).into_iter().find(|run| run.status == "running").expect("the killed run");

        assert_eq!(store.data_digest().expect("digest"), before, "{label}: the killed import left data behind");

        // A restarted process fails the orphaned run; the next import then completes with every row.
        let status = command(dir.path(), &["import", "--connector", "schulen"])
            .stderr(std::fs::File::create(dir.path().join("again.log")).expect("log"))
            .status()
            .expect("import again");
        assert!(
            status.success(),
            "{label}: {}",
            std::fs::read_to_string(dir.path().join("again.log")).unwrap_or_default()
        );
        let runs = runs(&store);
        let orphan = runs.iter().find(|run| run.id == killed.id).expect("the killed run");
        assert_eq!(orphan.status, "failed", "{label}: {orphan:?}");
        assert!(orphan.error.as_deref().is_some_and(|error| error.contains("interrupted")), "{orphan:?}");
        let last = runs.iter().max_by_key(|run| run.id).expect("the last run");
        assert_eq!(last.status, "succeeded", "{label}: {last:?}");
        assert_eq!((last.created + last.updated) as usize, ROWS, "{label}: {last:?}");
        assert_ne!(store.data_digest().expect("digest"), before);
    }
}
