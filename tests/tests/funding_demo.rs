//! Issue 6: the funding summary of the shipped demo data adds up, over real HTTP, on SQLite and PostgreSQL.
//!
//! The demo config imports its funding connectors at start-up (programs, the budget XLSX, the N-DiPS-like XML and the
//! Förderkatalog CSV). The summary's per-measure and per-school lines must add up to each Schulträger's totals, the
//! Schulträger to the program total, and the totals must match what `/funding/applications` and `/funding/budgets`
//! list (withdrawn and rejected applications count in no sum).

use std::collections::BTreeMap;

use ikz_tests::{databases, demo_config, spawn_app, TestApp};
use serde_json::Value;

const AMOUNTS: [&str; 3] = ["requested_cents", "approved_cents", "disbursed_cents"];

/// Every item of a list, following `links.next`.
async fn all_items(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = Some(format!("{path}&limit=2"));
    while let Some(page) = next.take() {
        let body = app.get_json(&page).await;
        items.extend(body["data"].as_array().expect("data").iter().cloned());
        if let Some(link) = body["links"]["next"].as_str() {
            let link = link.strip_prefix(&app.address).unwrap_or(link);
            next = Some(link.to_owned());
        }
    }
    items
}

fn cents(value: &Value, key: &str) -> i64 {
    value[key].as_i64().unwrap_or_else(|| panic!("{key} is not a number in {value}"))
}

/// The sums of `lines` for every amount key, plus the application count.
fn sums(lines: &[Value]) -> BTreeMap<&'static str, i64> {
    let mut sums = BTreeMap::new();
    for key in AMOUNTS.iter().copied().chain(["applications"]) {
        sums.insert(key, lines.iter().map(|line| cents(line, key)).sum());
    }
    sums
}

fn totals_of(summary: &Value) -> BTreeMap<&'static str, i64> {
    sums(std::slice::from_ref(summary))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_funding_summary_adds_up() {
    let program = "digitalpakt-schule-ni";
    for database in databases() {
        let backend = database.backend;
        let app = spawn_app(demo_config(&database.url)).await;
        for connector in ["funding-programs", "funding-budgets-gifhorn", "funding-antraege-gifhorn"] {
            let run = app.wait_for_run(connector).await;
            assert_eq!(run["status"], "succeeded", "{backend}: {connector}: {run}");
        }

        let summary = app.get_json(&format!("/api/v1/funding/summary?program={program}")).await;
        let partners = summary["data"]["partners"].as_array().expect("partners").clone();
        let total = &summary["data"]["total"];
        assert!(partners.len() >= 3, "{backend}: several Schulträger in the demo, got {}", partners.len());

        // Each Schulträger: measure lines and school lines add up to its totals.
        for partner in &partners {
            let name = &partner["partner"];
            let measures = partner["measures"].as_array().expect("measures");
            let schools = partner["schools"].as_array().expect("schools");
            assert_eq!(sums(measures), totals_of(partner), "{backend}: measures of {name}");
            assert_eq!(sums(schools), totals_of(partner), "{backend}: schools of {name}");
            let school_budgets: i64 = schools.iter().map(|line| cents(line, "budget_cents")).sum();
            assert!(school_budgets <= cents(partner, "budget_cents"), "{backend}: school budgets of {name}");
            assert_eq!(
                cents(partner, "remaining_cents"),
                cents(partner, "budget_cents") - cents(partner, "approved_cents"),
                "{backend}: remaining of {name}"
            );
        }
        // The Schulträger add up to the program total, which has its own lines adding up too.
        assert_eq!(sums(&partners), totals_of(total), "{backend}: partners to total");
        let partner_budgets: i64 = partners.iter().map(|partner| cents(partner, "budget_cents")).sum();
        assert_eq!(partner_budgets, cents(total, "budget_cents"), "{backend}: budgets to total");
        assert_eq!(sums(total["measures"].as_array().expect("m")), totals_of(total), "{backend}: total measures");
        assert_eq!(sums(total["schools"].as_array().expect("s")), totals_of(total), "{backend}: total schools");

        // The totals are those of the listed applications and budgets, per Schulträger.
        let applications = all_items(&app, &format!("/api/v1/funding/applications?program={program}")).await;
        assert_eq!(applications.len(), 11, "{backend}: the demo XML holds 11 applications");
        let budgets = all_items(&app, &format!("/api/v1/funding/budgets?program={program}")).await;
        for partner in &partners {
            let slug = &partner["partner"];
            let counted: Vec<Value> = applications
                .iter()
                .filter(|application| &application["partner"] == slug)
                .filter(|application| !matches!(application["status"].as_str(), Some("withdrawn" | "rejected")))
                .map(|application| {
                    // A missing amount counts as 0, as in the summary.
                    let mut line = serde_json::json!({ "applications": 1 });
                    for key in AMOUNTS {
                        line[key] = Value::from(application[key].as_i64().unwrap_or(0));
                    }
                    line
                })
                .collect();
            assert_eq!(sums(&counted), totals_of(partner), "{backend}: listed applications of {slug}");
            let budget: i64 =
                budgets.iter().filter(|budget| &budget["partner"] == slug).map(|b| cents(b, "amount_cents")).sum();
            assert_eq!(budget, cents(partner, "budget_cents"), "{backend}: listed budgets of {slug}");
        }
        assert!(cents(total, "approved_cents") > 0 && cents(total, "disbursed_cents") > 0, "{backend}: {total}");

        // The Samtgemeinde Hankensbüttel's real budget (Vorlage SG/256/19).
        let hankensbuettel =
            partners.iter().find(|partner| partner["partner"] == "hankensbuettel").expect("hankensbuettel");
        assert_eq!(cents(hankensbuettel, "budget_cents"), 24_534_100, "{backend}: 245,341 EUR");
        assert_eq!(hankensbuettel["budget_eur"], "245341.00", "{backend}");
        assert!(cents(hankensbuettel, "applications") > 0, "{backend}: {hankensbuettel}");
    }
}
