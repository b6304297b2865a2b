//! Raw school type words → the IKZ's [`SchoolType`] code list.
//!
//! Sources write types freely: "Gymnasium - SEK I -", "GS", "Grund- u. Oberschule", "FöS Lernen",
//! "IGS/FWS - SEK I -", "Realschule Ganztagsschule". The value is split into words; each word that names a type adds
//! it. Words that describe how a school is organised (Ganztagsschule, Volle Halbtagsschule, SEK I) or a
//! Schulgliederung that is no school type of its own (Schulkindergarten = pre-school class, Bildungsangebot) are
//! known but add nothing. A value with a word that is neither is unknown: it maps to `other` and the run warns.

use crate::model::SchoolType;

/// What one raw value means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub types: Vec<SchoolType>,
    /// False when the value has words the code list does not know; the caller warns.
    pub known: bool,
}

/// Words that are understood but name no school type of the code list.
const NEUTRAL: &[&str] = &[
    "sek",
    "i",
    "ii",
    "sekundarbereich",
    "primarbereich",
    "o",
    "zb",
    "u",
    "und",
    "mit",
    "der",
    "die",
    "das",
    "für",
    "in",
    "schule",
    "schulen",
    "n",
    "ganztagsschule",
    "ganztag",
    "ganztags",
    "halbtagsschule",
    "volle",
    "offene",
    "gebundene",
    "teilgebundene",
    "verlässliche",
    "schulkindergarten",
    "skg",
    "bildungsangebot",
    "schwerpunkt",
    "sprache",
    "lernen",
    "emotionale",
    "soziale",
    "entw",
    "entwicklung",
    "geistige",
    "körperliche",
    "motorische",
    "hören",
    "sehen",
    "private",
    "privat",
    "öffentlich",
    "staatlich",
    "anerkannte",
    "ersatzschule",
    "europaschule",
    // Freie Waldorfschule: a school of its own kind, `other` in the code list, but not unknown.
    "fws",
    "waldorfschule",
];

/// Classifies one raw value.
pub fn classify(raw: &str) -> Classification {
    let lower = raw.to_lowercase();
    let mut types = Vec::new();
    let mut known = true;
    let mut add = |kind: SchoolType| {
        if !types.contains(&kind) {
            types.push(kind);
        }
    };
    let mut saw_word = false;
    for word in lower.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()) {
        saw_word = true;
        match word_types(word) {
            Some(found) => found.iter().for_each(|kind| add(*kind)),
            None if NEUTRAL.contains(&word) => {}
            None => known = false,
        }
    }
    if !saw_word {
        known = false;
    }
    if types.is_empty() && !known {
        types.push(SchoolType::Other);
    }
    Classification { types, known }
}

/// The types one word names; `None` when it names none.
fn word_types(word: &str) -> Option<&'static [SchoolType]> {
    use SchoolType::*;
    let found: &'static [SchoolType] = match word {
        "gs" | "grund" | "grundschule" | "grundschulen" | "primarstufe" => &[Grundschule],
        "hs" | "haupt" | "hauptschule" => &[Hauptschule],
        "rs" | "real" | "realschule" => &[Realschule],
        "obs" | "ober" | "oberschule" => &[Oberschule],
        "ghs" => &[Grundschule, Hauptschule],
        "hrs" => &[Hauptschule, Realschule],
        "gy" | "gym" | "gymnasium" | "gymnasien" => &[Gymnasium],
        "igs" | "kgs" | "gesamtschule" => &[Gesamtschule],
        "fös" | "foes" | "fs" | "förderschule" | "foerderschule" | "förderzentrum" | "sonderschule" => {
            &[Foerderschule]
        }
        "bbs" | "berufsbildende" | "berufsschule" | "berufsfachschule" | "fachoberschule" | "fachgymnasium"
        | "fachschule" | "berufsoberschule" => &[BerufsbildendeSchule],
        // Compounds: "Ganztagsgrundschule", "Kooperative Gesamtschule" are caught above by their last word.
        _ if word.ends_with("grundschule") => &[Grundschule],
        _ if word.ends_with("förderschule") => &[Foerderschule],
        _ if word.ends_with("gesamtschule") => &[Gesamtschule],
        _ => return None,
    };
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SchoolType::*;

    fn types(raw: &str) -> (Vec<SchoolType>, bool) {
        let found = classify(raw);
        (found.types, found.known)
    }

    #[test]
    fn raw_values_from_lower_saxony() {
        assert_eq!(types("Gymnasium - SEK I -"), (vec![Gymnasium], true));
        assert_eq!(types("Gymnasium - SEK II -"), (vec![Gymnasium], true));
        assert_eq!(types("GS"), (vec![Grundschule], true));
        assert_eq!(types("Grund- u. Oberschule"), (vec![Grundschule, Oberschule], true));
        assert_eq!(types("FöS Lernen"), (vec![Foerderschule], true));
        assert_eq!(types("FöS Emotionale+soziale Entw. Volle Halbtagsschule"), (vec![Foerderschule], true));
        assert_eq!(types("IGS/FWS - SEK I -"), (vec![Gesamtschule], true));
        assert_eq!(types("Berufsbildende Schule(n)"), (vec![BerufsbildendeSchule], true));
        assert_eq!(types("Realschule Ganztagsschule"), (vec![Realschule], true));
        assert_eq!(types("Ganztagsschule (o. ZB)"), (vec![], true));
        assert_eq!(types("Schulkindergarten"), (vec![], true));
        assert_eq!(types("Offene Ganztagsgrundschule"), (vec![Grundschule], true));
    }

    #[test]
    fn unknown_values_are_other_and_flagged() {
        assert_eq!(types("Kolleg"), (vec![Other], false));
        assert_eq!(types("  "), (vec![Other], false));
        // A known type with an unknown addition keeps the type, but the value is still flagged.
        assert_eq!(types("Gymnasium Internat"), (vec![Gymnasium], false));
    }
}
