//! The OParl JSON reader and normaliser: arbitrary bytes as a page, then every object of `data` (or the document
//! itself) normalised as each OParl type.
#![no_main]

use ikz_connectors::oparl::normalise::{At, Normaliser};
use libfuzzer_sys::fuzz_target;

const TYPES: [&str; 8] =
    ["Paper", "Meeting", "Organization", "Person", "Membership", "AgendaItem", "Consultation", "File"];

fuzz_target!(|data: &[u8]| {
    let Ok(page) = ikz_connectors::oparl::json::parse(data, Some("application/json")) else { return };
    let objects: Vec<&serde_json::Value> = match page.get("data").and_then(|data| data.as_array()) {
        Some(list) => list.iter().collect(),
        None => vec![&page],
    };
    let mut normaliser = Normaliser::new(false);
    for (index, object) in objects.iter().enumerate() {
        let at = At { url: "https://ris.example/oparl/papers?page=1", pointer: format!("/data/{index}") };
        for kind in TYPES {
            normaliser.object(kind, object, "hankensbuettel", &at);
        }
    }
});
