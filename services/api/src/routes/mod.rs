pub mod connectors;
pub mod health;
pub mod partners;
pub mod resources;
pub mod runs;

use serde::Serialize;

/// The list envelope of every collection.
#[derive(Debug, Serialize)]
pub struct ListPage<T: Serialize> {
    pub data: Vec<T>,
    pub links: Links,
    pub meta: serde_json::Value,
}

#[derive(Debug, Default, Serialize)]
pub struct Links {
    pub next: Option<String>,
}
