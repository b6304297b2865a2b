//! Issue 4 end to end on SQLite and PostgreSQL: an incremental OParl run against the loopback fixture server whose
//! objects say `deleted: true` tombstones the stored records, and `modified_since` readers see the deletions.

use diesel::prelude::*;
use ikz_connectors::oparl::testing::{Response, TestServer};
use ikz_hub::startup::open_store;
use ikz_store::queries::{list_papers, Page, PaperFilter};
use ikz_store::rows::PaperRow;
use ikz_store::schema::paper;
use ikz_store::{RunStatus, Store};
use ikz_tests::{databases, hub, import, oparl_connector, serve_oparl_papers, TestConfig};

fn papers(store: &Store) -> Vec<PaperRow> {
    let mut conn = store.connection().expect("connection");
    paper::table.order(paper::id).select(PaperRow::as_select()).load(&mut *conn).expect("papers")
}

/// Papers as the API lists them: live ones only, or (with `modified_since`) everything changed since, tombstones
/// included.
fn listed(store: &Store, modified_since: Option<chrono::NaiveDateTime>) -> Vec<PaperRow> {
    let mut conn = store.connection().expect("connection");
    let page = Page { sort: "id", descending: false, after: None, limit: 1000, modified_since };
    list_papers(&mut conn, &PaperFilter::default(), &page).expect("list papers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_oparl_run_tombstones_deleted_objects_in_the_store() {
    for database in databases() {
        let server = TestServer::start().await.expect("fixture server");
        let base = server.base();
        let pages = serve_oparl_papers(&server, 60, 25);
        let test = TestConfig::new(&database.url, "");
        test.connector("ratsinfo", &oparl_connector(&base, true));
        let config = test.load();
        let store = open_store(&config).await.expect("store");
        let hub = hub(config, &store);

        let full = import(&hub, "ratsinfo").await;
        assert_eq!(full.status, RunStatus::Succeeded, "{}: {:?}", database.backend, full.error);
        let before = papers(&store);
        assert_eq!(before.len(), 60, "{}", database.backend);
        assert!(before.iter().all(|row| row.deleted_at.is_none()));
        assert!(!server.requests().iter().any(|request| request.contains("modified_since")), "the first run is full");

        // What changed since the last run: papers 7 and 42 were deleted at the source, paper 3 got a new name.
        let since_first = ikz_store::now();
        let deleted = |n: usize| {
            serde_json::json!({
                "id": format!("{base}/oparl/paper/{n}"), "type": "https://schema.oparl.org/1.1/Paper",
                "deleted": true, "modified": "2026-01-02T10:00:00+01:00"
            })
        };
        let mut renamed: serde_json::Value =
            serde_json::from_str::<serde_json::Value>(&pages[0].1).expect("page json")["data"][3].clone();
        renamed["name"] = "Vorlage 3: Ausstattung der Grundschule mit digitalen Tafeln (geändert)".into();
        let changes = serde_json::json!({
            "data": [deleted(7), renamed, deleted(42)],
            "pagination": {"totalElements": 3, "elementsPerPage": 25, "currentPage": 1, "totalPages": 1},
            "links": {}
        });
        server.route("/oparl/body/1/paper", Response::json(changes.to_string()));
        server.clear_requests();

        let incremental = import(&hub, "ratsinfo").await;
        assert_eq!(incremental.status, RunStatus::Succeeded, "{}: {:?}", database.backend, incremental.error);
        let requests = server.requests();
        assert!(
            requests.iter().any(|request| request.starts_with("/oparl/body/1/paper?modified_since=")),
            "an incremental run asks for what changed: {requests:?}"
        );
        assert_eq!(incremental.counts.deleted, 2, "{}: {:?}", database.backend, incremental.counts);
        assert_eq!(incremental.counts.updated, 1, "{}: {:?}", database.backend, incremental.counts);

        let after = papers(&store);
        assert_eq!(after.len(), 60, "{}: tombstoned records are kept", database.backend);
        let source_key = |n: usize| format!("{base}/oparl/paper/{n}");
        let tombstoned: Vec<&PaperRow> = after.iter().filter(|row| row.deleted_at.is_some()).collect();
        let mut keys: Vec<&str> = tombstoned.iter().map(|row| row.source_key.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(keys, [source_key(42), source_key(7)], "{}", database.backend);
        for row in &tombstoned {
            assert_eq!(Some(row.modified_at), row.deleted_at, "modified_since readers see the deletion");
            assert!(row.modified_at >= since_first);
        }
        // An incremental run does not tombstone what it did not see.
        assert_eq!(after.iter().filter(|row| row.deleted_at.is_none()).count(), 58);

        // The API's list: without modified_since the deleted papers are gone, with it they come as tombstones.
        let live = listed(&store, None);
        assert_eq!(live.len(), 58, "{}", database.backend);
        assert!(live.iter().all(|row| row.source_key != source_key(7) && row.source_key != source_key(42)));
        let changed = listed(&store, Some(since_first));
        let mut changed: Vec<(&str, bool)> =
            changed.iter().map(|row| (row.source_key.as_str(), row.deleted_at.is_some())).collect();
        changed.sort_unstable();
        let mut expected = [(source_key(3), false), (source_key(42), true), (source_key(7), true)];
        expected.sort_unstable();
        let expected: Vec<(&str, bool)> = expected.iter().map(|(key, deleted)| (key.as_str(), *deleted)).collect();
        assert_eq!(changed, expected, "{}", database.backend);
    }
}
