//! The single error type of the crate.

/// Everything that can go wrong in the analytics functions.
///
/// The messages are meant to be shown to a user as they are (the CLI prints them).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalyticsError {
    /// The CSV text has no header line.
    #[error("the CSV is empty: a header line `customer_id,date,amount` is required")]
    EmptyCsv,

    /// A problem with the CSV header line.
    #[error("CSV header: {0}")]
    Header(String),

    /// A problem with one data row. `row` is 1-based and counts data lines only
    /// (the line after the header is row 1; blank lines are skipped but still counted).
    #[error("row {row}: {message}")]
    Row {
        /// 1-based data row number.
        row: usize,
        /// What is wrong with it.
        message: String,
    },

    /// An input value that the function cannot work with.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A model parameter outside its domain (all parameters must be finite and > 0).
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name, e.g. `alpha`.
        name: &'static str,
        /// The offending value.
        value: f64,
        /// Why it is refused.
        reason: &'static str,
    },

    /// Not enough data to fit a model.
    #[error("too few customers to fit {model} (need at least {need}{what}, got {got})")]
    TooFewCustomers {
        /// `BG/NBD` or `Gamma-Gamma`.
        model: &'static str,
        /// Minimum number required.
        need: usize,
        /// Qualifier of the count, e.g. ` with a repeat purchase`.
        what: &'static str,
        /// Number available.
        got: usize,
    },

    /// The maximum-likelihood search did not converge.
    #[error("{model} did not converge after {iterations} iterations ({detail})")]
    NotConverged {
        /// `BG/NBD` or `Gamma-Gamma`.
        model: &'static str,
        /// Total Nelder–Mead iterations over all restarts.
        iterations: usize,
        /// Best point found and its log-likelihood, e.g. `best r=…, alpha=…, log-likelihood=…`.
        detail: String,
    },

    /// A hypergeometric series did not converge (or cannot be evaluated there).
    #[error("Gauss hypergeometric series 2F1({a}, {b}; {c}; {z}) {reason}")]
    Hypergeometric {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
        /// What went wrong.
        reason: String,
    },

    /// A computation produced NaN or an infinite value.
    #[error("numerical problem: {0}")]
    Numerical(String),
}

/// Shorthand result type.
pub type Result<T> = std::result::Result<T, AnalyticsError>;

/// Return `v` if it is finite, else a [`AnalyticsError::Numerical`] naming `what`.
pub(crate) fn finite(v: f64, what: &str) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(AnalyticsError::Numerical(format!("{what} is not finite ({v})")))
    }
}

/// Check that a model parameter is finite and strictly positive.
pub(crate) fn positive_param(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(AnalyticsError::InvalidParameter { name, value, reason: "must be finite and > 0" })
    }
}
