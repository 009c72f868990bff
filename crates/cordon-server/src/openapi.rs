//! The OpenAPI document as served: what utoipa generates from the `#[utoipa::path]`
//! annotations, completed here with the responses that every route shares, so that no route
//! has to repeat them and a new route gets them without any work:
//!
//! - every error response is `application/problem+json` (a [`Problem`](crate::Problem));
//! - every operation documents what the edge may answer before or around its handler: 400
//!   (malformed head, path or query), 414 and 431 (request target or headers too long), 500,
//!   and 503 when the request timeout applies to it;
//! - an authenticated operation documents 401, one with path parameters 404 (also what a
//!   caller who may not see an incident gets), one with a request body 408 and 413, and one
//!   with a JSON body 415 and 422.
//!
//! - an `{id}` that takes a handle ([`HANDLE_PARAMS`]: a name or a unique id prefix, resolved
//!   by `cordon_service::handles`) says what it takes, and its operation documents 409
//!   `ambiguous` (the handle names several items; the problem lists them as `candidates`).
//!
//! The shared responses are defined once, under `components.responses`, and referenced.

use serde_json::{Map, Value, json};

use crate::edge::UNTIMED_ROUTES;

/// What `cordon_core::text` refuses, as the inside of a regular-expression character class.
macro_rules! forbidden {
    () => {
        "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff"
    };
}
/// One line of text: no control, bidirectional or invisible formatting character
/// (`cordon_core::text::is_forbidden`, which a unit test holds this to).
const NO_CONTROLS: &str = concat!("^[^", forbidden!(), "]*$");
/// One line of text that is not blank.
const PLAIN_TEXT: &str = concat!("^[^", forbidden!(), "]*[^\\s", forbidden!(), "][^", forbidden!(), "]*$");
/// Text over several lines: as [`NO_CONTROLS`], with line feeds, tabs and CR LF.
const MULTILINE: &str = concat!("^(?:[^", forbidden!(), "]|[\\n\\t]|\\r\\n)*$");

const PROBLEM_JSON: &str = "application/problem+json";

/// The `{id}` path parameters that take a handle, by path prefix, with what they take.
pub(crate) const HANDLE_PARAMS: &[(&str, &str)] = &[
    (
        "/api/v1/incidents/{ref}/evidence/{id}",
        "The evidence item: its name (e.g. the file name), a unique prefix of its id (4 or more hex digits) or its id.",
    ),
    (
        "/api/v1/incidents/{ref}/clocks/{id}",
        "The clock: its regime (`gdpr`) when the incident has one clock of it, else `regime:jurisdiction` (`gdpr:eu`), a unique prefix of its id (4 or more hex digits) or its id.",
    ),
    (
        "/api/v1/incidents/{ref}/communications/{id}",
        "The communication: its title when no other has it, a unique prefix of its id (4 or more hex digits) or its id.",
    ),
    (
        "/api/v1/incidents/{ref}/assets/{id}",
        "The asset: its name, a unique prefix of its id (4 or more hex digits) or its id.",
    ),
    (
        "/api/v1/incidents/{ref}/credentials/{id}",
        "The credential: its name, a unique prefix of its id (4 or more hex digits) or its id.",
    ),
    (
        "/api/v1/incidents/{ref}/tasks/{id}",
        "The task: a checklist step's number (`9`), `STEP.N` for the N-th follow-up task under a step (`9.1`), a unique prefix of its id (4 or more hex digits) or its id.",
    ),
    (
        "/api/v1/incidents/{ref}/follow-ups/{id}",
        "The follow-up task: `STEP.N` (`9.1`), a unique prefix of its id (4 or more hex digits) or its id.",
    ),
    (
        "/api/v1/users/{name}/tokens/{id}",
        "The token: its label when no other token of the user has it, a unique prefix of its id (4 or more hex digits) or its id.",
    ),
    (
        "/api/v1/users/{name}/chat-identities/{id}",
        "The linked chat account: its account id (`U024BE7LH`, `@olivia:corp.example`), a unique prefix of the link's id (4 or more hex digits) or the link's id.",
    ),
    (
        "/api/v1/pages/{id}",
        "The page: a unique prefix of its id (4 or more hex digits) among the pages the caller may see, or its id.",
    ),
];

/// What a page handle may be: 4 to 32 hex digits, each perhaps followed by one hyphen (a full
/// id, or a prefix of one), with blanks around.
pub(crate) const PAGE_HANDLE_PATTERN: &str = "^\\s*(?:[0-9A-Fa-f]-?){4,32}\\s*$";

/// The handle parameter description of `path`, if its `{id}` takes a handle.
fn handle_param(path: &str) -> Option<&'static str> {
    HANDLE_PARAMS
        .iter()
        .find(|(prefix, _)| path == *prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/')))
        .map(|(_, description)| *description)
}

/// The responses every route may share: (component name, status, description).
const SHARED: &[(&str, &str, &str)] = &[
    (
        "BadRequest",
        "400",
        "`bad_request`, `malformed_json`, `invalid_path`, `invalid_query`: the request could not be read",
    ),
    ("Unauthenticated", "401", "`unauthenticated`: no valid bearer token"),
    (
        "NotFound",
        "404",
        "`not_found`: no such resource, or one the caller may not see",
    ),
    (
        "RequestTimeout",
        "408",
        "`request_timeout`: the request body stopped arriving; nothing was kept",
    ),
    (
        "PayloadTooLarge",
        "413",
        "`body_too_large`: the request body is too large",
    ),
    ("UriTooLong", "414", "`uri_too_long`: the request target is too long"),
    (
        "Ambiguous",
        "409",
        "`ambiguous`: the handle in the path names more than one item (listed in `candidates`); give more of the id",
    ),
    (
        "UnsupportedMediaType",
        "415",
        "`unsupported_media_type`: the body must be `application/json`",
    ),
    (
        "Unprocessable",
        "422",
        "`invalid_body`, or `invalid_field` naming the `field`: the request is well-formed but not acceptable",
    ),
    (
        "HeadersTooLarge",
        "431",
        "`headers_too_large`: the request headers are too large",
    ),
    (
        "Internal",
        "500",
        "`internal`: see the server log; nothing internal is said here",
    ),
    (
        "Unavailable",
        "503",
        "`unavailable`: the request took longer than the request timeout and was stopped",
    ),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options", "trace"];

fn problem_content() -> Value {
    json!({ PROBLEM_JSON: { "schema": { "$ref": "#/components/schemas/Problem" } } })
}

/// Completes a generated document (see the module documentation).
pub(crate) fn complete(mut doc: Value) -> Value {
    if let Err(e) = apply_rules(&mut doc) {
        // Caught by the unit test below; a served document is never withheld for it.
        tracing::error!(error = %e, "an OpenAPI field rule names nothing");
    }
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(Value::Object(components)) = components {
        let responses = components.entry("responses").or_insert_with(|| json!({}));
        if let Value::Object(responses) = responses {
            for (name, _, description) in SHARED {
                responses.insert(
                    (*name).to_owned(),
                    json!({ "description": description, "content": problem_content() }),
                );
            }
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let Value::Object(item) = item else { continue };
            for method in METHODS {
                if let Some(Value::Object(op)) = item.get_mut(*method) {
                    complete_operation(path, method, op);
                }
            }
        }
    }
    doc
}

fn complete_operation(path: &str, method: &str, op: &mut Map<String, Value>) {
    let authenticated = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(|r| !r.is_empty())));
    let body_types: Vec<String> = op
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    let has_body = op.contains_key("requestBody");
    let json_body = body_types.iter().any(|t| t == "application/json");
    let timed = !UNTIMED_ROUTES
        .iter()
        .any(|(m, p)| m.eq_ignore_ascii_case(method) && *p == path);

    let mut wanted = vec!["BadRequest", "UriTooLong", "HeadersTooLarge", "Internal"];
    if timed {
        wanted.push("Unavailable");
    }
    if authenticated {
        wanted.push("Unauthenticated");
    }
    if path.contains('{') {
        wanted.push("NotFound");
    }
    if has_body {
        wanted.extend(["RequestTimeout", "PayloadTooLarge"]);
    }
    let has_query = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    // Query and path values are checked by the service (`invalid_field`).
    if has_query || json_body || path.contains('{') {
        wanted.push("Unprocessable");
    }
    if json_body {
        wanted.push("UnsupportedMediaType");
    }
    if let Some(description) = handle_param(path) {
        wanted.push("Ambiguous");
        let id_param = op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .and_then(|ps| ps.iter_mut().find(|p| p["in"] == "path" && p["name"] == "id"));
        if let Some(Value::Object(param)) = id_param {
            param.insert("description".into(), Value::from(description));
        }
    }

    let responses = op.entry("responses").or_insert_with(|| json!({}));
    let Value::Object(responses) = responses else { return };
    // Error responses the annotations name are problem documents.
    for (status, response) in responses.iter_mut() {
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        let Value::Object(response) = response else { continue };
        if response.contains_key("$ref") {
            continue;
        }
        response.insert("content".into(), problem_content());
    }
    for name in wanted {
        let Some((_, status, _)) = SHARED.iter().find(|(n, _, _)| *n == name) else {
            continue;
        };
        responses
            .entry((*status).to_owned())
            .or_insert_with(|| json!({ "$ref": format!("#/components/responses/{name}") }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_text_patterns_refuse_exactly_what_the_service_refuses() {
        let one = regex::Regex::new(concat!("^[", forbidden!(), "]$")).unwrap();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let mut buf = [0u8; 4];
            assert_eq!(
                one.is_match(c.encode_utf8(&mut buf)),
                cordon_core::text::is_forbidden(c),
                "U+{:04X}",
                u32::from(c)
            );
        }
        let multiline = regex::Regex::new(MULTILINE).unwrap();
        for (text, ok) in [
            ("a\nb\tc\r\nd", true),
            ("a\rb", false),
            ("a\u{202E}b", false),
            ("", true),
        ] {
            assert_eq!(multiline.is_match(text), ok, "{text:?}");
            assert_eq!(cordon_core::text::multiline_refusal(text).is_none(), ok, "{text:?}");
        }
        let plain = regex::Regex::new(PLAIN_TEXT).unwrap();
        assert!(plain.is_match("Sapphire") && !plain.is_match("  ") && !plain.is_match("a\u{0}b"));
    }

    #[test]
    fn every_field_rule_names_a_field_of_the_document() {
        let mut doc = serde_json::to_value(crate::routes::generated_openapi()).unwrap();
        apply_rules(&mut doc).unwrap();
        assert_eq!(
            doc["components"]["schemas"]["AddMember"]["properties"]["role"]["enum"][0],
            "incident_commander"
        );
    }

    #[test]
    fn every_operation_gets_the_shared_responses_it_can_meet() {
        let doc = json!({
            "paths": {
                "/api/v1/incidents/{ref}": {
                    "patch": {
                        "security": [{ "bearer": [] }],
                        "requestBody": { "content": { "application/json": {} } },
                        "responses": {
                            "200": { "description": "ok" },
                            "409": { "description": "conflict", "content": { "application/json": {} } }
                        }
                    }
                },
                "/healthz": { "get": { "responses": { "200": { "description": "ok" } } } }
            }
        });
        let doc = complete(doc);
        let patch = &doc["paths"]["/api/v1/incidents/{ref}"]["patch"]["responses"];
        for status in [
            "400", "401", "404", "408", "413", "414", "415", "422", "431", "500", "503",
        ] {
            assert!(patch.get(status).is_some(), "{status}: {patch}");
        }
        assert!(patch["409"]["content"][PROBLEM_JSON].is_object(), "{patch}");
        assert!(patch["409"]["content"].get("application/json").is_none());
        let health = &doc["paths"]["/healthz"]["get"]["responses"];
        assert!(health.get("401").is_none() && health.get("404").is_none(), "{health}");
        assert!(doc["components"]["responses"]["NotFound"]["content"][PROBLEM_JSON].is_object());
    }
}

// ---------- the rules of request fields ----------

/// Where a rule applies: a property of a component schema (`"groups[]"` for the items of an
/// array property), or a parameter of an operation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    Property(&'static str, &'static str),
    /// A whole component schema.
    Schema(&'static str),
    /// A parameter's schema; a rule `{"required": true}` marks the parameter itself.
    Param(&'static str, &'static str, &'static str),
    /// The JSON request body of an operation: the rule is its whole schema.
    Body(&'static str, &'static str),
}

/// User and group names (`cordon_core::user::validate_name`).
const NAME_PATTERN: &str = "^[a-z0-9][a-z0-9._-]{0,63}$";
/// Text that is not blank (the service trims it).
const NOT_BLANK: &str = "\\S";

/// The timeline reads and their filters (`routes_timeline::filter_query!`).
const TIMELINE_READS: [&str; 4] = [
    "/api/v1/incidents/{ref}/timeline",
    "/api/v1/incidents/{ref}/timeline/export",
    "/api/v1/incidents/{ref}/timeline/facets",
    "/api/v1/incidents/{ref}/timeline/histogram",
];

/// A chat account as its kind writes it (`cordon_core::identity::ChatIdentity::parse`): a Slack
/// user id (`U024BE7LH`) or a Matrix user id (`@alice:example.org`); surrounding blanks are
/// trimmed.
fn chat_account() -> Value {
    let max = cordon_core::identity::MAX_CHAT_ID_BYTES;
    json!({ "oneOf": [
        { "properties": { "kind": { "const": "slack" },
                          "id": { "pattern": "^\\s*[UWuw][A-Za-z0-9]{1,63}\\s*$" } } },
        { "properties": { "kind": { "const": "matrix" },
                          "id": { "pattern": "^\\s*@[!-9;-~]+:[!-~]+\\s*$", "maxLength": max } } }
    ] })
}

/// One line, perhaps blank, of at most `max` characters.
fn line_of(max: usize) -> Value {
    json!({ "pattern": NO_CONTROLS, "maxLength": max })
}

/// Text over several lines of at most `max` characters.
fn multiline(max: usize) -> Value {
    json!({ "pattern": MULTILINE, "maxLength": max })
}

fn plain(max: usize) -> Value {
    json!({ "pattern": PLAIN_TEXT, "maxLength": max })
}

fn schedule_schema() -> Value {
    let names = json!({ "type": "array", "items": { "type": "string", "pattern": NAME_PATTERN } });
    json!({
        "type": "object",
        "description": "An on-call schedule: layers of rotations, each with its users, shift length (ISO 8601, e.g. `P7D`) and first hand-off (RFC 3339), in an IANA time zone.",
        "additionalProperties": false,
        "required": ["name", "time_zone", "rotations"],
        "properties": {
            "name": { "type": "string", "pattern": NAME_PATTERN },
            "time_zone": { "type": "string", "examples": ["Europe/Berlin"] },
            "rotations": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["users", "shift", "handoff"],
                    "properties": {
                        "users": names,
                        "shift": { "type": "string", "examples": ["P7D"] },
                        "handoff": { "type": "string", "format": "date-time" },
                        "restrictions": { "type": "array", "items": { "type": "object" } },
                        "start": { "type": "string", "format": "date-time" },
                        "end": { "type": "string", "format": "date-time" }
                    }
                }
            },
            "overrides": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["user", "start", "end"],
                    "properties": {
                        "user": { "type": "string", "pattern": NAME_PATTERN },
                        "start": { "type": "string", "format": "date-time" },
                        "end": { "type": "string", "format": "date-time" }
                    }
                }
            }
        }
    })
}

fn policy_schema() -> Value {
    json!({
        "type": "object",
        "description": "An escalation policy: levels of targets (a schedule's on-call person or a user), each with how long it has to acknowledge (ISO 8601, e.g. `PT5M`); `repeat` extra loops, 0–9. The policy named `incident-commander` is the one `!ic page` uses.",
        "additionalProperties": false,
        "required": ["name", "levels"],
        "properties": {
            "name": { "type": "string", "pattern": NAME_PATTERN },
            "repeat": { "type": "integer", "minimum": 0, "maximum": 9 },
            "levels": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["targets", "after"],
                    "properties": {
                        "targets": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "oneOf": [
                                    { "type": "object", "additionalProperties": false, "required": ["schedule"],
                                      "properties": { "schedule": { "type": "string", "pattern": NAME_PATTERN } } },
                                    { "type": "object", "additionalProperties": false, "required": ["user"],
                                      "properties": { "user": { "type": "string", "pattern": NAME_PATTERN } } }
                                ]
                            }
                        },
                        "after": { "type": "string", "examples": ["PT5M"] }
                    }
                }
            }
        }
    })
}

fn one_of<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> Value {
    json!({ "enum": values.into_iter().map(|v| Value::from(v.as_ref())).collect::<Vec<_>>() })
}

/// The canonical spellings of one of the domain's named lists (the service also reads `-` for
/// `_` and any case: `cordon_core::names`).
fn names<T: cordon_core::names::Named>() -> Value {
    one_of(T::names())
}

fn roles() -> Value {
    one_of(cordon_core::role::Role::ALL.iter().map(|r| r.as_str()))
}

/// The rules the service applies to request fields, in the schema so that schema-valid input
/// is accepted and schema-invalid input refused. The values of enumerations come from the
/// domain's own lists.
pub(crate) fn rules() -> Vec<(Target, Value)> {
    use Target::{Body, Param, Property, Schema};
    use cordon_core::register::{AssetKind, AssetState, Classification, CredentialKind};
    let name = json!({ "pattern": NAME_PATTERN });
    let title = plain(cordon_core::incident::MAX_TITLE_CHARS);
    let description = json!({ "pattern": MULTILINE, "maxLength": cordon_core::incident::MAX_DESCRIPTION_CHARS });
    let line = json!({ "pattern": NO_CONTROLS });
    let chat_kinds = one_of(["slack", "matrix"]);
    let asset_states = one_of(AssetState::ALL.iter().map(|s| s.as_str()));
    let task_states = one_of(cordon_core::task::TaskStatus::ALL.iter().map(|s| s.as_str()));
    vec![
        // users
        (Property("CreateUser", "name"), name.clone()),
        (
            Property("CreateUser", "email"),
            json!({ "pattern": "^[^@\\s]+@[^@\\s.][^@\\s]*\\.[^@\\s]*[^@\\s.]$", "maxLength": 254 }),
        ),
        (
            Property("CreateUser", "pgp_key"),
            json!({ "pattern": "^-----BEGIN PGP PUBLIC KEY BLOCK-----[\\s\\S]*-----END PGP PUBLIC KEY BLOCK-----$" }),
        ),
        (Property("CreateUser", "groups[]"), name.clone()),
        // incidents
        (Property("DeclareIncident", "kind"), names::<cordon_core::incident::IncidentKind>()),
        (Property("DeclareIncident", "severity"), names::<cordon_core::incident::Severity>()),
        (Property("PatchIncident", "status"), names::<cordon_core::incident::Status>()),
        (Property("PatchIncident", "severity"), names::<cordon_core::incident::Severity>()),
        (Property("PatchTask", "status"), names::<cordon_core::task::TaskStatus>()),
        (Property("DeclareIncident", "title"), title.clone()),
        (Property("DeclareIncident", "description"), description.clone()),
        // Blank: no war room.
        (Property("DeclareIncident", "room"), json!({ "pattern": NO_CONTROLS, "maxLength": 255 })),
        (Property("PatchIncident", "title"), title),
        (Property("PatchIncident", "description"), description),
        (Property("RecordDecision", "note"), multiline(5000)),
        (Property("PatchTask", "override_reason"), multiline(2000)),
        // tokens and chat identities
        (Property("CreateToken", "label"), json!({ "pattern": NO_CONTROLS, "maxLength": 100 })),
        (
            Property("CreateToken", "expires_in"),
            json!({ "pattern": "^P(?=\\d|T\\d)(?:\\d{1,6}Y)?(?:\\d{1,6}M)?(?:\\d{1,6}W)?(?:\\d{1,6}D)?(?:T(?=\\d)(?:\\d{1,6}H)?(?:\\d{1,6}M)?(?:\\d{1,6}S)?)?$" }),
        ),
        (Property("RequestLinkCode", "kind"), chat_kinds.clone()),
        (Schema("RequestLinkCode"), chat_account()),
        (Property("LinkChatIdentity", "kind"), chat_kinds),
        (Schema("LinkChatIdentity"), chat_account()),
        // chat
        (Property("ChatCommandIn", "room"), plain(255)),
        (Param("/api/v1/chat/rooms/{room}", "put", "room"), plain(255)),
        (Param("/api/v1/chat/rooms/{room}", "get", "room"), plain(255)),
        // communications: titles one line, bodies several
        (Property("CreateCommunication", "title"), line_of(300)),
        (Property("CreateCommunication", "body"), multiline(100_000)),
        (Property("PatchCommunication", "title"), line_of(300)),
        (Property("PatchCommunication", "body"), multiline(100_000)),
        (Property("CommunicationAction", "override_reason"), multiline(2000)),
        (Property("AddContactLog", "name"), plain(300)),
        (Property("AddContactLog", "reference"), multiline(4000)),
        (Property("AddContactLog", "outcome"), multiline(4000)),
        (Property("AddContact", "address"), line),
        (Property("AddMember", "user"), name.clone()),
        (Property("AddMember", "role"), roles()),
        (
            Param("/api/v1/incidents/{ref}/members/{user}/{role}", "delete", "user"),
            name.clone(),
        ),
        (
            Param("/api/v1/incidents/{ref}/members/{user}/{role}", "delete", "role"),
            roles(),
        ),
        (Property("PatchTask", "assignee"), name.clone()),
        // audit
        (
            Param("/api/v1/audit", "get", "limit"),
            json!({ "minimum": 1, "maximum": 10_000 }),
        ),
        (Param("/api/v1/audit", "get", "after"), json!({ "minimum": 0 })),
        (
            Param("/api/v1/audit", "get", "since"),
            json!({ "anyOf": [{ "format": "date-time" }, { "pattern": "^\\s*$" }] }),
        ),
        (
            Param("/api/v1/audit", "get", "until"),
            json!({ "anyOf": [{ "format": "date-time" }, { "pattern": "^\\s*$" }] }),
        ),
        // registers
        (
            Property("AssetIn", "kind"),
            one_of(AssetKind::ALL.iter().map(|k| k.as_str())),
        ),
        (Property("AssetIn", "state"), asset_states.clone()),
        (Property("AssetPatch", "state"), asset_states),
        (
            Property("CredentialIn", "kind"),
            one_of(CredentialKind::ALL.iter().map(|k| k.as_str())),
        ),
        (Property("CredentialPatch", "state"), one_of(["rotated", "revoked"])),
        (
            Param("/api/v1/incidents/{ref}/credentials", "get", "state"),
            // Blank: every state.
            one_of(
                cordon_core::register::CredentialState::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .chain(["unrotated", ""]),
            ),
        ),
        (
            Property("ExposureIn", "classification"),
            one_of(Classification::ALL.iter().map(|c| c.as_str())),
        ),
        (
            Property("IocIn", "kind"),
            one_of(cordon_ioc::IndicatorKind::ALL.iter().map(|k| k.as_str())),
        ),
        (
            Property("PromoteIn", "kind"),
            one_of(cordon_ioc::IndicatorKind::ALL.iter().map(|k| k.as_str())),
        ),
        (
            Param("/api/v1/incidents/{ref}/iocs/export", "get", "format"),
            one_of(cordon_ioc::ExportFormat::ALL.iter().map(|f| f.as_str())),
        ),
        (Property("FollowUpPatch", "status"), task_states),
        (Property("FollowUpPatch", "assignee"), name.clone()),
        // communications and deadlines
        (
            Property("CreateCommunication", "audience"),
            one_of(cordon_core::comms::Audience::ALL.iter().map(|a| a.as_str())),
        ),
        (
            Property("PutTemplate", "audience"),
            one_of(cordon_core::comms::Audience::ALL.iter().map(|a| a.as_str())),
        ),
        (
            Property("AddContactLog", "party"),
            one_of(cordon_core::comms::Party::ALL.iter().map(|p| p.as_str())),
        ),
        (
            Property("StartClockBody", "regime"),
            one_of(cordon_core::regulatory::Regime::ALL.iter().map(|r| r.as_str())),
        ),
        (
            Property("StartClockBody", "jurisdiction"),
            one_of(
                cordon_core::regulatory::calendar::Jurisdiction::ALL
                    .iter()
                    .map(|j| j.as_str()),
            ),
        ),
        (
            Param("/api/v1/incidents/{ref}/report", "get", "format"),
            one_of(["md", "html", "pdf"]),
        ),
        (
            Param("/api/v1/incidents/{ref}/report", "get", "tz"),
            one_of(cordon_service::report::ReportZone::names()),
        ),
        // evidence
        (
            Param("/api/v1/incidents/{ref}/evidence/{id}/custody", "get", "format"),
            one_of(["md", "markdown", "pdf", "json"]),
        ),
        (
            Param("/api/v1/incidents/{ref}/evidence/{id}/custody", "get", "tz"),
            one_of(cordon_service::report::ReportZone::names()),
        ),
        (
            Param("/api/v1/incidents/{ref}/evidence/{id}/content", "get", "export_to"),
            json!({ "pattern": PLAIN_TEXT }),
        ),
        (
            Param("/api/v1/incidents/{ref}/evidence/{id}/content", "get", "reason"),
            json!({ "pattern": NO_CONTROLS }),
        ),
        // paging
        (
            Property("AddContact", "kind"),
            one_of(["email", "webhook", "sms", "matrix", "slack_user", "matrix_user"]),
        ),
        (Property("TriggerPage", "user"), name.clone()),
        (
            Property("TriggerPage", "reason"),
            line_of(cordon_service::paging::MAX_REASON_CHARS),
        ),
        (
            Param("/api/v1/pages", "get", "status"),
            // Blank: every status.
            one_of(["triggered", "acknowledged", "resolved", ""]),
        ),
        (
            Schema("TriggerPage"),
            json!({ "not": { "required": ["policy", "user"] } }),
        ),
        (Body("/api/v1/oncall/schedules", "post"), schedule_schema()),
        (Body("/api/v1/oncall/escalation-policies", "post"), policy_schema()),
        (
            Body("/api/v1/users/{name}/tokens", "post"),
            json!({ "$ref": "#/components/schemas/CreateToken" }),
        ),
        // registers: names and free text without control characters
        (Property("AssetIn", "name"), plain(255)),
        (Property("AssetIn", "address"), json!({ "pattern": NO_CONTROLS })),
        (Property("AssetIn", "note"), json!({ "pattern": NO_CONTROLS })),
        (Property("AssetPatch", "note"), json!({ "pattern": NO_CONTROLS })),
        (Property("SystemIn", "name"), plain(255)),
        (Property("SystemIn", "owner"), name.clone()),
        (Property("SystemIn", "assets[]"), plain(255)),
        (Property("CredentialIn", "name"), plain(255)),
        (Property("CredentialIn", "stored_on[]"), plain(255)),
        (Property("CredentialIn", "grants[]"), plain(255)),
        (Property("ExposureIn", "data"), json!({ "pattern": PLAIN_TEXT })),
        (Property("ExposureIn", "customers[]"), plain(255)),
        (Property("IocIn", "value"), json!({ "pattern": NOT_BLANK })),
        (Property("IocIn", "note"), json!({ "pattern": NO_CONTROLS })),
        (Property("PromoteIn", "value"), json!({ "pattern": NOT_BLANK })),
        (Property("TransferIn", "to"), json!({ "pattern": PLAIN_TEXT })),
        (
            Param("/api/v1/incidents/{ref}/evidence", "post", "name"),
            json!({ "required": true, "pattern": PLAIN_TEXT }),
        ),
        (
            Param("/api/v1/incidents/{ref}/timeline/sources", "post", "name"),
            json!({ "pattern": NO_CONTROLS }),
        ),
        (
            Param("/api/v1/incidents/{ref}/timeline/sources", "post", "host"),
            json!({ "pattern": NO_CONTROLS }),
        ),
    ]
    .into_iter()
    .chain(timeline_rules())
    .collect()
}

/// The filters every timeline read takes: an event kind, instants, an address, a source (a
/// name, an id prefix or an id; search text is anything). A blank filter is no filter.
fn timeline_rules() -> Vec<(Target, Value)> {
    let kinds = one_of([
        "",
        "authentication",
        "ssh",
        "http",
        "datastore",
        "api",
        "process",
        "file",
        "other",
    ]);
    let or_blank = |format: Value| json!({ "anyOf": [format, { "pattern": "^\\s*$" }] });
    let mut out = vec![
        (
            Target::Param("/api/v1/incidents/{ref}/timeline", "get", "limit"),
            json!({ "minimum": 1, "maximum": 10_000 }),
        ),
        (
            Target::Param("/api/v1/incidents/{ref}/timeline/facets", "get", "top"),
            json!({ "minimum": 1, "maximum": 1000 }),
        ),
        (
            Target::Param("/api/v1/incidents/{ref}/timeline/histogram", "get", "buckets"),
            json!({ "minimum": 1, "maximum": 10_000 }),
        ),
        (
            Target::Param("/api/v1/incidents/{ref}/timeline/export", "get", "format"),
            one_of(["", "jsonl", "timesketch-csv"]),
        ),
    ];
    // A page is named by its id or a prefix of it: hex digits, hyphenated as ids are
    // (`cordon_service::paging` refuses anything else as `invalid_field`).
    for (path, method) in [
        ("/api/v1/pages/{id}", "get"),
        ("/api/v1/pages/{id}/ack", "post"),
        ("/api/v1/pages/{id}/resolve", "post"),
    ] {
        out.push((
            Target::Param(path, method, "id"),
            json!({ "pattern": PAGE_HANDLE_PATTERN }),
        ));
    }
    for path in TIMELINE_READS {
        out.push((Target::Param(path, "get", "kind"), kinds.clone()));
        for instant in ["from", "to"] {
            out.push((
                Target::Param(path, "get", instant),
                or_blank(json!({ "format": "date-time" })),
            ));
        }
        out.push((Target::Param(path, "get", "source"), json!({ "pattern": NO_CONTROLS })));
        out.push((
            Target::Param(path, "get", "ip"),
            or_blank(json!({ "anyOf": [{ "format": "ipv4" }, { "format": "ipv6" }] })),
        ));
    }
    out
}

/// Merges `rule` into a schema: an enumeration of a nullable schema keeps `null`.
fn merge_rule(schema: &mut Value, rule: &Value) {
    let nullable = schema
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|t| t == "null"));
    let Value::Object(schema) = schema else { return };
    let Value::Object(rule) = rule else { return };
    for (key, value) in rule {
        let mut value = value.clone();
        if key == "enum"
            && nullable
            && let Value::Array(values) = &mut value
        {
            values.push(Value::Null);
        }
        schema.insert(key.clone(), value);
    }
}

/// Applies [`rules`]; a rule whose target is missing is an error (the document and the rules
/// drifted apart).
pub(crate) fn apply_rules(doc: &mut Value) -> Result<(), String> {
    for (target, rule) in rules() {
        let schema = match target {
            Target::Property(schema, prop) => {
                let (prop, items) = match prop.strip_suffix("[]") {
                    Some(p) => (p, true),
                    None => (prop, false),
                };
                let property = doc
                    .pointer_mut(&format!("/components/schemas/{schema}/properties/{prop}"))
                    .ok_or_else(|| format!("no property {schema}.{prop}"))?;
                if items {
                    property
                        .get_mut("items")
                        .ok_or_else(|| format!("{schema}.{prop} is not an array"))?
                } else {
                    property
                }
            }
            Target::Schema(schema) => doc
                .pointer_mut(&format!("/components/schemas/{schema}"))
                .ok_or_else(|| format!("no schema {schema}"))?,
            Target::Param(path, method, name) => {
                let escaped = path.replace('~', "~0").replace('/', "~1");
                let params = doc
                    .pointer_mut(&format!("/paths/{escaped}/{method}/parameters"))
                    .and_then(Value::as_array_mut)
                    .ok_or_else(|| format!("no parameters on {method} {path}"))?;
                let param = params
                    .iter_mut()
                    .find(|p| p["name"] == name)
                    .ok_or_else(|| format!("no parameter {name} on {method} {path}"))?;
                let mut rule = rule.clone();
                if let Some(required) = rule.as_object_mut().and_then(|r| r.remove("required")) {
                    param["required"] = required;
                    // A required parameter is not nullable.
                    if let Some(Value::Array(types)) = param.pointer_mut("/schema/type") {
                        types.retain(|t| t != "null");
                    }
                }
                let schema = param
                    .get_mut("schema")
                    .ok_or_else(|| format!("parameter {name} on {method} {path} has no schema"))?;
                merge_rule(schema, &rule);
                continue;
            }
            Target::Body(path, method) => {
                let escaped = path.replace('~', "~0").replace('/', "~1");
                let body = doc
                    .pointer_mut(&format!(
                        "/paths/{escaped}/{method}/requestBody/content/application~1json"
                    ))
                    .ok_or_else(|| format!("no JSON body on {method} {path}"))?;
                body["schema"] = rule;
                continue;
            }
        };
        merge_rule(schema, &rule);
    }
    Ok(())
}
