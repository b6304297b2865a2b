//! The ALLRIS page parser on arbitrary bytes, at the address of each page kind (the kind may come from the URL).
#![no_main]

use libfuzzer_sys::fuzz_target;

const LOCATIONS: [&str; 6] = [
    "https://ris.example/bi/vo020.asp?VOLFDNR=1",
    "https://ris.example/bi/to010.asp?SILFDNR=2",
    "https://ris.example/bi/to020.asp?TOLFDNR=3",
    "https://ris.example/bi/au020.asp?AULFDNR=4",
    "https://ris.example/bi/si010_e.asp?MM=11&YY=2019",
    "demo/allris/vo020/1249.html",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, page)) = data.split_first() else { return };
    let location = LOCATIONS[selector as usize % LOCATIONS.len()];
    let _ = ikz_connectors::allris::parse_page(page, Some(location));
});
