//! The Genesys Cloud Platform API client.
//!
//! Owner of the contract: every request goes through one function that attaches the token,
//! paces from the `inin-ratelimit-*` headers, retries what the official SDKs retry and maps
//! non-2xx answers to [`ApiError`]. Typed verbs live in the submodules.

mod error;

pub use error::{ApiError, ClientError};

use crate::config::Config;
use crate::models::*;
use std::time::Duration;

/// A cheap-to-clone handle: clones share one token, one pacer and one connection pool.
#[derive(Clone)]
pub struct Client {}

pub type ClientResult<T> = Result<T, ClientError>;

#[allow(unused_variables)]
impl Client {
    /// Builds a client; does not contact the network.
    pub fn new(config: &Config) -> ClientResult<Client> {
        todo!()
    }
    /// Fetches (or loads from the cache) a token now, so auth errors surface first.
    pub async fn authenticate(&self) -> ClientResult<()> {
        todo!()
    }

    // flows
    /// `GET /api/v2/flows/{id}`; `None` for 404/410.
    pub async fn get_flow(&self, id: &str) -> ClientResult<Option<Flow>> {
        todo!()
    }
    /// Every flow of this type whose name equals `name` exactly, reading every page.
    pub async fn find_flows_by_name(
        &self,
        name: &str,
        flow_type: FlowType,
    ) -> ClientResult<Vec<Flow>> {
        todo!()
    }
    /// Every flow of these types (all pages).
    pub async fn list_flows(&self, types: &[FlowType]) -> ClientResult<Vec<Flow>> {
        todo!()
    }
    /// `POST /api/v2/flows`. After an ambiguous failure it looks the flow up by name and
    /// type instead of posting again, so a retry never makes a duplicate.
    pub async fn create_flow(&self, body: &FlowCreate) -> ClientResult<Flow> {
        todo!()
    }
    /// `PUT /api/v2/flows/{id}`.
    pub async fn update_flow(&self, id: &str, body: &FlowCreate) -> ClientResult<Flow> {
        todo!()
    }
    /// `DELETE /api/v2/flows/{id}`; 404/410 count as done.
    pub async fn delete_flow(&self, id: &str) -> ClientResult<()> {
        todo!()
    }
    /// `GET /api/v2/flows/{id}/versions` (all pages).
    pub async fn flow_versions(&self, id: &str) -> ClientResult<Vec<FlowVersion>> {
        todo!()
    }

    // Architect jobs
    /// `POST /api/v2/flows/jobs`.
    pub async fn register_job(&self) -> ClientResult<JobRegistration> {
        todo!()
    }
    /// `PUT presignedUrl` with exactly the returned headers and no Authorization.
    pub async fn upload_job_content(&self, job: &JobRegistration, yaml: &str) -> ClientResult<()> {
        todo!()
    }
    /// `GET /api/v2/flows/jobs/{id}?expand=messages`.
    pub async fn get_job(&self, id: &str) -> ClientResult<ArchitectJob> {
        todo!()
    }
    /// Polls fast first and backs off until the job is Success or Failure (returned as is),
    /// or `timeout` passes (`ClientError::Timeout`).
    pub async fn wait_for_job(&self, id: &str, timeout: Duration) -> ClientResult<ArchitectJob> {
        todo!()
    }
    /// register → upload → wait. Returns the finished job, Success or Failure.
    pub async fn run_job(&self, yaml: &str, timeout: Duration) -> ClientResult<ArchitectJob> {
        todo!()
    }

    // queues, divisions, org
    /// `GET /api/v2/routing/queues/{id}`; `None` for 404.
    pub async fn get_queue(&self, id: &str) -> ClientResult<Option<Queue>> {
        todo!()
    }
    /// Queues whose name contains `name` (case-insensitive, as the API filters), all pages.
    /// Callers filter for exact names themselves.
    pub async fn search_queues(&self, name: &str) -> ClientResult<Vec<Queue>> {
        todo!()
    }
    /// Every queue (all pages), for suggestions.
    pub async fn list_queues(&self) -> ClientResult<Vec<Queue>> {
        todo!()
    }
    /// The division with exactly this name, if any.
    pub async fn find_division(&self, name: &str) -> ClientResult<Option<Division>> {
        todo!()
    }
    /// `GET /api/v2/organizations/me`.
    pub async fn organization(&self) -> ClientResult<Organization> {
        todo!()
    }

    // dependency tracking
    /// `consumedresources?id=&version=&objectType=&resourceType=...` (all pages).
    pub async fn consumed_resources(
        &self,
        id: &str,
        version: &str,
        object_type: &str,
        resource_types: &[&str],
    ) -> ClientResult<Vec<Dependency>> {
        todo!()
    }
    /// `consumingresources?id=&objectType=&flowFilter=` (all pages).
    pub async fn consuming_resources(
        &self,
        id: &str,
        object_type: &str,
        flow_filter: Option<&str>,
    ) -> ClientResult<Vec<Dependency>> {
        todo!()
    }
    /// `GET /api/v2/architect/dependencytracking/build`.
    pub async fn dependency_build_status(&self) -> ClientResult<DependencyStatus> {
        todo!()
    }
}
