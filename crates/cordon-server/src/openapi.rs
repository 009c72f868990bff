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
//! The shared responses are defined once, under `components.responses`, and referenced.

use serde_json::{Map, Value, json};

use crate::edge::UNTIMED_ROUTES;

const PROBLEM_JSON: &str = "application/problem+json";

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
    if json_body {
        wanted.extend(["UnsupportedMediaType", "Unprocessable"]);
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
