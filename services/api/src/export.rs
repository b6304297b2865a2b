//! Whole-list exports: CSV streamed while the store is read in keyset batches, so a list of any length goes out in
//! constant memory and the first bytes leave before the last rows are read.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use ikz_store::queries::{SortField, SortValue};
use ikz_store::{DbConnection, StoreError};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::format::{self, Item};
use crate::list::{self, PageRequest};
use crate::{ApiState, Problem};

/// Rows per store query of a streamed export.
const BATCH: i64 = 1000;
/// Chunks waiting for a slow client before the reader waits too.
const CHUNKS_IN_FLIGHT: usize = 4;

type ListQuery<F, R> = fn(&mut DbConnection, &F, &ikz_store::queries::Page) -> Result<Vec<R>, StoreError>;

/// Where the next batch starts: the (sort value, id) of `last`.
pub(crate) fn after<R: Serialize>(last: &R, sort: SortField) -> Result<(SortValue, String), Problem> {
    let item = Item::from_row(last)?;
    let value = item.get(sort.name).cloned().unwrap_or_default();
    let id = item.get("id").and_then(|id| id.as_str()).unwrap_or_default().to_owned();
    let value = list::sort_value(&value, sort.kind)
        .ok_or_else(|| Problem::internal(format!("sort field `{}` has an unexpected value", sort.name)))?;
    Ok((value, id))
}

/// The receiving end of the export channel as the body stream actix sends.
struct Chunks(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// The whole list as CSV: a blocking task reads batches of [`BATCH`] rows in the list's keyset order and sends
/// each as a chunk; it stops when the client goes away. An error after the first bytes can only end the body
/// early (the status line is out); it is logged.
pub(crate) fn stream_csv<F, R>(
    state: &web::Data<ApiState>,
    name: &str,
    filter: F,
    query: ListQuery<F, R>,
    page_request: PageRequest,
) -> HttpResponse
where
    F: Send + 'static,
    R: Serialize + Send + 'static,
{
    let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let store = state.store.clone();
    let list_name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let result = (|| -> Result<(), Problem> {
            let mut conn = store.connection()?;
            let mut page = page_request.page.clone();
            page.limit = BATCH;
            let mut columns = None;
            loop {
                let rows = query(&mut conn, &filter, &page)?;
                let items = rows.iter().map(Item::from_row).collect::<Result<Vec<_>, _>>()?;
                let chunk = format::csv_chunk(&items, &mut columns)?;
                if sender.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                    return Ok(()); // The client went away.
                }
                match rows.last() {
                    Some(last) if rows.len() as i64 == BATCH => page.after = Some(after(last, page_request.sort)?),
                    _ => return Ok(()),
                }
            }
        })();
        if let Err(problem) = result {
            tracing::error!(list = %list_name, error = %problem, "a streamed CSV export stopped early");
            let _ = sender.blocking_send(Err(std::io::Error::other(problem.detail)));
        }
    });
    HttpResponse::Ok()
        .content_type(format::CSV_TYPE)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")))
        .insert_header((header::CACHE_CONTROL, "private, max-age=30"))
        .insert_header((header::VARY, "Accept"))
        .streaming(Chunks(receiver))
}
