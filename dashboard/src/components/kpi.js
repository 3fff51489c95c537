// Helpers the pages share: formatting as the tests read it back, the latest
// period of a series, and the attribution models' names and order.

// fixed(x, digits): x with that many decimals, as Number.prototype.toFixed
// writes it; "–" for a missing value.
export function fixed(x, digits = 1) {
  return x == null ? "–" : x.toFixed(digits);
}

// The row of rows whose key (an ISO date) is the latest.
export function latest(rows, key) {
  return rows.reduce((a, b) => (b[key] > a[key] ? b : a), rows[0]);
}

export const monthLabel = (date) => date.slice(0, 7);

export function quarterLabel(date) {
  return `${date.slice(0, 4)}-Q${Math.floor((Number(date.slice(5, 7)) - 1) / 3) + 1}`;
}

// The months of rows from `count` months before the latest one on.
export function lastMonths(rows, count) {
  const months = [...new Set(rows.map((d) => d.month))].sort();
  const keep = new Set(months.slice(-count));
  return rows.filter((d) => keep.has(d.month));
}

// Every attribution model, in the order the pages show them.
export const models = [
  {model: "last_touch", label: "Last touch", family: "rule-based"},
  {model: "first_touch", label: "First touch", family: "rule-based"},
  {model: "linear", label: "Linear", family: "rule-based"},
  {model: "position_based", label: "Position-based", family: "rule-based"},
  {model: "j_curve", label: "J-curve", family: "rule-based"},
  {model: "inverse_j", label: "Inverse J", family: "rule-based"},
  {model: "time_decay", label: "Time decay", family: "rule-based"},
  {model: "markov", label: "Markov", family: "data-driven"},
  {model: "shapley_conversions", label: "Shapley", family: "data-driven"},
  {model: "shapley_conversion_rate", label: "Shapley (rate)", family: "data-driven"},
  {model: "fractribution", label: "Fractribution", family: "data-driven"}
];
