//! The org's other objects: schedule groups, data tables, data actions and prompts
//! (by name), queues, divisions and the organization itself.

use super::http::{listing, lock, ok, param, query, unknown};
use super::state::ResourceKind;
use super::Shared;
use crate::models::*;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::Response;

/// Schedule groups, data tables, data actions, prompts: `?name=` is an exact match here
/// (unverified for these endpoints; flowctl filters by exact name itself anyway).
pub(super) async fn list_resources(
    AxState(shared): AxState<Shared>,
    RawQuery(raw): RawQuery,
    kind: ResourceKind,
) -> Response {
    let q = query(&raw);
    let name = param(&q, "name").map(str::to_string);
    let items: Vec<EntityRef> = lock(&shared)
        .org
        .resources
        .list(kind)
        .iter()
        .filter(|e| name.is_none() || e.name == name)
        .cloned()
        .collect();
    listing(items, &q, kind.path())
}

pub(super) async fn list_queues(
    AxState(shared): AxState<Shared>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(&raw);
    let name = param(&q, "name").map(str::to_lowercase);
    let s = lock(&shared);
    let mut queues: Vec<Queue> = s
        .org
        .queues
        .iter()
        .filter(|x| {
            name.as_ref()
                .is_none_or(|n| x.name.to_lowercase().contains(n))
        })
        .cloned()
        .collect();
    queues.sort_by(|a, b| a.name.cmp(&b.name));
    listing(queues, &q, "/api/v2/routing/queues")
}

pub(super) async fn get_queue(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
) -> Response {
    match lock(&shared).org.queues.iter().find(|q| q.id == id) {
        Some(q) => ok(q),
        None => unknown("queue", &id),
    }
}

pub(super) async fn list_divisions(
    AxState(shared): AxState<Shared>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(&raw);
    let name = param(&q, "name");
    let s = lock(&shared);
    let divisions: Vec<Division> = s
        .org
        .divisions
        .iter()
        .filter(|d| name.is_none_or(|n| d.name == n))
        .cloned()
        .collect();
    listing(divisions, &q, "/api/v2/authorization/divisions")
}

pub(super) async fn get_division(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
) -> Response {
    match lock(&shared).org.divisions.iter().find(|d| d.id == id) {
        Some(d) => ok(d),
        None => unknown("division", &id),
    }
}

pub(super) async fn organization(AxState(shared): AxState<Shared>) -> Response {
    ok(&lock(&shared).org.organization)
}
