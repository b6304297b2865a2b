//! Partners of the IKZ: the Landkreis and its Samtgemeinden, towns and municipalities. They come from config.

use serde::{Deserialize, Serialize};

/// The kind of a partner's administration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    Landkreis,
    /// A union of municipalities with a joint administration (Lower Saxony).
    Samtgemeinde,
    Stadt,
    Gemeinde,
}

impl PartnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerKind::Landkreis => "landkreis",
            PartnerKind::Samtgemeinde => "samtgemeinde",
            PartnerKind::Stadt => "stadt",
            PartnerKind::Gemeinde => "gemeinde",
        }
    }
}

/// Amtlicher Gemeindeschlüssel: 8 digits, kept as text because it starts with a zero (`03151009`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ags(String);

impl Ags {
    /// Parses an AGS; a 7-digit value lost its leading zero somewhere (a spreadsheet, an OParl server) and gets it
    /// back.
    pub fn parse(text: &str) -> Result<Self, String> {
        let digits = text.trim();
        if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(format!("AGS `{digits}` must consist of digits"));
        }
        match digits.len() {
            8 => Ok(Ags(digits.to_owned())),
            7 => Ok(Ags(format!("0{digits}"))),
            _ => Err(format!("AGS `{digits}` must have 8 digits")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Ags {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Ags::parse(&text)
    }
}

impl From<Ags> for String {
    fn from(ags: Ags) -> Self {
        ags.0
    }
}

/// A partner as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    /// URL-safe, stable: `hankensbuettel`. Also the partner's public id.
    pub slug: String,
    pub name: String,
    pub kind: PartnerKind,
    pub ags: Option<Ags>,
    /// Other names the partner appears under in sources ("SG Hankensbüttel", "Samtgemeinde Hankensbuettel").
    pub aliases: Vec<String>,
}

impl Partner {
    /// Does `name` (as written in a source, e.g. a Schulträger column) mean this partner? Compared ignoring case,
    /// surrounding and repeated whitespace.
    pub fn is_named(&self, name: &str) -> bool {
        let wanted = normalise_name(name);
        std::iter::once(&self.name).chain(&self.aliases).any(|candidate| normalise_name(candidate) == wanted)
    }
}

fn normalise_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ags_keeps_and_restores_the_leading_zero() {
        assert_eq!(Ags::parse("03151009").map(|a| a.as_str().to_owned()), Ok("03151009".into()));
        assert_eq!(Ags::parse("3151009").map(|a| a.as_str().to_owned()), Ok("03151009".into()));
        assert!(Ags::parse("31510").is_err());
        assert!(Ags::parse("0315100X").is_err());
    }

    #[test]
    fn partner_matches_name_and_aliases() {
        let partner = Partner {
            slug: "hankensbuettel".into(),
            name: "Samtgemeinde Hankensbüttel".into(),
            kind: PartnerKind::Samtgemeinde,
            ags: None,
            aliases: vec!["SG Hankensbüttel".into()],
        };
        assert!(partner.is_named("  samtgemeinde   Hankensbüttel "));
        assert!(partner.is_named("SG HANKENSBÜTTEL"));
        assert!(!partner.is_named("Stadt Wittingen"));
    }
}
