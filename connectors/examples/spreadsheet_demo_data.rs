//! Writes the spreadsheet demo files in config/demo/ from the real 2017 Gifhorn school rows:
//!
//! - `schulen-gifhorn.xlsx`: school master data, one row per Schulgliederung as the official data has it. Real
//!   values, except the Schulträger column, which the 2017 source lacks: it is a demo assignment by the school's
//!   municipality (vocational schools: the Landkreis; schools in free sponsorship: left empty).
//! - `medienkonzepte-gifhorn.ods`: media concept status per school — demo values.
//! - `ausstattung-gifhorn.csv`: equipment counts per school (`;`, windows-1252) — demo values.
//!
//! Run: `cargo run -p ikz-connectors --example spreadsheet_demo_data` (from the workspace root).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use ikz_connectors::spreadsheet::coerce::clean_text;
use ikz_connectors::spreadsheet::mapping::split_address;
use ikz_connectors::spreadsheet::write::{ods_bytes, xlsx_bytes, WriteCell};

/// Municipality of the school's address → the Schulträger written into the demo sheet.
const TRAEGER: &[(&[&str], &str)] = &[
    (&["Hankensbüttel", "Sprakensehl", "Steinhorst", "Dedelstorf", "Obernholz"], "Samtgemeinde Hankensbüttel"),
    (&["Wittingen"], "Stadt Wittingen"),
    (&["Gifhorn"], "Stadt Gifhorn"),
    (&["Sassenburg"], "Gemeinde Sassenburg"),
    (&["Meinersen", "Leiferde", "Müden", "Hillerse"], "Samtgemeinde Meinersen"),
    (&["Rühen", "Brome", "Ehra-Lessien", "Parsau", "Tülau"], "Samtgemeinde Brome"),
    (&["Calberlah", "Isenbüttel", "Wasbüttel", "Ribbesbüttel"], "Samtgemeinde Isenbüttel"),
    (&["Weyhausen", "Osloß", "Jembke", "Tappenbeck", "Barwedel"], "Samtgemeinde Boldecker Land"),
    (&["Wesendorf", "Wahrenholz", "Oesingen", "Schönewörde"], "Samtgemeinde Wesendorf"),
    (&["Meine", "Adenbüttel", "Rötgesbüttel", "Vordorf"], "Samtgemeinde Papenteich"),
];

/// Schools in free sponsorship (their operator is not in the source).
const PRIVATE: &[&str] = &["14722", "93233", "72503"];

fn traeger(number: &str, name: &str, city: &str) -> String {
    if PRIVATE.contains(&number) {
        return String::new();
    }
    if name.contains("Berufsbildende Schulen") {
        return "Landkreis Gifhorn".to_owned();
    }
    TRAEGER
        .iter()
        .find(|(places, _)| places.iter().any(|place| city.split_whitespace().any(|word| word == *place)))
        .map(|(_, traeger)| (*traeger).to_owned())
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let input = root.join("connectors/testdata/spreadsheet/schulscraper-data_niedersachsen_2017_LK-Gifhorn-subset.csv");
    let demo = root.join("config/demo");
    std::fs::create_dir_all(&demo)?;
    let mut reader = csv::Reader::from_path(&input)?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| headers.iter().position(|header| header == name).ok_or(format!("no column {name}"));
    let (address, fax, lat, lon, name, number, phone, school_type) = (
        column("address")?,
        column("fax")?,
        column("lat")?,
        column("lon")?,
        column("name")?,
        column("official_id")?,
        column("phone")?,
        column("school_type")?,
    );

    let header = [
        "Schulnummer",
        "Schulname",
        "Schulform",
        "Schulträger",
        "Straße",
        "PLZ",
        "Ort",
        "Telefon",
        "Fax",
        "Breitengrad",
        "Längengrad",
    ];
    let mut rows: Vec<Vec<WriteCell>> = vec![
        vec![WriteCell::from(
            "Schulen im Landkreis Gifhorn – Schulverzeichnis Niedersachsen, Stand 2017 (je Schulgliederung eine Zeile)",
        )],
        vec![],
        header.iter().map(|text| WriteCell::from(*text)).collect(),
    ];
    // Schulnummer → (name, Schulträger), for the coordination sheets.
    let mut schools: BTreeMap<String, (String, String)> = BTreeMap::new();
    for record in reader.records() {
        let record = record?;
        let (street, postcode, city) = split_address(&clean_text(&record[address]));
        let city = city.unwrap_or_default();
        let school_number = record[number].to_owned();
        let traeger = traeger(&school_number, &record[name], &city);
        schools.entry(school_number.clone()).or_insert_with(|| (clean_text(&record[name]), traeger.clone()));
        let float = |text: &str| text.parse::<f64>().map(WriteCell::Number).unwrap_or(WriteCell::Empty);
        rows.push(vec![
            float(&school_number),
            // The name keeps its embedded newline ("Name\nZusatz"), as in the source.
            WriteCell::from(record[name].to_owned()),
            WriteCell::from(&record[school_type]),
            WriteCell::from(traeger),
            WriteCell::from(street.unwrap_or_default()),
            postcode.as_deref().map(float).unwrap_or(WriteCell::Empty),
            WriteCell::from(city),
            WriteCell::from(&record[phone]),
            WriteCell::from(&record[fax]),
            float(&record[lat]),
            float(&record[lon]),
        ]);
    }
    let notes = vec![
        vec![WriteCell::from("Quelle: Datenschule/schulscraper-data, schools/niedersachsen.csv (2017, schulnetz.nibis.de), Auszug Landkreis Gifhorn")],
        vec![WriteCell::from("Die Spalte Schulträger ist NICHT aus der Quelle: Demo-Zuordnung nach Gemeinde/Samtgemeinde des Schulorts (BBS: Landkreis; Schulen in freier Trägerschaft: leer).")],
    ];
    std::fs::write(demo.join("schulen-gifhorn.xlsx"), xlsx_bytes(&[("Schulen", rows), ("Hinweise", notes)], false)?)?;

    // Demo values, derived from the Schulnummer so they stay the same on every run.
    let date =
        |year, month, day| NaiveDate::from_ymd_opt(year, month, day).map(WriteCell::Date).unwrap_or(WriteCell::Empty);
    let mut concepts = vec![
        vec![WriteCell::from(
            "Medienbildungskonzepte der Schulen im Landkreis Gifhorn – DEMO-WERTE, keine echten Daten",
        )],
        vec![],
        ["Schulnummer", "Schule", "Status", "Begonnen am", "Eingereicht am", "Genehmigt am", "Version"]
            .iter()
            .map(|text| WriteCell::from(*text))
            .collect(),
    ];
    for (number, (name, _)) in &schools {
        let seed: u32 = number.parse().unwrap_or_default();
        let stage = if number == "66497" { 3 } else { seed % 4 };
        let month = seed % 12 + 1;
        let (status, started, submitted, approved, version) = match stage {
            0 => ("keins", WriteCell::Empty, WriteCell::Empty, WriteCell::Empty, ""),
            1 => ("in Arbeit", date(2020, month, 1), WriteCell::Empty, WriteCell::Empty, "Entwurf"),
            // Some dates are typed as text, the way people do.
            2 => (
                "eingereicht",
                date(2019, month, 1),
                WriteCell::from(format!("{:02}.{:02}.2020", seed % 28 + 1, month)),
                WriteCell::Empty,
                "1.0",
            ),
            _ => ("genehmigt", date(2019, month, 1), date(2020, month, 15), date(2020, (month % 12) + 1, 20), "1.1"),
        };
        concepts.push(vec![
            WriteCell::Number(f64::from(seed)),
            WriteCell::from(name.as_str()),
            WriteCell::from(status),
            started,
            submitted,
            approved,
            WriteCell::from(version),
        ]);
    }
    std::fs::write(demo.join("medienkonzepte-gifhorn.ods"), ods_bytes(&[("Medienkonzepte", concepts)])?)?;

    let mut equipment = String::from(
        "DEMO-WERTE – keine echten Ausstattungsdaten;;;;\r\nSchulnummer;Schule;Kategorie;Anzahl;Stand\r\n",
    );
    for (number, (name, _)) in &schools {
        let seed: u32 = number.parse().unwrap_or_default();
        for (index, category) in
            ["WLAN-Accesspoints", "Interaktive Displays", "Notebooks", "Tablets"].iter().enumerate()
        {
            let count = (seed / (index as u32 + 3)) % 40 + index as u32 * 5;
            // Every fifth school's number is protected the way Excel CSV exports do it.
            let number_cell = if matches!(seed % 5, 0) { format!("=\"{number}\"") } else { number.clone() };
            let name = name.replace('"', "\"\"");
            equipment.push_str(&format!("{number_cell};\"{name}\";{category};{count};01.08.2024\r\n"));
        }
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&equipment);
    if unmappable {
        return Err("a character does not fit windows-1252".into());
    }
    std::fs::write(demo.join("ausstattung-gifhorn.csv"), bytes)?;
    println!("wrote {} schools into {}", schools.len(), demo.display());
    Ok(())
}
