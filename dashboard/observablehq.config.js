// The omnikpi dashboard: Observable Framework pages over the KPI views.
// dashboard/build.sh builds it; the data loaders in src/data read the views
// through psql as the BI role named by the PG* variables.
export default {
  title: "omnikpi",
  root: "src",
  output: process.env.OMNIKPI_DASHBOARD_OUTPUT ?? "dist",
  pages: [
    {name: "Experience rating", path: "/experience-rating"},
    {name: "Integration index", path: "/integration"},
    {name: "Channels", path: "/channels"},
    {name: "CSAT, CES and NPS", path: "/satisfaction"},
    {name: "Attribution", path: "/attribution"},
    {name: "Journeys", path: "/journeys"},
    {name: "Fulfillment", path: "/fulfillment"}
  ],
  // Nothing is fetched from outside: no search index to load, no links home.
  search: false,
  footer: "omnikpi: customer-experience KPIs computed in PostgreSQL."
};
