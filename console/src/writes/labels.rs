//! Labelling a check "not anomalous" (optionally LEARN, optionally with
//! layers): `POST /api/v1/labels` for scripts and the training page's form
//! (`POST /anomalies/{id}/label`), both through [`label`].

use std::sync::Arc;
use topics::clock::now_ms;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Json;
use learn::{label_for_check, LabelError, LabelRequest};
use serde::Deserialize;
use serde_json::json;
use topics::Label;
use uuid::Uuid;

use super::{operator_of, produce, ApiState};
use crate::access::{field, ApiWriter, FormWriter};
use crate::pages::training::{self, html::FormState};
use crate::reply::{error, ApiError, PageResult};
use crate::views::GraphsAt;
use crate::Console;

/// Labels a check: looks it up, validates the request and produces the
/// label. The learn service makes the profile from it.
pub async fn label(state: &ApiState, request: LabelRequest) -> Result<Label, ApiError> {
    if request.operator.trim().is_empty() {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "operator must not be empty",
        ));
    }
    let check = state
        .checks
        .check_for_label(request.check_id)
        .await
        .map_err(|e| error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                format!("no check {} in the projections", request.check_id),
            )
        })?;
    let label: Label = label_for_check(&request, &check, now_ms()).map_err(|e| match e {
        LabelError::Layers(_) | LabelError::NoSeries(_) | LabelError::NotNotAnomalous(_) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
    })?;
    produce(state, &state.topics.labels, &[(&label.metric, &label)]).await?;
    tracing::info!(label = %label.id, check = %check.check_id, metric = %label.metric, operator = %label.operator, "label produced");
    Ok(label)
}

/// The body of `POST /api/v1/labels`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelBody {
    /// The check labelled.
    pub check_id: Uuid,
    /// Must be `true`: the only label there is says "not anomalous".
    pub not_anomalous: bool,
    /// Make a features profile from the check's series (LEARN).
    #[serde(default)]
    pub learn: bool,
    /// A layers definition: a JSON object, or a string holding one.
    #[serde(default)]
    pub layers: Option<serde_json::Value>,
    /// Why, in the operator's words.
    #[serde(default)]
    pub description: Option<String>,
    /// Who labels; with a session, the logged-in operator instead.
    #[serde(default)]
    pub operator: Option<String>,
}

/// `POST /api/v1/labels`: `201 {"id"}`.
pub(crate) async fn post(
    State(console): State<Arc<Console>>,
    ApiWriter { writer, body }: ApiWriter<Result<Json<LabelBody>, JsonRejection>>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(body) = body.map_err(|r| error(r.status(), r.body_text()))?;
    let layers_json = match body.layers {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(v) => Some(v.to_string()),
    };
    let request = LabelRequest {
        check_id: body.check_id,
        not_anomalous: body.not_anomalous,
        learn: body.learn,
        layers_json,
        description: body.description,
        // A script must say who it labels for: "" is refused by `label`.
        operator: operator_of(&writer, body.operator, ""),
    };
    let label = label(&console.writes, request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": label.id }))))
}

/// The layers definition a label form describes, as JSON, or why it is
/// not one.
pub fn layers_from_form(fields: &[(String, String)]) -> Result<Option<String>, String> {
    use fingerprint::matching::layers::{Condition, Layers, Rule, RuleInRow};
    if field(fields, "layers") != Some("1") {
        return Ok(None);
    }
    let text = |name: &str| field(fields, name).map(str::trim).unwrap_or("");
    let condition = |name: &str, layer: &str| -> Result<Condition, String> {
        serde_json::from_value(serde_json::Value::String(text(name).to_owned())).map_err(|_| {
            format!(
                "Layer {layer}: {:?} is not a condition (<, <=, >, >=, ==, !=)",
                text(name)
            )
        })
    };
    let number = |name: &str, layer: &str| -> Result<f64, String> {
        text(name)
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                format!(
                    "Layer {layer} needs a numeric boundary (got {:?})",
                    text(name)
                )
            })
    };
    let times = |name: &str, layer: &str| -> Result<u32, String> {
        text(name)
            .parse::<u32>()
            .ok()
            .filter(|t| *t >= 1)
            .ok_or_else(|| {
                format!(
                    "Layer {layer} needs times in row, a whole number of at least 1 (got {:?})",
                    text(name)
                )
            })
    };
    let d = Rule {
        condition: condition("d_condition", "D")?,
        boundary: number("d_boundary", "D")?,
    };
    let d1 = if text("d1_boundary").is_empty() && text("d1_times").is_empty() {
        None
    } else {
        Some(RuleInRow {
            condition: condition("d1_condition", "D1")?,
            boundary: number("d1_boundary", "D1")?,
            times_in_row: times("d1_times", "D1")?,
        })
    };
    let e = RuleInRow {
        condition: condition("e_condition", "E")?,
        boundary: number("e_boundary", "E")?,
        times_in_row: times("e_times", "E")?,
    };
    let days: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "es")
        .map(|(_, v)| v.clone())
        .collect();
    let optional = |name: &str| Some(text(name).to_owned()).filter(|s| !s.is_empty());
    let layers = Layers {
        d,
        d1,
        e,
        es: (!days.is_empty()).then_some(days),
        f1: optional("f1"),
        f2: optional("f2"),
    };
    let json = serde_json::to_string(&layers).map_err(|e| e.to_string())?;
    // The same parse the label path and the fingerprint service use.
    Layers::from_json(&json).map_err(|e| e.to_string())?;
    Ok(Some(json))
}

/// `POST /anomalies/{id}/label`: the label, then back to the training
/// page, which says it was saved; or the training page again with the
/// form as it was sent and what was wrong with it.
pub(crate) async fn form(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    form: FormWriter,
) -> PageResult {
    match form_label(&console.writes, &form).await {
        Ok(label) => {
            Ok(Redirect::to(&format!("/anomalies/{id}?labelled={}", label.id)).into_response())
        }
        Err(e) => {
            let again = FormState {
                error: Some(e.message),
                notice: None,
                fields: form.fields,
            };
            let (ctx, at) = (&form.ctx, GraphsAt::Anomaly);
            training::show(&console, ctx, &id, at, again, e.status).await
        }
    }
}

/// The label a form asks for, made.
async fn form_label(writes: &ApiState, form: &FormWriter) -> Result<Label, ApiError> {
    let check_id = match form.field("check_id").map(Uuid::parse_str) {
        Some(Ok(c)) => c,
        _ => return Err(error(StatusCode::BAD_REQUEST, "The form names no check.")),
    };
    let learn = match form.field("action") {
        Some("learn") => true,
        Some("not_anomalous") => false,
        other => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("Unknown action {other:?}: use one of the two buttons."),
            ))
        }
    };
    let layers_json =
        layers_from_form(&form.fields).map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let description = form
        .field("description")
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    let request = LabelRequest {
        check_id,
        not_anomalous: true,
        learn,
        layers_json,
        description,
        operator: form.session.user.clone(),
    };
    label(writes, request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_layers_form_becomes_a_valid_definition() {
        let f = fields(&[
            ("layers", "1"),
            ("d_condition", ">"),
            ("d_boundary", "100"),
            ("d1_condition", ">"),
            ("d1_boundary", ""),
            ("d1_times", ""),
            ("e_condition", "<="),
            ("e_boundary", "50.5"),
            ("e_times", "5"),
            ("es", "mon"),
            ("es", "tue"),
            ("f1", "08:00"),
            ("f2", ""),
        ]);
        let json = layers_from_form(&f).unwrap().unwrap();
        let l = fingerprint::matching::Layers::from_json(&json).unwrap();
        assert_eq!(l.d.boundary, 100.0);
        assert!(l.d1.is_none());
        assert_eq!((l.e.boundary, l.e.times_in_row), (50.5, 5));
        assert_eq!(l.es, Some(vec!["mon".to_owned(), "tue".to_owned()]));
        assert_eq!((l.f1.as_deref(), l.f2.as_deref()), (Some("08:00"), None));
        assert_eq!(
            layers_from_form(&fields(&[("d_boundary", "1")])).unwrap(),
            None
        );
    }

    #[test]
    fn a_bad_layers_form_says_which_layer() {
        let base = [
            ("layers", "1"),
            ("d_condition", ">"),
            ("d_boundary", "100"),
            ("e_condition", "<="),
            ("e_boundary", "50"),
            ("e_times", "5"),
        ];
        let with = |k: &str, v: &str| {
            let mut f = fields(&base);
            f.retain(|(n, _)| n != k);
            f.push((k.to_owned(), v.to_owned()));
            layers_from_form(&f).unwrap_err()
        };
        assert!(with("e_times", "0").contains("Layer E"));
        assert!(with("d_boundary", "abc").contains("Layer D "));
        assert!(with("d_boundary", "inf").contains("Layer D "));
        assert!(with("d1_times", "2").contains("Layer D1"));
        assert!(with("f1", "25:00").contains("f1"));
        assert!(with("es", "someday").contains("someday"));
        assert!(with("e_condition", "=~").contains("condition"));
    }
}
