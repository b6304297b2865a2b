//! au020.asp (committee) and fr020.asp (faction): only the Gremium itself. Members and contact persons are not
//! read: the IKZ does not need them.

use super::Page;
use crate::allris::html::non_empty;
use crate::allris::page::{organization_kind, OrganizationPage, PageError};
use crate::model::OrganizationKind;

pub(crate) fn parse(page: &Page<'_>) -> Result<OrganizationPage, PageError> {
    let name = page.heading().and_then(non_empty).ok_or_else(|| PageError::missing("Name (h1)"))?;
    let faction =
        page.location.is_some_and(|location| location.to_ascii_lowercase().contains("fr020")) || is_faction_page(page);
    let kind = if faction { OrganizationKind::Faction } else { organization_kind(&name) };
    let key = if faction { "FRLFDNR" } else { "AULFDNR" };
    Ok(OrganizationPage { number: page.object_id(key), name, kind })
}

fn is_faction_page(page: &Page<'_>) -> bool {
    let container = crate::allris::html::sel("#allriscontainer.fr020");
    page.document.select(&container).next().is_some()
}
