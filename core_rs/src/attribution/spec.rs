//! Attribution settings from JSON, as the Python layer sends them.
//!
//! ```json
//! {"models": [{"name": "last_touch"}, {"name": "time_decay", "half_life_days": 7},
//!             {"name": "position_based", "first": 0.4, "last": 0.4},
//!             {"name": "weighted", "preset": "beauty"},
//!             {"name": "weighted", "weights": {"click": 2.0}, "default_weight": 1.0},
//!             {"name": "markov", "order": 2}, {"name": "shapley"}, {"name": "shapley_exact"}],
//!  "lookback_days": 30, "lookback_by_event_type": {"impression": 1}}
//! ```

use serde_json::{Map, Value};

use super::aipl::AiplRules;
use super::config::{AttributionConfig, EventWeights, Lookback, Model};
use crate::error::{CoreError, CoreResult};

/// Model names accepted in `models[].name`.
pub const MODEL_NAMES: &[&str] = &[
    "last_touch",
    "first_touch",
    "linear",
    "time_decay",
    "position_based",
    "weighted",
    "markov",
    "shapley",
    "shapley_exact",
];

fn number(obj: &Map<String, Value>, key: &str, default: f64, model: &str) -> CoreResult<f64> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_f64().ok_or_else(|| {
            CoreError::invalid(format!("model {model:?}: {key} must be a number, got {v}"))
        }),
    }
}

fn day_map(value: Option<&Value>, what: &str) -> CoreResult<Vec<(String, f64)>> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let obj = value
        .as_object()
        .ok_or_else(|| CoreError::invalid(format!("{what} must map event types to numbers")))?;
    let mut out = Vec::new();
    for (k, v) in obj {
        let n = v
            .as_f64()
            .ok_or_else(|| CoreError::invalid(format!("{what}[{k:?}] must be a number, got {v}")))?;
        out.push((k.clone(), n));
    }
    Ok(out)
}

fn model_from(value: &Value) -> CoreResult<Model> {
    let obj = value
        .as_object()
        .ok_or_else(|| CoreError::invalid(format!("a model must be an object, got {value}")))?;
    let name = obj.get("name").and_then(Value::as_str).unwrap_or("");
    Ok(match name {
        "last_touch" => Model::LastTouch,
        "first_touch" => Model::FirstTouch,
        "linear" => Model::Linear,
        "time_decay" => Model::TimeDecay { half_life_days: number(obj, "half_life_days", 7.0, name)? },
        "position_based" => Model::PositionBased {
            first: number(obj, "first", 0.4, name)?,
            last: number(obj, "last", 0.4, name)?,
        },
        "weighted" => {
            let mut weights = match obj.get("preset").and_then(Value::as_str) {
                Some(preset) => EventWeights::preset(preset)?,
                None => EventWeights { weights: Vec::new(), default_weight: 1.0 },
            };
            weights.weights.extend(day_map(obj.get("weights"), "weighted.weights")?);
            weights.default_weight = number(obj, "default_weight", weights.default_weight, name)?;
            Model::Weighted(weights)
        }
        "markov" => {
            let order = number(obj, "order", 1.0, name)?;
            if order.fract() != 0.0 || order < 0.0 {
                return Err(CoreError::invalid(format!("markov order must be 1, 2 or 3, got {order}")));
            }
            Model::Markov { order: order as usize }
        }
        "shapley" => Model::Shapley,
        "shapley_exact" => Model::ShapleyExact,
        other => {
            return Err(CoreError::invalid(format!(
                "unknown attribution model {other:?}; known models: {}",
                MODEL_NAMES.join(", ")
            )))
        }
    })
}

/// Parse the settings of [`attribute`](super::attribute).
pub fn config_from_json(text: &str) -> CoreResult<AttributionConfig> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| CoreError::invalid(format!("attribution settings are not valid JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| CoreError::invalid("attribution settings must be a JSON object"))?;
    let mut config = AttributionConfig::default();
    if let Some(models) = obj.get("models") {
        let list = models
            .as_array()
            .ok_or_else(|| CoreError::invalid("models must be a list"))?;
        config.models = list.iter().map(model_from).collect::<CoreResult<_>>()?;
    }
    let days = number(obj, "lookback_days", 30.0, "lookback")?;
    if days < 0.0 {
        return Err(CoreError::invalid(format!("lookback_days must not be negative, got {days}")));
    }
    config.lookback = Lookback {
        default_days: days,
        by_event_type: day_map(obj.get("lookback_by_event_type"), "lookback_days")?,
    };
    if let Some((k, d)) = config.lookback.by_event_type.iter().find(|(_, d)| *d < 0.0) {
        return Err(CoreError::invalid(format!("lookback_days[{k:?}] must not be negative, got {d}")));
    }
    config.validate()?;
    Ok(config)
}

fn strings(obj: &Map<String, Value>, key: &str, default: Vec<String>) -> CoreResult<Vec<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    CoreError::invalid(format!("aipl {key} must be a list of event types, got {v}"))
                })
            })
            .collect(),
        Some(v) => Err(CoreError::invalid(format!("aipl {key} must be a list, got {v}"))),
    }
}

/// Parse AIPL rules; missing fields keep [`AiplRules::default`].
pub fn aipl_rules_from_json(text: &str) -> CoreResult<AiplRules> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| CoreError::invalid(format!("aipl rules are not valid JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| CoreError::invalid("aipl rules must be a JSON object"))?;
    let d = AiplRules::default();
    let rules = AiplRules {
        aware_events: strings(obj, "aware_events", d.aware_events)?,
        interest_events: strings(obj, "interest_events", d.interest_events)?,
        loyalty_events: strings(obj, "loyalty_events", d.loyalty_events)?,
        aware_days: number(obj, "aware_days", d.aware_days, "aipl")?,
        interest_days: number(obj, "interest_days", d.interest_days, "aipl")?,
        purchase_days: number(obj, "purchase_days", d.purchase_days, "aipl")?,
        loyalty_days: number(obj, "loyalty_days", d.loyalty_days, "aipl")?,
        repeat_orders: number(obj, "repeat_orders", f64::from(d.repeat_orders), "aipl")? as u32,
    };
    for (name, days) in [
        ("aware_days", rules.aware_days),
        ("interest_days", rules.interest_days),
        ("purchase_days", rules.purchase_days),
        ("loyalty_days", rules.loyalty_days),
    ] {
        if !(days.is_finite() && days >= 0.0) {
            return Err(CoreError::invalid(format!("aipl {name} must be >= 0, got {days}")));
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_model_and_lookback() {
        let c = config_from_json(
            r#"{"models":[{"name":"last_touch"},{"name":"time_decay","half_life_days":3},
            {"name":"position_based","first":0.3,"last":0.5},{"name":"weighted","preset":"beauty"},
            {"name":"markov","order":2},{"name":"shapley"}],
            "lookback_days":14,"lookback_by_event_type":{"impression":1}}"#,
        )
        .unwrap();
        assert_eq!(c.models.len(), 6);
        assert_eq!(c.models[1], Model::TimeDecay { half_life_days: 3.0 });
        assert_eq!(c.models[4], Model::Markov { order: 2 });
        assert_eq!(c.lookback.default_days, 14.0);
        assert_eq!(c.lookback.by_event_type, vec![("impression".to_string(), 1.0)]);
    }

    #[test]
    fn bad_settings_name_the_problem() {
        let err = |t: &str| config_from_json(t).unwrap_err().to_string();
        assert!(err(r#"{"models":[{"name":"u_shape"}]}"#).contains("unknown attribution model \"u_shape\""));
        assert!(err(r#"{"lookback_days":-1}"#).contains("must not be negative"));
        assert!(err(r#"{"models":[{"name":"markov","order":4}]}"#).contains("order"));
        assert!(err("[1]").contains("JSON object"));
        assert!(aipl_rules_from_json(r#"{"aware_days":-2}"#).unwrap_err().to_string().contains("aware_days"));
    }
}
