//! Import-run semantics on a real SQLite file and a real PostgreSQL database: counting, atomic failure, tombstones
//! and the guards. Every test runs once per backend.

use ikz_connectors::model::{
    Address, Contact, EntityKind, Origin, Partner, PartnerKind, Record, School, SchoolType, Tombstone,
};
use ikz_connectors::{RecordSink, Rejection, RunOutcome};
use ikz_store::queries::{self, RunFilter};
use ikz_store::runs::RunRequest;
use ikz_store::testing::{self, TestDatabase};
use ikz_store::{Guards, RunStatus, Store, Trigger};

fn school(number: &str, name: &str) -> Record {
    Record::School(School {
        id: format!("NI-{number}"),
        origin: Origin::new(number),
        state: "NI".into(),
        school_number: number.into(),
        name: name.into(),
        school_types_raw: vec!["Gymnasium".into()],
        school_types: vec![SchoolType::Gymnasium],
        legal_status: Some("öffentlich".into()),
        traeger_name: Some("Samtgemeinde Hankensbüttel".into()),
        traeger_partner: Some("hankensbuettel".into()),
        address: Address { street: None, postcode: Some("29386".into()), city: Some("Hankensbüttel".into()) },
        contact: Contact::default(),
        pupils: Some(700),
        pupils_as_of: None,
        latitude: None,
        longitude: None,
    })
}

fn schools(numbers: &[&str]) -> Vec<Record> {
    numbers.iter().map(|number| school(number, &format!("Schule {number}"))).collect()
}

fn request(connector: &str) -> RunRequest {
    RunRequest {
        connector: connector.into(),
        trigger: Trigger::Manual,
        entities: vec![EntityKind::School],
        guards: Guards::default(),
    }
}

fn complete() -> RunOutcome {
    RunOutcome { complete: true, ..RunOutcome::default() }
}

fn open(database: &TestDatabase) -> Store {
    let store = Store::open(&database.url, 4).unwrap_or_else(|error| panic!("{}: {error}", database.backend));
    store
        .sync_partners(&[Partner {
            slug: "hankensbuettel".into(),
            name: "Samtgemeinde Hankensbüttel".into(),
            kind: PartnerKind::Samtgemeinde,
            ags: None,
            aliases: vec![],
        }])
        .expect("partners");
    store
}

async fn import(
    store: &Store,
    request: RunRequest,
    records: Vec<Record>,
    outcome: RunOutcome,
) -> ikz_store::RunSummary {
    let mut run = store.begin_run(request).await.expect("begin run");
    run.records(records).await.expect("records");
    run.finish(outcome).await
}

fn school_row(store: &Store, id: &str) -> Option<ikz_store::rows::SchoolRow> {
    use diesel::prelude::*;
    use ikz_store::schema::school;
    let mut conn = store.connection().expect("connection");
    school::table.find(id).select(ikz_store::rows::SchoolRow::as_select()).first(&mut *conn).optional().expect("query")
}

#[tokio::test]
async fn counts_created_updated_and_unchanged() {
    for database in testing::all() {
        let store = open(&database);
        let first = import(&store, request("schulen"), schools(&["66497", "81772", "33819"]), complete()).await;
        assert_eq!(first.status, RunStatus::Succeeded, "{}: {:?}", database.backend, first.error);
        assert_eq!((first.counts.created, first.counts.updated, first.counts.unchanged), (3, 0, 0));

        let before = school_row(&store, "NI-66497").expect("stored");
        let second = import(&store, request("schulen"), schools(&["66497", "81772", "33819"]), complete()).await;
        assert_eq!((second.counts.created, second.counts.updated, second.counts.unchanged), (0, 0, 3));
        let after = school_row(&store, "NI-66497").expect("stored");
        assert_eq!(after.modified_at, before.modified_at, "{}: unchanged records are not rewritten", database.backend);
        assert!(after.last_seen_at > before.last_seen_at, "seen again");

        let mut changed = schools(&["66497", "81772", "33819"]);
        changed[0] = school("66497", "Gymnasium Hankensbüttel");
        let third = import(&store, request("schulen"), changed, complete()).await;
        assert_eq!((third.counts.created, third.counts.updated, third.counts.unchanged), (0, 1, 2));
        let renamed = school_row(&store, "NI-66497").expect("stored");
        assert_eq!(renamed.name, "Gymnasium Hankensbüttel");
        assert_eq!(renamed.first_seen_at, before.first_seen_at, "first_seen_at survives updates");
        assert!(renamed.modified_at > before.modified_at);
    }
}

/// A connector may send a newer version of a record later in the same run (the spreadsheet connector does when a
/// later row adds a Schulgliederung to a school it sent already): the last version is stored, counted once.
#[tokio::test]
async fn a_newer_version_within_a_run_replaces_the_earlier_one_and_counts_once() {
    for database in testing::all() {
        let store = open(&database);
        let backend = database.backend;
        let mut run = store.begin_run(request("schulen")).await.expect("begin run");
        run.records(schools(&["66497", "81772"])).await.expect("first batch");
        // The same key again in a later batch, changed, and twice within one batch.
        run.records(vec![school("66497", "Gymnasium Hankensbüttel"), school("33819", "Alt"), school("33819", "Neu")])
            .await
            .expect("second batch");
        let first = run.finish(complete()).await;
        assert_eq!(first.status, RunStatus::Succeeded, "{backend}: {:?}", first.error);
        assert_eq!((first.counts.created, first.counts.updated, first.counts.unchanged), (3, 0, 0), "{backend}");
        assert_eq!(school_row(&store, "NI-66497").expect("stored").name, "Gymnasium Hankensbüttel", "{backend}");
        assert_eq!(school_row(&store, "NI-33819").expect("stored").name, "Neu", "{backend}");

        // Next run: 66497 first unchanged, then changed → updated; 33819 changed twice → updated once; 81772 changed
        // and changed back → unchanged, its modified_at as before.
        let before = school_row(&store, "NI-81772").expect("stored");
        let mut run = store.begin_run(request("schulen")).await.expect("begin run");
        run.records(vec![school("66497", "Gymnasium Hankensbüttel"), school("81772", "Anders")])
            .await
            .expect("first batch");
        run.records(vec![school("66497", "Gymnasium Hankensbüttel (IGS)"), school("33819", "Neuer")])
            .await
            .expect("second batch");
        run.records(vec![school("33819", "Neuest"), school("81772", "Schule 81772")]).await.expect("third batch");
        let second = run.finish(complete()).await;
        assert_eq!(second.status, RunStatus::Succeeded, "{backend}: {:?}", second.error);
        assert_eq!((second.counts.created, second.counts.updated, second.counts.unchanged), (0, 2, 1), "{backend}");
        assert_eq!(school_row(&store, "NI-66497").expect("stored").name, "Gymnasium Hankensbüttel (IGS)");
        assert_eq!(school_row(&store, "NI-33819").expect("stored").name, "Neuest", "{backend}");
        let after = school_row(&store, "NI-81772").expect("stored");
        assert_eq!((after.name.as_str(), after.modified_at), ("Schule 81772", before.modified_at), "{backend}");
        assert_eq!(after.content_hash, before.content_hash, "{backend}");
        assert_eq!(second.counts.deleted, 0, "{backend}: every record was seen");
    }
}

#[tokio::test]
async fn a_failed_run_leaves_every_table_as_it_was() {
    for database in testing::all() {
        let store = open(&database);
        import(&store, request("schulen"), schools(&["66497", "81772"]), complete()).await;
        let digest = store.data_digest().expect("digest");

        let mut run = store.begin_run(request("schulen")).await.expect("begin");
        let mut records = schools(&["10001", "10002"]);
        records.push(school("66497", "Umbenannt"));
        run.records(records).await.expect("records");
        run.reject(Rejection {
            location: "schulen.xlsx, sheet Schulen, row 7".into(),
            field: Some("Schulnummer".into()),
            value: Some("12a45".into()),
            message: "not a Schulnummer".into(),
        })
        .await
        .expect("reject");
        let summary = run.fail("the source broke off".into()).await;

        assert_eq!(summary.status, RunStatus::Failed);
        assert_eq!(store.data_digest().expect("digest"), digest, "{}: nothing changed", database.backend);
        let mut conn = store.connection().expect("connection");
        let recorded = queries::get_run(&mut conn, summary.run_id).expect("query").expect("run recorded");
        assert_eq!(recorded.status, "failed");
        assert_eq!(recorded.error.as_deref(), Some("the source broke off"));
        let rejects = queries::rejected_records(&mut conn, summary.run_id, 10).expect("rejects");
        assert_eq!(rejects.len(), 1, "rejects of a failed run are kept to explain it");
        assert_eq!(rejects[0].value.as_deref(), Some("12a45"));
    }
}

#[tokio::test]
async fn an_interrupted_run_is_rolled_back_and_recorded_as_failed() {
    for database in testing::all() {
        let store = open(&database);
        let digest = store.data_digest().expect("digest");
        let mut run = store.begin_run(request("schulen")).await.expect("begin");
        let run_id = run.id();
        run.records(schools(&["66497"])).await.expect("records");
        drop(run);
        // The writer notices the dropped sink, rolls back and records the run.
        let mut status = String::new();
        for _ in 0..100 {
            let mut conn = store.connection().expect("connection");
            status = queries::get_run(&mut conn, run_id).expect("query").expect("run").status;
            if status != "running" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(status, "failed", "{}", database.backend);
        assert_eq!(store.data_digest().expect("digest"), digest);
    }
}

#[tokio::test]
async fn tombstones_only_after_successful_complete_runs() {
    for database in testing::all() {
        let store = open(&database);
        import(&store, request("schulen"), schools(&["1", "2", "3", "4"]), complete()).await;

        // An incomplete run (a windowed crawl) tombstones nothing.
        let partial = import(&store, request("schulen"), schools(&["1", "2", "3"]), RunOutcome::default()).await;
        assert_eq!(partial.counts.deleted, 0);
        // A failed run tombstones nothing.
        let mut run = store.begin_run(request("schulen")).await.expect("begin");
        run.records(schools(&["1", "2", "3"])).await.expect("records");
        run.fail("broken".into()).await;
        assert!(school_row(&store, "NI-4").expect("row").deleted_at.is_none(), "{}", database.backend);
        // A source that reports no change tombstones nothing.
        let unchanged = RunOutcome { complete: true, source_unchanged: true, ..RunOutcome::default() };
        let summary = import(&store, request("schulen"), Vec::new(), unchanged).await;
        assert_eq!(summary.status, RunStatus::Unchanged);
        assert!(school_row(&store, "NI-4").expect("row").deleted_at.is_none());

        // A successful complete run tombstones what it did not see, and never deletes the row.
        let summary = import(&store, request("schulen"), schools(&["1", "2", "3"]), complete()).await;
        assert_eq!(summary.status, RunStatus::Succeeded);
        assert_eq!(summary.counts.deleted, 1);
        let gone = school_row(&store, "NI-4").expect("row kept");
        assert!(gone.deleted_at.is_some());
        assert_eq!(gone.modified_at, gone.deleted_at.expect("set"), "modified_since consumers see the deletion");

        // It comes back when the source lists it again.
        let summary = import(&store, request("schulen"), schools(&["1", "2", "3", "4"]), complete()).await;
        assert_eq!((summary.counts.updated, summary.counts.deleted), (1, 0));
        assert!(school_row(&store, "NI-4").expect("row").deleted_at.is_none());
    }
}

#[tokio::test]
async fn the_reject_ratio_guard_fails_the_run_without_changes() {
    for database in testing::all() {
        let store = open(&database);
        import(&store, request("schulen"), schools(&["1", "2"]), complete()).await;
        let digest = store.data_digest().expect("digest");
        let mut run = store.begin_run(request("schulen")).await.expect("begin");
        run.records(schools(&["1", "2", "3"])).await.expect("records");
        for row in 0..2 {
            let rejection = Rejection {
                location: format!("schulen.csv:{row}"),
                field: Some("Schulnummer".into()),
                value: None,
                message: "missing".into(),
            };
            run.reject(rejection).await.expect("reject");
        }
        let summary = run.finish(complete()).await;
        assert_eq!(summary.status, RunStatus::Failed, "{}", database.backend);
        let error = summary.error.expect("error");
        assert!(error.contains("2 of 5 records were rejected") && error.contains("max_reject_ratio"), "{error}");
        assert_eq!(store.data_digest().expect("digest"), digest);
    }
}

#[tokio::test]
async fn the_tombstone_guard_fails_the_run_without_changes() {
    for database in testing::all() {
        let store = open(&database);
        import(&store, request("schulen"), schools(&["1", "2", "3", "4"]), complete()).await;
        let digest = store.data_digest().expect("digest");
        // A truncated sheet: only one school left.
        let summary = import(&store, request("schulen"), schools(&["1"]), complete()).await;
        assert_eq!(summary.status, RunStatus::Failed, "{}", database.backend);
        let error = summary.error.expect("error");
        assert!(error.contains("tombstone 3 of 4") && error.contains("max_tombstone_share"), "{error}");
        assert_eq!(store.data_digest().expect("digest"), digest);

        // With a guard that allows it, the same run goes through.
        let mut lenient = request("schulen");
        lenient.guards.max_tombstone_share = 1.0;
        let summary = import(&store, lenient, schools(&["1"]), complete()).await;
        assert_eq!((summary.status, summary.counts.deleted), (RunStatus::Succeeded, 3));
    }
}

#[tokio::test]
async fn ids_taken_by_another_connector_are_rejected_and_deletions_tombstone() {
    for database in testing::all() {
        let store = open(&database);
        import(&store, request("schulen"), schools(&["66497"]), complete()).await;
        let mut other = request("zweite-liste");
        other.guards.max_reject_ratio = 1.0;
        let summary = import(&store, other, schools(&["66497", "81772"]), complete()).await;
        assert_eq!((summary.counts.created, summary.counts.rejected), (1, 1), "{}", database.backend);
        let mut conn = store.connection().expect("connection");
        let rejects = queries::rejected_records(&mut conn, summary.run_id, 10).expect("rejects");
        assert!(rejects[0].message.contains("already provided by connector `schulen`"), "{:?}", rejects[0]);
        drop(conn);

        let mut run = store.begin_run(request("zweite-liste")).await.expect("begin");
        let gone = Tombstone { id: "NI-81772".into(), kind: EntityKind::School, origin: Origin::new("81772") };
        run.records(vec![Record::Tombstone(gone)]).await.expect("tombstone");
        let summary = run.finish(RunOutcome::default()).await;
        assert_eq!(summary.counts.deleted, 1);
        assert!(school_row(&store, "NI-81772").expect("row").deleted_at.is_some());
    }
}

#[tokio::test]
async fn watermarks_are_kept_with_successful_runs_only() {
    for database in testing::all() {
        let store = open(&database);
        let outcome = RunOutcome { watermark: Some("2026-11-01T00:00:00Z".into()), ..RunOutcome::default() };
        import(&store, request("ratsinfo"), schools(&["1"]), outcome).await;
        let mut run = store.begin_run(request("ratsinfo")).await.expect("begin");
        run.records(schools(&["2"])).await.expect("records");
        run.fail("timeout".into()).await;
        let mut conn = store.connection().expect("connection");
        assert_eq!(
            queries::last_watermark(&mut conn, "ratsinfo").expect("query").as_deref(),
            Some("2026-11-01T00:00:00Z")
        );
        let runs = queries::list_runs(
            &mut conn,
            &RunFilter { connector: Some("ratsinfo".into()), limit: 10, ..RunFilter::default() },
        )
        .expect("runs");
        assert_eq!(runs.iter().map(|run| run.status.as_str()).collect::<Vec<_>>(), ["failed", "succeeded"]);
    }
}

/// A run started the moment the connector's previous run returned finds the connector free: the lock is released
/// before `finish` returns (on PostgreSQL, closing the lock's session alone left the advisory lock held until the
/// server had ended that session, and a quick next trigger was skipped as "in progress"). Four connectors at once,
/// to keep the server busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_right_after_the_previous_one_is_not_skipped() {
    for database in testing::all() {
        let store = open(&database);
        let mut connectors = tokio::task::JoinSet::new();
        for connector in ["eins", "zwei", "drei", "vier"] {
            let store = store.clone();
            connectors.spawn(async move {
                for round in 0..100 {
                    let run = match store.begin_run(request(connector)).await {
                        Ok(run) => run,
                        Err(error) => return Err(format!("{connector}: run {round} after a finished one: {error}")),
                    };
                    let summary = run.finish(RunOutcome::default()).await;
                    if summary.status != RunStatus::Succeeded {
                        return Err(format!("{connector}: {summary:?}"));
                    }
                }
                Ok(())
            });
        }
        while let Some(result) = connectors.join_next().await {
            if let Err(error) = result.expect("task") {
                panic!("{}: {error}", database.backend);
            }
        }
    }
}
