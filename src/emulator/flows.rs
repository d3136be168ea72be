//! The flow handlers: list, create, get, update, delete, versions, the latest
//! configuration and the flow actions (checkout, checkin, publish...).

use super::http::{error, json_body, listing, lock, ok, param, params, query, unknown};
use super::Shared;
use crate::models::*;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub(super) async fn list_flows(
    AxState(shared): AxState<Shared>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(&raw);
    let mut types = Vec::new();
    for t in params(&q, "type") {
        match FlowType::parse_any(t) {
            Some(ft) if t == ft.as_query() => types.push(ft),
            _ => return error(400, "invalid.value", format!("Value [{t}] is not valid for field type [type]. Flow types are lower case, e.g. inboundcall")),
        }
    }
    let name = param(&q, "name").map(str::to_lowercase);
    let s = lock(&shared);
    let mut flows: Vec<Flow> = s
        .org
        .flows
        .values()
        .map(|r| r.flow.clone())
        .filter(|f| types.is_empty() || types.contains(&f.flow_type))
        .filter(|f| {
            name.as_ref()
                .is_none_or(|n| f.name.to_lowercase().contains(n))
        })
        .collect();
    flows.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    listing(flows, &q, "/api/v2/flows")
}

pub(super) async fn create_flow(AxState(shared): AxState<Shared>, body: Bytes) -> Response {
    let create: FlowCreate = match json_body(&body, "could not be read as a flow") {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(problem) = super::state::name_problem(&create.name) {
        return error(400, "invalid.value", problem);
    }
    let mut s = lock(&shared);
    if s.org.flows.values().any(|r| {
        r.flow.flow_type == create.flow_type && r.flow.name.eq_ignore_ascii_case(&create.name)
    }) {
        return error(
            400,
            "general.bad.request",
            format!(
                "A flow named '{}' of type {} already exists",
                create.name, create.flow_type
            ),
        );
    }
    let division = match create.division.as_ref().and_then(|d| d.id.as_deref()) {
        Some(id) => match s.org.divisions.iter().find(|d| d.id == id) {
            Some(d) => d.clone(),
            None => return error(400, "invalid.value", format!("Division {id} was not found")),
        },
        None => match s.org.home() {
            Some(h) => h.clone(),
            None => return error(500, "internal.server.error", "The org has no home division"),
        },
    };
    let flow = s.org.create_flow(
        &create.name,
        create.description.clone(),
        create.flow_type,
        &division,
    );
    shared.save(&s);
    ok(&flow)
}

pub(super) async fn get_flow(AxState(shared): AxState<Shared>, Path(id): Path<String>) -> Response {
    let s = lock(&shared);
    // Optional read lag: a flow a job just made answers 404 for a while, as an eventually
    // consistent read after a write can (the Terraform provider retries such reads).
    let lagging = s
        .read_lag_from
        .get(&id)
        .is_some_and(|at| at.elapsed() < shared.config.read_lag);
    match s.org.flows.get(&id).filter(|_| !lagging) {
        Some(r) => ok(&r.flow),
        None => unknown("flow", &id),
    }
}

pub(super) async fn update_flow(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let update: FlowCreate = match json_body(&body, "could not be read as a flow") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut s = lock(&shared);
    let Some(record) = s.org.flows.get_mut(&id) else {
        return unknown("flow", &id);
    };
    if record.flow.flow_type != update.flow_type {
        return error(400, "invalid.value", "The flow type cannot be changed");
    }
    record.flow.name = update.name;
    record.flow.description = update.description;
    let flow = record.flow.clone();
    shared.save(&s);
    ok(&flow)
}

pub(super) async fn delete_flow(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
) -> Response {
    let mut s = lock(&shared);
    // Optional transient conflicts: the first DELETEs answer 409, as the real service can
    // while a flow is busy (the Terraform provider retries a 409 on delete for 30 s).
    if s.delete_conflicts > 0 && s.org.flows.contains_key(&id) {
        s.delete_conflicts -= 1;
        return error(
            409,
            "general.conflict",
            format!("The flow {id} is busy with another operation; try again"),
        );
    }
    let Some(record) = s.org.flows.get(&id) else {
        return unknown("flow", &id);
    };
    if record.flow.flow_type == FlowType::CommonModule {
        let users: Vec<String> = s
            .org
            .published_consumers(&id)
            .iter()
            .filter(|r| r.flow.id != id)
            .map(|r| format!("'{}'", r.flow.name))
            .collect();
        if !users.is_empty() {
            return error(
                409,
                "flow.in.use",
                format!(
                    "The common module '{}' cannot be deleted: it is used by {}",
                    record.flow.name,
                    users.join(", ")
                ),
            );
        }
    }
    if let Some(user) = &record.flow.locked_user {
        return error(
            409,
            "flow.locked",
            format!(
                "The flow is locked by {}",
                user.name.as_deref().unwrap_or("another user")
            ),
        );
    }
    s.org.flows.remove(&id);
    shared.save(&s);
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn flow_versions(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = lock(&shared);
    let Some(record) = s.org.flows.get(&id) else {
        return unknown("flow", &id);
    };
    let mut versions: Vec<FlowVersion> = record
        .versions
        .iter()
        .rev()
        .map(|v| v.version.clone())
        .collect();
    if shared.config.alternate_readings {
        // Oldest first, and an OAuth client's publish names no user.
        versions.reverse();
        let api = super::architect::emulator_user();
        for v in &mut versions {
            if v.created_by.as_ref() == Some(&api) {
                v.created_by = None;
            }
        }
    }
    listing(
        versions,
        &query(&raw),
        &format!("/api/v2/flows/{id}/versions"),
    )
}

pub(super) async fn latest_configuration(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
) -> Response {
    let s = lock(&shared);
    let Some(record) = s.org.flows.get(&id) else {
        return unknown("flow", &id);
    };
    let Some(latest) = record.versions.last() else {
        return error(
            404,
            "not.found",
            format!("Flow {id} has no saved configuration"),
        );
    };
    match yaml_serde::from_str::<serde_json::Value>(&latest.yaml) {
        Ok(v) => ok(&v),
        Err(_) => ok(&serde_json::json!({ "yaml": latest.yaml })),
    }
}

pub(super) async fn flow_action(
    AxState(shared): AxState<Shared>,
    Path(action): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(&raw);
    let Some(id) = param(&q, "flow").map(str::to_string) else {
        return error(400, "bad.request", "The flow query parameter is required");
    };
    let mut s = lock(&shared);
    let Some(record) = s.org.flows.get_mut(&id) else {
        return unknown("flow", &id);
    };
    let client = EntityRef {
        id: Some(shared.config.client_id.clone()),
        name: Some("OAuth client".into()),
        self_uri: None,
    };
    // Someone else's lock stops a checkout and a publish alike.
    if matches!(action.as_str(), "checkout" | "publish") {
        if let Some(user) = &record.flow.locked_user {
            return error(
                409,
                "flow.locked",
                format!(
                    "The flow is locked by another entity: {}",
                    user.name.as_deref().unwrap_or("?")
                ),
            );
        }
    }
    match action.as_str() {
        "checkout" => {
            record.flow.locked_client = Some(client);
        }
        "checkin" | "unlock" => {
            record.flow.locked_user = None;
            record.flow.locked_client = None;
        }
        "publish" => {
            if record.versions.is_empty() {
                return error(
                    400,
                    "bad.request",
                    "The flow has no configuration to publish",
                );
            }
            record.flow.published_version = record.versions.last().map(|v| v.version.clone());
        }
        "revert" | "deactivate" => {}
        other => return error(404, "not.found", format!("Unknown flow action '{other}'")),
    }
    let flow = record.flow.clone();
    shared.save(&s);
    ok(&flow)
}
