//! Wire models of the Genesys Cloud Platform API v2, shared by the client and the emulator.
//!
//! Field names and types follow the official SDK (`purecloudplatformclientv2`): note that
//! `FlowVersion.dateCreated` is epoch milliseconds while `datePublished` is an ISO-8601 string.
//! Every optional field is omitted when absent, as the real service does. Unknown fields are
//! ignored on input so newer server answers keep parsing.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;
use std::collections::BTreeMap;
use std::fmt;

/// A flow type as the API writes it in JSON (`COMMONMODULE`); lower case in query strings
/// and camelCase as the top-level key of Architect YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FlowType {
    Bot,
    BusinessProcess,
    CommonModule,
    DigitalBot,
    EmailSend,
    InboundCall,
    InboundChat,
    InboundEmail,
    InboundShortMessage,
    InQueueCall,
    InQueueEmail,
    InQueueShortMessage,
    OutboundCall,
    SecureCall,
    Speech,
    SurveyInvite,
    Voice,
    Voicemail,
    VoiceSurvey,
    Workflow,
    Workitem,
}

impl FlowType {
    pub(crate) const ALL: [FlowType; 21] = [
        FlowType::Bot,
        FlowType::BusinessProcess,
        FlowType::CommonModule,
        FlowType::DigitalBot,
        FlowType::EmailSend,
        FlowType::InboundCall,
        FlowType::InboundChat,
        FlowType::InboundEmail,
        FlowType::InboundShortMessage,
        FlowType::InQueueCall,
        FlowType::InQueueEmail,
        FlowType::InQueueShortMessage,
        FlowType::OutboundCall,
        FlowType::SecureCall,
        FlowType::Speech,
        FlowType::SurveyInvite,
        FlowType::Voice,
        FlowType::Voicemail,
        FlowType::VoiceSurvey,
        FlowType::Workflow,
        FlowType::Workitem,
    ];

    /// The JSON spelling: `COMMONMODULE`.
    pub(crate) fn as_wire(self) -> &'static str {
        match self {
            FlowType::Bot => "BOT",
            FlowType::BusinessProcess => "BUSINESSPROCESS",
            FlowType::CommonModule => "COMMONMODULE",
            FlowType::DigitalBot => "DIGITALBOT",
            FlowType::EmailSend => "EMAILSEND",
            FlowType::InboundCall => "INBOUNDCALL",
            FlowType::InboundChat => "INBOUNDCHAT",
            FlowType::InboundEmail => "INBOUNDEMAIL",
            FlowType::InboundShortMessage => "INBOUNDSHORTMESSAGE",
            FlowType::InQueueCall => "INQUEUECALL",
            FlowType::InQueueEmail => "INQUEUEEMAIL",
            FlowType::InQueueShortMessage => "INQUEUESHORTMESSAGE",
            FlowType::OutboundCall => "OUTBOUNDCALL",
            FlowType::SecureCall => "SECURECALL",
            FlowType::Speech => "SPEECH",
            FlowType::SurveyInvite => "SURVEYINVITE",
            FlowType::Voice => "VOICE",
            FlowType::Voicemail => "VOICEMAIL",
            FlowType::VoiceSurvey => "VOICESURVEY",
            FlowType::Workflow => "WORKFLOW",
            FlowType::Workitem => "WORKITEM",
        }
    }

    /// The query-string spelling: `commonmodule`.
    pub(crate) fn as_query(self) -> String {
        self.as_wire().to_ascii_lowercase()
    }

    /// The Architect YAML top-level key, as real exports spell it: `commonModule`,
    /// `inboundCall`, `inqueueCall` (lower-case q), `botFlow` (not `bot`), `digitalBot`.
    ///
    /// Only keys seen in real exports or in public code that writes Archy YAML are listed
    /// (see docs/genesys-api.md#architect-yaml); `None` means flowctl does not know how
    /// Architect spells this type's key (unverified), so it neither writes nor reads it.
    /// Architect reads keys case-sensitively, and so does flowctl.
    pub(crate) fn yaml_key(self) -> Option<&'static str> {
        Some(match self {
            FlowType::Bot => "botFlow",
            FlowType::CommonModule => "commonModule",
            // Public code that generates Archy YAML for digital bot flows writes
            // `digitalBot:` with `/digitalBot/bots/bot[...]` start references.
            FlowType::DigitalBot => "digitalBot",
            FlowType::InboundCall => "inboundCall",
            FlowType::InboundChat => "inboundChat",
            FlowType::InboundEmail => "inboundEmail",
            FlowType::InboundShortMessage => "inboundShortMessage",
            FlowType::InQueueCall => "inqueueCall",
            // The CX-as-Code provider's routing-queue tests publish `inqueueEmail:` and
            // `inqueueShortMessage:` flows (resource_genesyscloud_routing_queue_test.go).
            FlowType::InQueueEmail => "inqueueEmail",
            FlowType::InQueueShortMessage => "inqueueShortMessage",
            FlowType::OutboundCall => "outboundCall",
            FlowType::SecureCall => "secureCall",
            // Real exports: survey-sms-delivery-blueprint (surveyInvite) and
            // process-automation-workitem-blueprint (workitem).
            FlowType::SurveyInvite => "surveyInvite",
            FlowType::Workflow => "workflow",
            FlowType::Workitem => "workitem",
            FlowType::BusinessProcess
            | FlowType::EmailSend
            | FlowType::Speech
            | FlowType::Voice
            | FlowType::Voicemail
            | FlowType::VoiceSurvey => return None,
        })
    }

    /// The flow type whose Architect YAML key is exactly `key` (case-sensitive).
    pub(crate) fn from_yaml_key(key: &str) -> Option<FlowType> {
        FlowType::ALL
            .into_iter()
            .find(|t| t.yaml_key() == Some(key))
    }

    /// Every YAML key flowctl knows, for messages.
    pub(crate) fn yaml_keys() -> Vec<&'static str> {
        FlowType::ALL.iter().filter_map(|t| t.yaml_key()).collect()
    }

    /// Parses the wire or query spelling, ignoring case (`INBOUNDCALL`, `inboundcall`), for
    /// flags and manifests. Architect YAML keys go through [`FlowType::from_yaml_key`].
    pub(crate) fn parse_any(s: &str) -> Option<FlowType> {
        FlowType::ALL
            .into_iter()
            .find(|t| t.as_wire().eq_ignore_ascii_case(s))
    }

    /// The dependency-tracking object type, from the SDK's `Dependency.type` enum
    /// (`purecloudplatformclientv2` 269): `COMMONMODULE` → `COMMONMODULEFLOW`, `BOT` →
    /// `BOTFLOW`, `DIGITALBOT` → `DIGITALBOTFLOW`; `WORKFLOW` stays `WORKFLOW`. `SPEECH`
    /// has none (the enum has no `SPEECHFLOW`).
    pub(crate) fn object_type(self) -> Option<&'static str> {
        Some(match self {
            FlowType::Bot => "BOTFLOW",
            FlowType::BusinessProcess => "BUSINESSPROCESSFLOW",
            FlowType::CommonModule => "COMMONMODULEFLOW",
            FlowType::DigitalBot => "DIGITALBOTFLOW",
            FlowType::EmailSend => "EMAILSENDFLOW",
            FlowType::InboundCall => "INBOUNDCALLFLOW",
            FlowType::InboundChat => "INBOUNDCHATFLOW",
            FlowType::InboundEmail => "INBOUNDEMAILFLOW",
            FlowType::InboundShortMessage => "INBOUNDSHORTMESSAGEFLOW",
            FlowType::InQueueCall => "INQUEUECALLFLOW",
            FlowType::InQueueEmail => "INQUEUEEMAILFLOW",
            FlowType::InQueueShortMessage => "INQUEUESHORTMESSAGEFLOW",
            FlowType::OutboundCall => "OUTBOUNDCALLFLOW",
            FlowType::SecureCall => "SECURECALLFLOW",
            FlowType::SurveyInvite => "SURVEYINVITEFLOW",
            FlowType::Voice => "VOICEFLOW",
            FlowType::Voicemail => "VOICEMAILFLOW",
            FlowType::VoiceSurvey => "VOICESURVEYFLOW",
            FlowType::Workflow => "WORKFLOW",
            FlowType::Workitem => "WORKITEMFLOW",
            FlowType::Speech => return None,
        })
    }

    /// The flow type of a dependency-tracking object type (`BOTFLOW` → `BOT`).
    pub(crate) fn from_object_type(object_type: &str) -> Option<FlowType> {
        FlowType::ALL
            .into_iter()
            .find(|t| t.object_type() == Some(object_type))
    }
}

impl fmt::Display for FlowType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_wire())
    }
}

/// `{id, name, selfUri}`: DomainEntityRef, WritableDivision, User, AddressableEntityRef.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityRef {
    pub(crate) id: Option<String>,
    pub name: Option<String>,
    pub(crate) self_uri: Option<String>,
}

/// `Flow`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    pub division: Option<EntityRef>,
    pub(crate) locked_user: Option<EntityRef>,
    pub locked_client: Option<EntityRef>,
    pub(crate) active: Option<bool>,
    pub(crate) system: Option<bool>,
    pub(crate) deleted: Option<bool>,
    pub published_version: Option<FlowVersion>,
    pub(crate) saved_version: Option<FlowVersion>,
    pub(crate) checked_in_version: Option<FlowVersion>,
    pub(crate) published_by: Option<EntityRef>,
    pub(crate) current_operation: Option<serde_json::Value>,
    pub(crate) supported_languages: Option<Vec<serde_json::Value>>,
    pub(crate) compatible_flow_types: Option<Vec<String>>,
    pub(crate) self_uri: Option<String>,
}

/// `FlowVersion`. `id` is `"1.0"`, `"2.0"`, ...
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowVersion {
    pub id: String,
    pub(crate) name: Option<String>,
    pub(crate) commit_version: Option<String>,
    pub(crate) configuration_version: Option<String>,
    /// `PUBLISH`, `CHECKIN` or `SAVE`.
    #[serde(rename = "type")]
    pub(crate) version_type: Option<String>,
    pub(crate) secure: Option<bool>,
    pub(crate) debug: Option<bool>,
    pub(crate) created_by: Option<EntityRef>,
    pub(crate) created_by_client: Option<EntityRef>,
    /// Epoch milliseconds (an integer in the SDK model).
    pub date_created: Option<i64>,
    /// ISO-8601, e.g. `2026-11-25T04:23:18.123Z`.
    pub date_published: Option<String>,
    pub(crate) generation_id: Option<String>,
    pub(crate) self_uri: Option<String>,
}

/// Body of `POST /api/v2/flows` and `PUT /api/v2/flows/{id}`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FlowCreate {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    #[serde(rename = "type")]
    pub(crate) flow_type: FlowType,
    pub(crate) division: Option<EntityRef>,
}

/// The paged listing shape used by every list endpoint.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EntityListing<T> {
    #[serde(default = "Vec::new")]
    pub(crate) entities: Vec<T>,
    pub(crate) page_size: Option<u32>,
    pub(crate) page_number: Option<u32>,
    pub(crate) total: Option<u64>,
    pub(crate) page_count: Option<u32>,
    pub(crate) first_uri: Option<String>,
    pub(crate) next_uri: Option<String>,
    pub(crate) previous_uri: Option<String>,
    pub(crate) last_uri: Option<String>,
    pub(crate) self_uri: Option<String>,
}

/// `RegisterArchitectJobResponse`: answer of `POST /api/v2/flows/jobs`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRegistration {
    pub id: String,
    pub presigned_url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub self_uri: Option<String>,
}

/// `status` of an Architect job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    Registered,
    Started,
    Success,
    Failure,
    /// A status this version does not know: not finished (the SDKs read an unknown enum
    /// value as `OUTDATED_SDK_VERSION` rather than failing).
    #[serde(other)]
    Unknown,
}

impl JobStatus {
    pub(crate) fn is_finished(self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Failure)
    }
}

/// `ArchitectJobStateResponse`: answer of `GET /api/v2/flows/jobs/{id}?expand=messages`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchitectJob {
    pub(crate) id: String,
    pub status: JobStatus,
    /// `Publish`, `Create`, `Update`, `Export` or `Validate`.
    pub(crate) command: Option<String>,
    pub(crate) flow: Option<EntityRef>,
    #[serde(default)]
    pub messages: Vec<JobMessage>,
    pub(crate) self_uri: Option<String>,
}

/// `ArchitectJobMessage`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMessage {
    pub(crate) date_time: Option<String>,
    /// `Error`, `Warning` or `Unknown`.
    #[serde(rename = "type")]
    pub(crate) message_type: Option<String>,
    #[serde(default)]
    pub(crate) text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) details: Vec<serde_json::Value>,
}

/// `RegisterArchitectExportJob`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportJobRequest {
    pub flows: Vec<ExportDetails>,
}

/// `ExportDetails`: one flow to export.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportDetails {
    pub flow: FlowReference,
    /// Letters, digits, `_` and `-` only; Architect appends the extension.
    pub file_name: Option<String>,
    /// `Architect` or `Yaml` (the default).
    pub export_type: Option<String>,
}

/// `ArchitectFlowReference`: by id, or by name and type.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FlowReference {
    pub id: Option<String>,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub flow_type: Option<FlowType>,
    pub version: Option<String>,
}

/// `RegisterArchitectExportJobResponse`.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportJobRegistration {
    pub(crate) id: String,
    pub(crate) status: Option<JobStatus>,
    pub(crate) total_flows: Option<u32>,
    pub(crate) self_uri: Option<String>,
}

/// `ArchitectExportJobStateResponse`.
#[skip_serializing_none]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportJobState {
    pub(crate) id: String,
    pub(crate) status: JobStatus,
    pub(crate) command: Option<String>,
    pub(crate) download_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) messages: Vec<JobMessage>,
    pub(crate) self_uri: Option<String>,
}

/// `Dependency` / `DependencyObject`: one entity of a dependency-tracking answer.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    pub id: String,
    pub(crate) name: Option<String>,
    pub version: Option<String>,
    /// `COMMONMODULEFLOW`, `INBOUNDCALLFLOW`, `QUEUE`, ...
    #[serde(rename = "type")]
    pub(crate) object_type: Option<String>,
    pub(crate) deleted: Option<bool>,
    pub(crate) updated: Option<bool>,
    pub(crate) state_unknown: Option<bool>,
    pub(crate) self_uri: Option<String>,
}

/// `DependencyStatus`: answer of `GET /api/v2/architect/dependencytracking/build`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DependencyStatus {
    pub(crate) id: Option<String>,
    pub(crate) build_id: Option<String>,
    /// `OPERATIONAL`, `BUILDINPROGRESS`, `BUILDQUEUED`, `BUILDINITIALIZING`,
    /// `BUILDINCOMPLETE`, `NOTBUILT` or `OPERATIONALNEEDSREBUILD`.
    pub(crate) status: String,
    pub(crate) date_started: Option<String>,
    pub(crate) date_completed: Option<String>,
    pub(crate) self_uri: Option<String>,
}

impl DependencyStatus {
    /// Only `OPERATIONAL` means the index is complete.
    pub(crate) fn is_operational(&self) -> bool {
        self.status == "OPERATIONAL"
    }
}

/// `Queue` (the fields flowctl reads).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) division: Option<EntityRef>,
    pub(crate) description: Option<String>,
    pub(crate) member_count: Option<u32>,
    pub(crate) self_uri: Option<String>,
}

/// `AuthzDivision`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Division {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) home_division: Option<bool>,
    pub(crate) self_uri: Option<String>,
}

/// `Organization` (the fields flowctl reads).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub(crate) id: String,
    pub name: String,
    pub(crate) third_party_org_name: Option<String>,
    pub(crate) domain: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) self_uri: Option<String>,
}

/// `ErrorBody`: the body of every non-2xx answer under `/api/v2`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) status: u16,
    pub(crate) message_with_params: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) message_params: BTreeMap<String, String>,
    pub(crate) context_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) details: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) errors: Vec<serde_json::Value>,
    pub(crate) limit: Option<serde_json::Value>,
}

/// The OAuth token answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) token_type: String,
    pub(crate) expires_in: u64,
}

/// The OAuth error answer: `{"error":"invalid_client","error_description":"..."}`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct OAuthError {
    #[serde(default)]
    pub(crate) error: String,
    pub(crate) description: Option<String>,
    pub(crate) error_description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_type_spellings_round_trip() {
        for t in FlowType::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_wire()));
            if let Some(key) = t.yaml_key() {
                assert_eq!(FlowType::from_yaml_key(key), Some(t));
            }
            assert_eq!(FlowType::parse_any(&t.as_query()), Some(t));
            if let Some(o) = t.object_type() {
                assert_eq!(FlowType::from_object_type(o), Some(t));
            }
        }
        assert_eq!(
            FlowType::CommonModule.object_type(),
            Some("COMMONMODULEFLOW")
        );
        assert_eq!(FlowType::Workflow.object_type(), Some("WORKFLOW"));
        assert_eq!(FlowType::Bot.object_type(), Some("BOTFLOW"));
        assert_eq!(FlowType::Speech.object_type(), None);
        assert_eq!(FlowType::parse_any("CALL"), None);
    }

    #[test]
    fn yaml_keys_are_spelled_as_real_exports_and_read_case_sensitively() {
        assert_eq!(FlowType::InQueueCall.yaml_key(), Some("inqueueCall"));
        assert_eq!(FlowType::Bot.yaml_key(), Some("botFlow"));
        assert_eq!(
            FlowType::from_yaml_key("inqueueCall"),
            Some(FlowType::InQueueCall)
        );
        assert_eq!(FlowType::from_yaml_key("inQueueCall"), None);
        assert_eq!(FlowType::from_yaml_key("bot"), None);
        assert_eq!(FlowType::from_yaml_key("InboundCall"), None);
        assert_eq!(
            FlowType::from_yaml_key("inboundCall"),
            Some(FlowType::InboundCall)
        );
    }

    #[test]
    fn flow_version_dates_have_sdk_types() {
        let v: FlowVersion = serde_json::from_str(
            r#"{"id":"1.0","dateCreated":1764044598000,"datePublished":"2026-11-25T04:23:18.123Z","extra":1}"#,
        )
        .unwrap();
        assert_eq!(v.date_created, Some(1764044598000));
        assert_eq!(
            v.date_published.as_deref(),
            Some("2026-11-25T04:23:18.123Z")
        );
    }
}
