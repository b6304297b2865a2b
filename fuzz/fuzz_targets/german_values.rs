//! The German value parsers: amounts ("1.234,56 €"), dates ("01.10.2019"), integers and decimals.
#![no_main]

use ikz_connectors::de;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = de::parse_amount(&text);
    let _ = de::parse_date(&text);
    let _ = de::parse_integer(&text);
    let _ = de::parse_decimal(&text);
});
