//! Manufacturing rules: what a bill of materials may contain, how a quantity of an
//! article explodes into its components at every level, what one unit costs rolled up
//! from its components, what is missing to make it, the one table of a production
//! order's states, and what to buy or make when stock falls below a reorder point.
//!
//! # The explosion rule
//! Quantities are thousandths, scrap hundredths of a percent. Making `need` of a parent
//! takes, of each component, `need × quantity × (1 + scrap)`, computed in `i128` and
//! rounded once, half away from zero, to the thousandth ([`gross`]). A component that
//! has its own bill of materials explodes the same way from its own requirement, down
//! to the leaves. A unit's rolled-up cost is the sum over its components of
//! `cost × quantity × (1 + scrap)`, rounded once to the minor unit by the same function,
//! where a component with a bill of materials costs its own rolled-up cost and a leaf its
//! article cost.

use crate::sales::{clamp, div_round};
use std::collections::{HashMap, HashSet};

const QTY_ONE: i128 = 1_000;
const PCT_ONE: i128 = 10_000;

/// One component of a bill of materials: per ONE unit of the article made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub product_id: String,
    /// Thousandths per unit of the parent.
    pub quantity: i64,
    /// Hundredths of a percent lost in making (0 ≤ scrap < 10000).
    pub scrap: i64,
}

/// Every bill of materials: article → its components.
pub type Boms = HashMap<String, Vec<Component>>;

/// `amount × quantity × (1 + scrap)`, `quantity` in thousandths and `scrap` in
/// hundredths of a percent, rounded half away from zero: the requirement of a component
/// for `amount` thousandths of its parent, or the cost of it for `amount` minor units per
/// unit of the component.
pub fn gross(amount: i64, quantity: i64, scrap: i64) -> i64 {
    let n = i128::from(amount) * i128::from(quantity) * (PCT_ONE + i128::from(scrap));
    clamp(div_round(n, QTY_ONE * PCT_ONE))
}

/// The problems of a bill of materials for `product_id` with `components`, given every
/// other bill (`boms`, where the article's own current one is ignored since it is being
/// replaced): `(field, translation key)` with fields such as `components.2.product_id`.
/// Refuses the article among its own components, a component that contains the article
/// at any depth (a cycle), zero or negative quantities, scrap outside 0 – < 100 % and a
/// component listed twice.
pub fn check_bom(product_id: &str, components: &[Component], boms: &Boms) -> Vec<(String, &'static str)> {
    let mut problems = Vec::new();
    if components.is_empty() {
        problems.push(("components".to_string(), "bom-empty"));
    }
    let mut seen = HashSet::new();
    // Articles known not to lead back to `product_id`, shared between the components.
    let mut clear: HashSet<&str> = HashSet::new();
    for (i, c) in components.iter().enumerate() {
        if c.quantity <= 0 {
            problems.push((format!("components.{i}.quantity"), "quantity-not-positive"));
        }
        if !(0..PCT_ONE as i64).contains(&c.scrap) {
            problems.push((format!("components.{i}.scrap_percent"), "bom-scrap-invalid"));
        }
        let field = format!("components.{i}.product_id");
        if c.product_id == product_id {
            problems.push((field, "bom-self"));
        } else if !seen.insert(c.product_id.as_str()) {
            problems.push((field, "bom-duplicate"));
        } else if leads_to(&c.product_id, product_id, boms, &mut clear) {
            problems.push((field, "bom-cycle"));
        }
    }
    problems
}

/// Whether `target` is among the components of `from` at any depth (depth first, with an
/// explicit stack: a deep bill does not exhaust the call stack).
fn leads_to<'a>(from: &'a str, target: &str, boms: &'a Boms, clear: &mut HashSet<&'a str>) -> bool {
    let mut stack = vec![from];
    let mut visited: HashSet<&str> = HashSet::new();
    while let Some(p) = stack.pop() {
        if p == target {
            return true;
        }
        if clear.contains(p) || !visited.insert(p) {
            continue;
        }
        if let Some(children) = boms.get(p) {
            stack.extend(children.iter().map(|c| c.product_id.as_str()));
        }
    }
    // Nothing reached from `from` leads to the target: remember all of it.
    clear.extend(visited);
    false
}

/// One line of an explosion: `quantity` of `product_id` needed for its `parent_id` at
/// `level` (1 = a direct component of the article made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exploded {
    pub level: u32,
    pub parent_id: String,
    pub product_id: String,
    /// Thousandths, scrap included.
    pub quantity: i64,
    /// Whether it is made from its own bill of materials (exploded further below).
    pub made: bool,
}

/// Every level of making `quantity` of `product_id`, depth first in the order of the
/// components. Stops (without looping) if the bills hold a cycle, which [`check_bom`]
/// keeps out, and below 64 levels.
pub fn explode(product_id: &str, quantity: i64, boms: &Boms) -> Vec<Exploded> {
    const MAX_DEPTH: u32 = 64;
    let mut out = Vec::new();
    let mut path: Vec<&str> = vec![product_id];
    fn walk<'a>(parent: &'a str, need: i64, level: u32, boms: &'a Boms, path: &mut Vec<&'a str>, out: &mut Vec<Exploded>) {
        let Some(components) = boms.get(parent) else { return };
        for c in components {
            let q = gross(need, c.quantity, c.scrap);
            let made = boms.contains_key(&c.product_id);
            out.push(Exploded { level, parent_id: parent.to_string(), product_id: c.product_id.clone(), quantity: q, made });
            if made && level < MAX_DEPTH && !path.contains(&c.product_id.as_str()) {
                path.push(&c.product_id);
                walk(&c.product_id, q, level + 1, boms, path, out);
                path.pop();
            }
        }
    }
    walk(product_id, quantity, 1, boms, &mut path, &mut out);
    out
}

/// The leaves of an explosion (bought articles) with their total requirement, in the
/// order first met.
pub fn leaf_totals(lines: &[Exploded]) -> Vec<(String, i64)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<(String, i64)> = Vec::new();
    for l in lines.iter().filter(|l| !l.made) {
        match index.get(l.product_id.as_str()) {
            Some(&i) => out[i].1 = out[i].1.saturating_add(l.quantity),
            None => {
                index.insert(&l.product_id, out.len());
                out.push((l.product_id.clone(), l.quantity));
            }
        }
    }
    out
}

/// The rolled-up cost of one unit of every article reachable from `product_id`
/// (itself included): a made article costs the sum of its components as the module
/// comment says, a leaf its `costs` entry (0 when unknown). Each article is costed once.
pub fn roll_up(product_id: &str, boms: &Boms, costs: &HashMap<String, i64>) -> HashMap<String, i64> {
    let mut done: HashMap<String, i64> = HashMap::new();
    // Post-order with an explicit stack; `on_path` breaks a cycle (costed as its leaf cost).
    let mut stack: Vec<(&str, bool)> = vec![(product_id, false)];
    let mut on_path: HashSet<&str> = HashSet::new();
    while let Some((p, expanded)) = stack.pop() {
        if done.contains_key(p) {
            continue;
        }
        let leaf_cost = || costs.get(p).copied().unwrap_or(0);
        match boms.get(p) {
            None => {
                done.insert(p.to_string(), leaf_cost());
            }
            Some(components) if expanded => {
                on_path.remove(p);
                let total: i128 = components
                    .iter()
                    .map(|c| {
                        let unit = done.get(&c.product_id).copied().unwrap_or_else(|| costs.get(&c.product_id).copied().unwrap_or(0));
                        i128::from(unit) * i128::from(c.quantity) * (PCT_ONE + i128::from(c.scrap))
                    })
                    .sum();
                done.insert(p.to_string(), clamp(div_round(total, QTY_ONE * PCT_ONE)));
            }
            Some(components) => {
                if !on_path.insert(p) {
                    done.insert(p.to_string(), leaf_cost());
                    continue;
                }
                stack.push((p, true));
                for c in components.iter().rev() {
                    if !done.contains_key(&c.product_id) && !on_path.contains(c.product_id.as_str()) {
                        stack.push((&c.product_id, false));
                    }
                }
            }
        }
    }
    done
}

/// The cost of one unit made from what was consumed: `Σ quantity × unit cost ÷ made`
/// (quantities in thousandths, costs minor units per unit), rounded once.
pub fn made_unit_cost(consumed: &[(i64, i64)], made: i64) -> i64 {
    if made <= 0 {
        return 0;
    }
    let value: i128 = consumed.iter().map(|&(q, c)| i128::from(q) * i128::from(c)).sum();
    clamp(div_round(value, i128::from(made)))
}

/// What is missing of one article: `required` against `available` (on hand less
/// reserved by others); `missing` is never negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub level: u32,
    pub product_id: String,
    pub required: i64,
    pub available: i64,
    pub missing: i64,
}

/// Shortages of an explosion: every line (per level, gross: each sub-assembly as if
/// none were in stock) and then the leaves in total, against what is available of each
/// article (absent = nothing). Level 0 marks the leaf totals.
pub fn shortages(lines: &[Exploded], available: &HashMap<String, i64>) -> (Vec<Shortage>, Vec<Shortage>) {
    let of = |level: u32, product_id: &str, required: i64| {
        let available = available.get(product_id).copied().unwrap_or(0);
        Shortage { level, product_id: product_id.to_string(), required, available, missing: (required - available.max(0)).max(0) }
    };
    let per_level = lines.iter().map(|l| of(l.level, &l.product_id, l.quantity)).collect();
    let leaves = leaf_totals(lines).iter().map(|(p, q)| of(0, p, *q)).collect();
    (per_level, leaves)
}

// ---------------------------------------------------------------- production orders

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Planned,
    Reserved,
    Done,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] = [Status::Draft, Status::Planned, Status::Reserved, Status::Done, Status::Cancelled];

    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Planned => "planned",
            Status::Reserved => "reserved",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the order still counts as coming production (replenishment).
    pub fn open(self) -> bool {
        matches!(self, Status::Draft | Status::Planned | Status::Reserved)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Plan,
    Reserve,
    Produce,
    Cancel,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Plan, Action::Reserve, Action::Produce, Action::Cancel];

    pub fn code(self) -> &'static str {
        match self {
            Action::Plan => "plan",
            Action::Reserve => "reserve",
            Action::Produce => "produce",
            Action::Cancel => "cancel",
        }
    }

    pub fn from_code(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// The one table of a production order's life: the state `from` reaches by `action`, or
/// the translation key of the refusal.
pub fn transition(from: Status, action: Action) -> Result<Status, &'static str> {
    use Action as A;
    use Status as S;
    match (from, action) {
        (S::Draft, A::Plan) => Ok(S::Planned),
        (S::Planned, A::Reserve) => Ok(S::Reserved),
        (S::Reserved, A::Produce) => Ok(S::Done),
        (S::Draft | S::Planned | S::Reserved, A::Cancel) => Ok(S::Cancelled),
        (S::Done, _) => Err("production-done"),
        (S::Cancelled, _) => Err("production-cancelled"),
        _ => Err("production-transition-invalid"),
    }
}

// ---------------------------------------------------------------- replenishment

/// What is known of one article in one warehouse to decide whether to buy or make more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StockPosition {
    pub on_hand: i64,
    pub reserved: i64,
    /// Ordered from suppliers and not yet received.
    pub open_purchase: i64,
    /// In production orders not yet done.
    pub open_production: i64,
    pub reorder_point: i64,
    pub reorder_quantity: i64,
    /// A manufactured article with a bill of materials.
    pub makeable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replenish {
    Buy,
    Make,
}

impl Replenish {
    pub fn code(self) -> &'static str {
        match self {
            Replenish::Buy => "buy",
            Replenish::Make => "make",
        }
    }
}

/// The projected stock `on_hand − reserved + open purchase + open production`.
pub fn projected(p: &StockPosition) -> i64 {
    p.on_hand.saturating_sub(p.reserved).saturating_add(p.open_purchase).saturating_add(p.open_production)
}

/// When the projected stock is below the reorder point: buy or make
/// `max(reorder_quantity, reorder_point − projected)`; otherwise nothing.
pub fn suggest(p: &StockPosition) -> Option<(Replenish, i64)> {
    let projected = projected(p);
    if projected >= p.reorder_point {
        return None;
    }
    let quantity = p.reorder_quantity.max(p.reorder_point.saturating_sub(projected));
    Some((if p.makeable { Replenish::Make } else { Replenish::Buy }, quantity))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(p: &str, q: i64, scrap: i64) -> Component {
        Component { product_id: p.into(), quantity: q, scrap }
    }

    /// mesa ← tablero + 4 patas; tablero ← 2.5 madera (10 % scrap) + 0.2 barniz.
    fn mesa() -> (Boms, HashMap<String, i64>) {
        let mut boms = Boms::new();
        boms.insert("mesa".into(), vec![c("tablero", 1_000, 0), c("pata", 4_000, 0)]);
        boms.insert("tablero".into(), vec![c("madera", 2_500, 1_000), c("barniz", 200, 0)]);
        let costs = [("madera", 100_000), ("barniz", 500_000), ("pata", 150_000), ("tablero", 1), ("mesa", 1)];
        (boms, costs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn requirements_include_scrap_rounded_once() {
        assert_eq!(gross(2_000, 2_500, 1_000), 5_500); // 2 × 2.5 × 1.1
        assert_eq!(gross(1_000, 1, 5_000), 2); // 0.0015 → 0.002
        assert_eq!(gross(1_000, 333, 0), 333);
    }

    #[test]
    fn explodes_every_level() {
        let (boms, _) = mesa();
        let lines = explode("mesa", 2_000, &boms);
        let got: Vec<_> = lines.iter().map(|l| (l.level, l.product_id.as_str(), l.quantity, l.made)).collect();
        assert_eq!(
            got,
            vec![(1, "tablero", 2_000, true), (2, "madera", 5_500, false), (2, "barniz", 400, false), (1, "pata", 8_000, false)]
        );
        assert_eq!(leaf_totals(&lines), vec![("madera".into(), 5_500), ("barniz".into(), 400), ("pata".into(), 8_000)]);
    }

    #[test]
    fn rolls_up_costs_from_the_leaves() {
        let (boms, costs) = mesa();
        let r = roll_up("mesa", &boms, &costs);
        // tablero = 1000.00 × 2.5 × 1.1 + 5000.00 × 0.2 = 3750.00; mesa = 3750.00 + 4 × 1500.00
        assert_eq!(r["tablero"], 375_000);
        assert_eq!(r["mesa"], 975_000);
        assert_eq!(r["pata"], 150_000);
    }

    #[test]
    fn refuses_cycles_at_any_depth_and_bad_lines() {
        let (boms, _) = mesa();
        // madera ← mesa would close mesa → tablero → madera → mesa.
        let p = check_bom("madera", &[c("clavo", 10, 0), c("mesa", 1_000, 0)], &boms);
        assert_eq!(p, vec![("components.1.product_id".to_string(), "bom-cycle")]);
        let p = check_bom("x", &[c("x", 1_000, 0), c("a", 0, 0), c("a", 1, 10_000), c("b", -1, -1)], &boms);
        let keys: Vec<_> = p.iter().map(|(f, k)| (f.as_str(), *k)).collect();
        assert_eq!(
            keys,
            vec![
                ("components.0.product_id", "bom-self"),
                ("components.1.quantity", "quantity-not-positive"),
                ("components.2.scrap_percent", "bom-scrap-invalid"),
                ("components.2.product_id", "bom-duplicate"),
                ("components.3.quantity", "quantity-not-positive"),
                ("components.3.scrap_percent", "bom-scrap-invalid"),
            ]
        );
        assert_eq!(check_bom("x", &[], &boms), vec![("components".to_string(), "bom-empty")]);
        // Replacing mesa's own bill is no cycle.
        assert!(check_bom("mesa", &[c("tablero", 1_000, 0)], &boms).is_empty());
    }

    #[test]
    fn shortages_per_level_and_leaf() {
        let (boms, _) = mesa();
        let lines = explode("mesa", 1_000, &boms);
        let avail: HashMap<String, i64> = [("madera".to_string(), 1_000), ("pata".to_string(), 10_000)].into();
        let (levels, leaves) = shortages(&lines, &avail);
        assert_eq!(levels[0].missing, 1_000, "no tablero in stock");
        let missing: Vec<_> = leaves.iter().map(|s| (s.product_id.as_str(), s.missing)).collect();
        assert_eq!(missing, vec![("madera", 1_750), ("barniz", 200), ("pata", 0)]);
    }

    #[test]
    fn what_was_consumed_sets_the_unit_cost() {
        // 2 tableros at 3750.00 and 8 patas at 1500.00 make 2 mesas: 9750.00 each.
        assert_eq!(made_unit_cost(&[(2_000, 375_000), (8_000, 150_000)], 2_000), 975_000);
        assert_eq!(made_unit_cost(&[(1_000, 100)], 3_000), 33);
        assert_eq!(made_unit_cost(&[(1_000, 100)], 0), 0);
    }

    #[test]
    fn the_life_of_an_order() {
        use Action as A;
        use Status as S;
        assert_eq!(transition(S::Draft, A::Plan), Ok(S::Planned));
        assert_eq!(transition(S::Planned, A::Reserve), Ok(S::Reserved));
        assert_eq!(transition(S::Reserved, A::Produce), Ok(S::Done));
        assert_eq!(transition(S::Draft, A::Produce), Err("production-transition-invalid"));
        assert_eq!(transition(S::Done, A::Cancel), Err("production-done"));
        assert_eq!(transition(S::Cancelled, A::Plan), Err("production-cancelled"));
    }

    #[test]
    fn suggests_buying_or_making_below_the_reorder_point() {
        let p = StockPosition { on_hand: 5_000, reserved: 2_000, reorder_point: 10_000, reorder_quantity: 4_000, ..Default::default() };
        assert_eq!(suggest(&p), Some((Replenish::Buy, 7_000)));
        assert_eq!(suggest(&StockPosition { makeable: true, reorder_quantity: 20_000, ..p }), Some((Replenish::Make, 20_000)));
        assert_eq!(suggest(&StockPosition { open_purchase: 7_000, ..p }), None, "an open order covers it");
    }

    #[test]
    fn a_thousand_components_five_levels_deep_explode_and_cost_fast() {
        let (boms, costs) = wide_tree(1_000);
        let start = std::time::Instant::now();
        let lines = explode("root", 1_000, &boms);
        let cost = roll_up("root", &boms, &costs)["root"];
        assert_eq!(lines.len(), 1_000);
        assert!(cost > 0);
        assert!(start.elapsed().as_millis() < 200, "{:?}", start.elapsed());
    }

    /// A tree of `n` distinct components five levels deep (the benchmark's shape).
    pub fn wide_tree(n: usize) -> (Boms, HashMap<String, i64>) {
        let mut boms = Boms::new();
        let mut costs = HashMap::new();
        let mut level = vec!["root".to_string()];
        let mut made = 0;
        for depth in 1..=5 {
            let per = (n - made).div_ceil(5 - depth + 1).div_ceil(level.len());
            let mut next = Vec::new();
            for parent in &level {
                let mut kids = Vec::new();
                while kids.len() < per && made < n {
                    made += 1;
                    let id = format!("c{made}");
                    costs.insert(id.clone(), 100 + made as i64);
                    next.push(id.clone());
                    kids.push(c(&id, 1_500, 250));
                }
                if !kids.is_empty() {
                    boms.insert(parent.clone(), kids);
                }
            }
            level = next;
        }
        (boms, costs)
    }

    proptest! {
        #[test]
        fn a_chain_never_accepts_its_own_top(depth in 1usize..30, at in 0usize..30) {
            let mut boms = Boms::new();
            for i in 0..depth {
                boms.insert(format!("p{i}"), vec![c(&format!("p{}", i + 1), 1_000, 0)]);
            }
            let target = format!("p{}", at.min(depth));
            // Making the bottom of the chain out of any article above it closes a cycle.
            let p = check_bom(&format!("p{depth}"), &[c(&target, 1_000, 0)], &boms);
            prop_assert!(!p.is_empty());
        }

        #[test]
        fn more_scrap_never_needs_less(need in 0i64..10_000_000, q in 1i64..1_000_000, s1 in 0i64..9_999, s2 in 0i64..9_999) {
            let (lo, hi) = (s1.min(s2), s1.max(s2));
            prop_assert!(gross(need, q, lo) <= gross(need, q, hi));
        }
    }
}
