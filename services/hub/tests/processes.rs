//! Real `ikz-hub` processes against one database (SQLite file, and PostgreSQL when `IKZ_TEST_POSTGRES_URL` is set):
//! two replicas with the same schedule run each slot once; a process killed with SIGKILL during an import leaves
//! the data as it was, and the next process marks the run failed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ikz_store::queries::{list_runs, RunFilter};
use ikz_store::rows::ImportRunRow;
use ikz_store::Store;

const RECORD: &str = r#"{"entity":"funding_program","id":"digitalpakt-schule-ni","source_key":"dp","source_url":null,"name":"DigitalPakt Schule Niedersachsen","legal_basis":null,"period_start":null,"period_end":null,"deadlines":[],"measures":["2.1"]}"#;

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(database_url: &str, connector: &str) -> Setup {
        let dir = tempfile::tempdir().expect("config folder");
        std::fs::create_dir_all(dir.path().join("connectors.d")).expect("connectors.d");
        let main = format!(
            "[database]\nurl = \"{database_url}\"\npool_size = 4\n\n[import]\nrun_on_start = false\n\n[scheduler]\nshutdown_grace = \"1s\"\n\n[[partners]]\nslug = \"gifhorn\"\nname = \"Landkreis Gifhorn\"\nkind = \"landkreis\"\n"
        );
        std::fs::write(dir.path().join("ikz-hub.toml"), main).expect("config");
        std::fs::write(dir.path().join("connectors.d/feed.toml"), connector).expect("connector");
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        // IKZ_HUB_BIN: a copy of this build's binary, where several worktrees share one target folder and may
        // overwrite it between build and test.
        let binary = std::env::var("IKZ_HUB_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ikz-hub").to_owned());
        let mut command = Command::new(binary);
        command
            .arg("--config")
            .arg(self.path("ikz-hub.toml"))
            .args(args)
            .env_remove("IKZ_DATABASE_URL")
            .env_remove("IKZ_CONFIG")
            .env_remove("IKZ_BIND")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// Starts a process; its log goes to `log-<n>.txt` in the config folder (printed when a test fails).
    fn spawn(&self, args: &[&str]) -> Child {
        let count = std::fs::read_dir(self.dir.path()).map(|entries| entries.count()).unwrap_or(0);
        let log = std::fs::File::create(self.path(&format!("log-{count}.txt"))).expect("log file");
        self.command(args).stderr(log).spawn().expect("start ikz-hub")
    }

    fn logs(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.dir.path()).expect("dir").filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("log-") {
                text.push_str(&format!("--- {name}\n{}\n", std::fs::read_to_string(entry.path()).unwrap_or_default()));
            }
        }
        text
    }
}

/// Kills the children when a test fails halfway.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn runs(store: &Store) -> Vec<ImportRunRow> {
    let mut conn = store.connection().expect("connection");
    list_runs(&mut conn, &RunFilter { connector: Some("feed".into()), limit: 10_000, ..Default::default() })
        .expect("runs")
}

fn wait_for(
    what: &str,
    store: &Store,
    logs: impl Fn() -> String,
    done: impl Fn(&[ImportRunRow]) -> bool,
) -> Vec<ImportRunRow> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = runs(store);
        if done(&runs) {
            return runs;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {runs:#?}\n{}", logs());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Done-when: two ikz-hub processes on one database with the same schedule run each import exactly once.
#[test]
fn two_replicas_with_the_same_schedule_run_each_slot_once() {
    for database in ikz_store::testing::all() {
        let setup = Setup::new(
            &database.url,
            "id = \"feed\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"feed.jsonl\"\nschedule = \"* * * * * *\"\n",
        );
        std::fs::write(setup.path("feed.jsonl"), format!("{RECORD}\n")).expect("feed");
        // Migrate once up front (two SQLite processes must not race on the first migration).
        let store = Store::open(&database.url, 2).expect("store");
        let children = Children(vec![
            setup.spawn(&["serve", "--bind", "127.0.0.1:0"]),
            setup.spawn(&["serve", "--bind", "127.0.0.1:0"]),
        ]);
        let slots_done = |runs: &[ImportRunRow]| {
            let mut slots: Vec<_> = runs
                .iter()
                .filter(|run| run.status == "succeeded" || run.status == "unchanged")
                .filter_map(|run| run.scheduled_for)
                .collect();
            slots.sort();
            slots.dedup();
            slots.len()
        };
        wait_for("four scheduled slots", &store, || setup.logs(), |runs| slots_done(runs) >= 4);
        drop(children);
        let runs = runs(&store);
        let mut per_slot: std::collections::BTreeMap<_, Vec<&str>> = std::collections::BTreeMap::new();
        for run in &runs {
            let slot = run.scheduled_for.unwrap_or_else(|| panic!("a run without slot: {run:?}"));
            per_slot.entry(slot).or_default().push(run.status.as_str());
        }
        for (slot, statuses) in &per_slot {
            let ran = statuses.iter().filter(|status| **status != "skipped").count();
            assert!(ran <= 1, "{}: slot {slot} ran {ran} times: {statuses:?}", database.backend);
        }
        assert!(
            runs.iter().any(|run| run.status == "skipped"),
            "{}: the second replica never skipped: {runs:#?}\n{}",
            database.backend,
            setup.logs()
        );
        assert!(runs.iter().all(|run| run.status != "failed"), "{}: {runs:#?}", database.backend);
    }
}

/// Done-when: after kill -9 during an import, the restarted process marks that run failed and the data is as before
/// it. The import blocks reading a FIFO, so it is reliably in the middle of its run when it is killed.
#[test]
fn a_run_killed_with_sigkill_is_failed_at_the_next_start_and_changed_nothing() {
    for database in ikz_store::testing::all() {
        let setup = Setup::new(
            &database.url,
            "id = \"feed\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"feed.jsonl\"\n",
        );
        let feed = setup.path("feed.jsonl");
        std::fs::write(&feed, format!("{RECORD}\n")).expect("feed");
        let status = setup.command(&["import", "--connector", "feed"]).status().expect("import");
        assert!(status.success(), "{}: the first import failed", database.backend);
        let store = Store::open(&database.url, 2).expect("store");
        let before = store.data_digest().expect("digest");

        std::fs::remove_file(&feed).expect("remove feed");
        make_fifo(&feed);
        let mut children = Children(vec![setup.spawn(&["import", "--connector", "feed"])]);
        let running = wait_for(
            "the run to start",
            &store,
            || setup.logs(),
            |runs| runs.iter().any(|run| run.status == "running"),
        );
        let run_id = running.iter().find(|run| run.status == "running").map(|run| run.id).expect("running run");
        let mut child = children.0.remove(0);
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");

        assert_eq!(store.data_digest().expect("digest"), before, "{}: the killed run changed data", database.backend);
        assert!(runs(&store).iter().any(|run| run.id == run_id && run.status == "running"));

        let _restarted = Children(vec![setup.spawn(&["serve", "--bind", "127.0.0.1:0"])]);
        let runs = wait_for(
            "the orphan to be failed",
            &store,
            || setup.logs(),
            |runs| runs.iter().any(|run| run.id == run_id && run.status == "failed"),
        );
        let run = runs.iter().find(|run| run.id == run_id).expect("run");
        assert!(run.error.as_deref().is_some_and(|error| error.contains("interrupted")), "{run:?}");
        assert_eq!(store.data_digest().expect("digest"), before);
    }
}

fn make_fifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo failed");
}

/// SIGTERM during an import: the run gets `shutdown_grace` (1 s here), is then rolled back and recorded as failed,
/// and the process exits; the data is as before.
#[test]
fn sigterm_rolls_a_running_import_back_and_records_it() {
    for database in ikz_store::testing::all() {
        let setup = Setup::new(
            &database.url,
            "id = \"feed\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"feed.jsonl\"\n",
        );
        let feed = setup.path("feed.jsonl");
        std::fs::write(&feed, format!("{RECORD}\n")).expect("feed");
        let status = setup.command(&["import", "--connector", "feed"]).status().expect("import");
        assert!(status.success(), "{}: the first import failed", database.backend);
        let store = Store::open(&database.url, 2).expect("store");
        let before = store.data_digest().expect("digest");

        std::fs::remove_file(&feed).expect("remove feed");
        make_fifo(&feed);
        let mut children = Children(vec![setup.spawn(&["import", "--connector", "feed"])]);
        let running = wait_for(
            "the run to start",
            &store,
            || setup.logs(),
            |runs| runs.iter().any(|run| run.status == "running"),
        );
        let run_id = running.iter().find(|run| run.status == "running").map(|run| run.id).expect("running run");
        let pid = children.0[0].id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        assert!(status.success());
        let runs = wait_for(
            "the run to be rolled back",
            &store,
            || setup.logs(),
            |runs| runs.iter().any(|run| run.id == run_id && run.status == "failed"),
        );
        let run = runs.iter().find(|run| run.id == run_id).expect("run");
        assert!(run.error.as_deref().is_some_and(|error| error.contains("shut down")), "{run:?}");
        // The connector's blocked read of the FIFO is a blocking thread the runtime waits for at exit: open the
        // writing end so it ends, then the process exits with 1 (its import failed).
        drop(std::fs::OpenOptions::new().write(true).open(&feed).expect("open the FIFO for writing"));
        let mut child = children.0.remove(0);
        let exit = child.wait().expect("exit");
        assert_eq!(exit.code(), Some(1), "{}", setup.logs());
        assert_eq!(store.data_digest().expect("digest"), before, "{}", database.backend);
    }
}
