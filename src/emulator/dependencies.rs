//! Dependency tracking: what a flow consumes, what consumes an object, the build status.

use super::http::{error, listing, lock, ok, param, params, query};
use super::state::now_ms;
use super::Shared;
use crate::models::*;
use axum::extract::{RawQuery, State as AxState};
use axum::response::Response;

fn object_type_of(t: FlowType) -> String {
    t.object_type().unwrap_or_default().to_string()
}

pub(super) async fn consumed(
    AxState(shared): AxState<Shared>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(&raw);
    let (Some(id), Some(version), Some(object_type)) = (
        param(&q, "id"),
        param(&q, "version"),
        param(&q, "objectType"),
    ) else {
        return error(
            400,
            "bad.request",
            "id, version and objectType are required",
        );
    };
    let kinds = params(&q, "resourceType");
    let s = lock(&shared);
    let now = now_ms();
    let found: Vec<Dependency> = s
        .org
        .flows
        .get(id)
        .filter(|r| object_type_of(r.flow.flow_type) == object_type)
        .and_then(|r| r.versions.iter().find(|v| v.version.id == version))
        .filter(|v| v.indexed_at <= now)
        .map(|v| {
            v.consumes
                .iter()
                .filter(|d| {
                    kinds.is_empty()
                        || kinds.contains(&d.object_type.as_deref().unwrap_or_default())
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    listing(
        found,
        &q,
        "/api/v2/architect/dependencytracking/consumedresources",
    )
}

pub(super) async fn consuming(
    AxState(shared): AxState<Shared>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(&raw);
    let (Some(id), Some(_object_type)) = (param(&q, "id"), param(&q, "objectType")) else {
        return error(400, "bad.request", "id and objectType are required");
    };
    let filter = param(&q, "flowFilter");
    let s = lock(&shared);
    let now = now_ms();
    let mut found = Vec::new();
    for r in s.org.flows.values() {
        let versions: Vec<_> = match filter {
            Some("published") | Some("checkedIn") => r.published().into_iter().collect(),
            _ => r.versions.last().into_iter().collect(),
        };
        for v in versions {
            if v.indexed_at <= now && v.consumes.iter().any(|d| d.id == id) {
                found.push(Dependency {
                    id: r.flow.id.clone(),
                    name: Some(r.flow.name.clone()),
                    version: (!shared.config.alternate_readings).then(|| v.version.id.clone()),
                    object_type: Some(object_type_of(r.flow.flow_type)),
                    deleted: Some(false),
                    updated: Some(false),
                    state_unknown: Some(false),
                    self_uri: r.flow.self_uri.clone(),
                });
            }
        }
    }
    listing(
        found,
        &q,
        "/api/v2/architect/dependencytracking/consumingresources",
    )
}

pub(super) async fn build_status(AxState(shared): AxState<Shared>) -> Response {
    let s = lock(&shared);
    ok(&DependencyStatus {
        id: Some("dependency-index".into()),
        build_id: Some("emulator".into()),
        status: s.org.build_status.clone(),
        date_started: None,
        date_completed: None,
        self_uri: Some("/api/v2/architect/dependencytracking/build".into()),
    })
}
