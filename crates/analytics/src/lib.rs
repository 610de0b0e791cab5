//! Customer analytics for Tendero: RFM summaries and scores, the BG/NBD purchase model,
//! the Gamma-Gamma spend model and customer lifetime value (CLV), retention (cohorts,
//! churn, recency, conversion) and the logistic service indicators (on time, in full,
//! OTIF, perfect order, lead time, returns, stock-outs, logistic costs).
//!
//! Pure functions on in-memory data, no I/O. Statistics are in `f64`. Every result is
//! checked to be finite; problems are reported as [`AnalyticsError`], never as NaN or a
//! panic. The formulas and conventions follow the Python package `lifetimes` 0.11.3 and
//! are tested against its output on the CDNOW data (see `tests/cdnow.rs`).
//!
//! * [`rfm`]: transactions (CSV parsing), the calibration-period summary
//!   (frequency / recency / T / monetary value), RFM scores and segments.
//! * [`bgnbd`]: BG/NBD likelihood, fit, P(alive), expected purchases.
//! * [`gamma_gamma`]: Gamma-Gamma likelihood, fit, expected spend per purchase.
//! * [`retention`]: cohorts by month of first purchase, churn, recency distribution,
//!   conversion rates.
//! * [`logistics`]: the logistic service indicators, each rule written once on
//!   [`logistics::OrderFacts`].
//! * [`clv`]: CLV and the one-call [`clv::clv_report`].
//! * [`optim`]: the Nelder–Mead minimiser shared by both fits.
//! * [`special`]: ln Γ, ln B, log-sum-exp and the hypergeometric function ₂F₁.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod bgnbd;
pub mod clv;
mod error;
pub mod gamma_gamma;
pub mod logistics;
pub mod optim;
pub mod retention;
pub mod rfm;
pub mod special;

pub use bgnbd::{BgNbdFit, BgNbdParams};
pub use clv::{clv_report, ClvOptions, ClvReport, CustomerClv};
pub use error::{AnalyticsError, Result};
pub use gamma_gamma::{GammaGammaFit, GammaGammaParams};
pub use logistics::{logistics_report, LogisticsReport, OrderFacts, PeriodFacts, ReturnFacts};
pub use retention::{churn, cohorts, conversion, recency_distribution, Churn, CohortRow, DateRange, RecencyDistribution};
pub use rfm::{parse_transactions_csv, rfm_scores, summary, CustomerSummary, RfmScore, Segment, TimeUnit, Transaction};
