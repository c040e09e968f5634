// End-to-end journey through the COCO dashboard in real headless Chromium.
//
// Started by crates/coco-server/tests/browser.rs, which runs a server on a scored demo
// portfolio and passes everything this script needs in the environment:
//   COCO_URL             base address of the server (http://127.0.0.1:PORT)
//   COCO_CHROMIUM        the Chromium executable (Debian's /usr/bin/chromium)
//   COCO_ADMIN_PASSWORD  one-time password of user "admin"
//   COCO_VIEWER_PASSWORD one-time password of user "viewer" (role viewer, linked to a CSM)
//   COCO_VIEWER_CSM      the CSM id the viewer is linked to
//   COCO_XSS_ACCOUNT     id of the account whose name is an XSS payload
//   COCO_XSS_NAME        that payload
//   COCO_AS_OF           the as-of date every page must show
//   COCO_TODAY_CSM       a CSM whose day (after the daily runs) has tasks and alerts
//   COCO_ARTIFACTS       where a failing step leaves its screenshot and HTML
//
// Exits 0 when every step passed; otherwise prints the failed step and exits 1.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`dashboard.mjs: environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const base = env("COCO_URL");
const asOf = env("COCO_AS_OF");
const xssName = env("COCO_XSS_NAME");
const artifacts = env("COCO_ARTIFACTS");

const browser = await chromium.launch({
  executablePath: env("COCO_CHROMIUM"),
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});

// Anything a page says about itself that a user would never want: script dialogs (an
// XSS payload that ran), uncaught errors, console errors (CSP violations land there).
const incidents = [];

async function newPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("dialog", async (dialog) => {
    incidents.push(`dialog opened on ${page.url()}: ${dialog.message()}`);
    await dialog.dismiss();
  });
  page.on("pageerror", (error) => incidents.push(`page error on ${page.url()}: ${error}`));
  page.on("console", (message) => {
    if (message.type() === "error") {
      incidents.push(`console error on ${page.url()}: ${message.text()}`);
    }
  });
  return page;
}

let current = null;
async function step(name, body) {
  process.stdout.write(`- ${name} ... `);
  try {
    await body();
    assert.deepEqual(incidents, [], "the page raised incidents");
    console.log("ok");
  } catch (error) {
    console.log("FAILED");
    console.error(error);
    if (current) {
      mkdirSync(artifacts, { recursive: true });
      const stem = join(artifacts, name.replace(/[^a-z0-9]+/gi, "-"));
      await current.screenshot({ path: `${stem}.png`, fullPage: true }).catch(() => {});
      writeFileSync(`${stem}.html`, await current.content().catch(() => ""));
      console.error(`screenshot and HTML of the failing page: ${stem}.{png,html}`);
    }
    await browser.close();
    process.exit(1);
  }
}

const path = (page) => {
  const url = new URL(page.url());
  return url.pathname + url.search;
};

/** Logs in with a one-time password and replaces it, as a new user must. */
async function firstLogin(page, username, oneTime) {
  await page.goto(`${base}/`);
  assert.equal(path(page), "/login?next=%2F", "an anonymous visitor is sent to the login page");
  await page.fill("#login input[name=username]", username);
  await page.fill("#login input[name=password]", oneTime);
  await Promise.all([page.waitForURL("**/password"), page.click("#login button[type=submit]")]);
  // The one-time password must be replaced before anything else opens.
  await page.goto(`${base}/health`);
  assert.equal(path(page), "/password");
  const chosen = `${username}-chose-this-one`;
  await page.fill("#password input[name=current]", oneTime);
  await page.fill("#password input[name=password]", chosen);
  await page.fill("#password input[name=confirm]", chosen);
  await Promise.all([
    page.waitForURL((url) => url.pathname === "/"),
    page.click("#password button[type=submit]"),
  ]);
}

/** The rows of the account table as objects keyed by column header. */
async function tableRows(page) {
  return page.$$eval("#accounts tbody tr", (rows) => {
    const headers = [...document.querySelectorAll("#accounts thead th")].map((th) =>
      th.textContent.trim(),
    );
    return rows
      .filter((row) => row.cells.length === headers.length)
      .map((row) =>
        Object.fromEntries(headers.map((h, i) => [h, row.cells[i].textContent.trim()])),
      );
  });
}

const countOf = async (page) => {
  const text = await page.textContent("p.count");
  const match = /^(\d+) accounts/.exec(text.trim());
  assert.ok(match, `account count line: ${text}`);
  return Number(match[1]);
};

// --- The admin's morning -----------------------------------------------------------

const admin = await newPage();
current = admin;
let unfilteredTotal = 0;

await step("admin logs in and replaces the one-time password", async () => {
  await firstLogin(admin, "admin", env("COCO_ADMIN_PASSWORD"));
  assert.equal(await admin.textContent("h1"), "Portfolio");
});

await step("portfolio shows its as-of date, tiles and SVG charts", async () => {
  assert.equal(await admin.getAttribute("p.asof", "data-as-of"), asOf);
  const accounts = Number(await admin.textContent("#tile-accounts"));
  assert.ok(accounts > 0, "the accounts tile counts accounts");
  unfilteredTotal = await countOf(admin);
  assert.equal(unfilteredTotal, accounts, "the table holds every scored account");
  const charts = await admin.$$eval("section.charts figure", (figures) =>
    figures.map((f) => ({
      caption: f.querySelector("figcaption").textContent,
      svg: !!f.querySelector("svg"),
      marks: f.querySelectorAll("svg rect, svg path, svg polyline").length,
    })),
  );
  assert.equal(charts.length, 3);
  for (const chart of charts) {
    assert.ok(chart.svg && chart.marks > 0, `chart "${chart.caption}" is drawn`);
  }
  // The colour bars really are rendered with a size on screen.
  const box = await admin.locator("section.charts figure svg").first().boundingBox();
  assert.ok(box && box.width > 100 && box.height > 50, "the first chart has a visible size");
  assert.ok((await tableRows(admin)).length > 0, "the account table has rows");
});

let segment = "";
await step("filtering by segment narrows the table to that segment", async () => {
  const options = await admin.$$eval("#filters select[name=segment] option", (opts) =>
    opts.map((o) => o.value).filter((v) => v),
  );
  assert.ok(options.length > 1, "the demo has several segments");
  segment = options[0];
  await admin.selectOption("#filters select[name=segment]", segment);
  await Promise.all([
    admin.waitForURL((url) => url.searchParams.get("segment") === segment),
    admin.click("#filters button[type=submit]"),
  ]);
  const total = await countOf(admin);
  assert.ok(total > 0 && total < unfilteredTotal, `${total} of ${unfilteredTotal} accounts`);
  const rows = await tableRows(admin);
  assert.ok(rows.length > 0);
  for (const row of rows) {
    assert.equal(row.Segment, segment);
  }
  assert.equal(await admin.getAttribute("p.asof", "data-as-of"), asOf);
});

await step("sorting by health keeps the filter and orders the scores", async () => {
  await Promise.all([
    admin.waitForURL((url) => url.searchParams.get("sort") !== null),
    admin.click("#accounts thead th >> text=Health"),
  ]);
  const url = new URL(admin.url());
  assert.equal(url.searchParams.get("segment"), segment);
  const scores = (await tableRows(admin))
    .map((row) => Number(row.Health))
    .filter((score) => !Number.isNaN(score));
  assert.ok(scores.length > 1);
  const ascending = scores.every((s, i) => i === 0 || scores[i - 1] <= s);
  const descending = scores.every((s, i) => i === 0 || scores[i - 1] >= s);
  assert.ok(ascending || descending, `scores are ordered: ${scores.join(", ")}`);
});

let opened = "";
await step("opening an account shows its 360: breakdown, history chart, drivers", async () => {
  const link = admin.locator("#accounts tbody tr td:first-child a").first();
  opened = (await link.textContent()).trim();
  await Promise.all([admin.waitForURL("**/accounts/**"), link.click()]);
  assert.equal((await admin.textContent("#account-name")).trim(), opened);
  assert.equal(await admin.getAttribute("p.asof", "data-as-of"), asOf);
  const score = Number(await admin.textContent("#health-score"));
  assert.ok(score >= 0 && score <= 100, `score ${score}`);
  const components = await admin.$$eval("#breakdown tbody tr", (rows) =>
    rows.map((row) => [...row.cells].map((cell) => cell.textContent.trim())),
  );
  assert.ok(components.length >= 3, "the breakdown lists the scorecard's components");
  for (const [name, , weight] of components) {
    assert.ok(name && /%$/.test(weight), `component ${name} has a weight (${weight})`);
  }
  assert.equal(await admin.locator("#history-chart svg").count(), 1, "history chart drawn");
  const box = await admin.locator("#history-chart svg").boundingBox();
  assert.ok(box && box.width > 100, "history chart is visible");
  assert.ok(await admin.isVisible("#drivers h2"), "drivers of change section");
  assert.ok(await admin.isVisible("#evidence"), "metric evidence section");
  // Churn risk on the account 360: probability, interval and drivers.
  assert.ok(await admin.isVisible("#churn-probability"), "the churn section shows a probability");
  assert.match(await admin.textContent("#churn-interval"), /^\d+%–\d+%$/);
  const accountPage = admin.url();
  await admin.click("header nav a:text-is('Renewals')");
  assert.equal(path(admin), "/renewals");
  const periods = await admin.locator("#forecast tbody tr").count();
  assert.equal(periods, 4, "30/60/90/180-day rows");
  assert.ok((await admin.locator("#upcoming tbody tr").count()) > 0, "upcoming renewals listed");
  assert.ok(await admin.isVisible("#accuracy"), "the earlier forecast is checked against outcomes");
  await admin.fill("#scenario-form input[name=share]", "50%");
  await admin.selectOption("#scenario-form select[name=group]", "critical");
  await Promise.all([admin.waitForURL("**/renewals?**"), admin.click("#scenario-form button")]);
  assert.ok(await admin.isVisible("#scenario"), "the scenario table appears");
  await admin.click("header nav a:text-is('Model')");
  assert.equal(path(admin), "/model");
  const reportCharts = admin.locator("#report svg");
  assert.equal(await reportCharts.count(), 3, "ROC, calibration and lift charts");
  for (let i = 0; i < 3; i++) {
    const chartBox = await reportCharts.nth(i).boundingBox();
    assert.ok(chartBox && chartBox.width > 100 && chartBox.height > 100, `report chart ${i} is visible`);
  }
  assert.ok((await admin.locator("#registry tbody tr").count()) >= 2, "both models in the registry");
  await admin.goto(accountPage);
});

await step("expansion lists the pipeline and filters by light through the form", async () => {
  await admin.click("header nav a:text-is('Expansion')");
  assert.equal(path(admin), "/expansion");
  assert.equal(await admin.getAttribute("p.asof", "data-as-of"), asOf);
  const total = Number(await admin.textContent("#tile-opportunities"));
  assert.ok(total > 0, "the pipeline has opportunities");
  const rows = admin.locator("#opportunities tbody tr[data-id]");
  assert.ok((await rows.count()) > 0, "the prioritised list has rows");
  assert.ok(await rows.first().isVisible(), "the list is visible");
  const ranks = await admin.$$eval("#opportunities tbody tr[data-id] td:first-child", (cells) =>
    cells.map((cell) => Number(cell.textContent.trim())),
  );
  assert.deepEqual(ranks, ranks.map((_, i) => i + 1), "ranked from 1");
  for (const id of ["#by-type", "#by-outreach", "#by-light"]) {
    assert.ok(await admin.isVisible(id), `${id} table`);
  }
  await admin.selectOption("#expansion-filters select[name=light]", "green");
  await Promise.all([
    admin.waitForURL((url) => url.searchParams.get("light") === "green"),
    admin.click("#expansion-filters button[type=submit]"),
  ]);
  const lights = await admin.$$eval("#opportunities tbody tr[data-id]", (trs) =>
    trs.map((tr) => [tr.dataset.light, tr.querySelector(".pill").textContent.trim()]),
  );
  assert.ok(lights.length > 0, "green opportunities listed");
  for (const [light, pill] of lights) {
    assert.equal(light, "green");
    assert.equal(pill, "green");
  }
  const shown = Number(/^(\d+) opportunities/.exec(await admin.textContent("#opportunity-count"))[1]);
  assert.ok(shown > 0 && shown <= total, `${shown} of ${total} are green`);
  assert.equal(await admin.inputValue("#expansion-filters select[name=light]"), "green");
});

await step("an opportunity opens the account 360's expansion and adoption sections", async () => {
  const row = admin.locator("#opportunities tbody tr[data-id]").first();
  const id = await row.getAttribute("data-id");
  await Promise.all([admin.waitForURL("**/accounts/**"), row.locator("td a").first().click()]);
  const article = admin.locator(`#expansion article[data-id="${id}"]`);
  assert.equal(await article.count(), 1, `the account 360 shows ${id}`);
  assert.equal(new URL(admin.url()).hash, `#${await article.getAttribute("id")}`, "the link targets it");
  assert.ok(await article.isVisible());
  assert.ok((await article.locator(".signal-summary").first().textContent()).trim().length > 10);
  assert.ok((await article.locator("table.evidence tbody tr").count()) > 0, "signal evidence");
  assert.ok((await article.locator("ol.steps li").count()) > 0, "sizing steps");
  assert.ok((await article.locator("dl.objections dd").count()) > 0, "objections with answers");
  assert.ok(await article.locator(".next-step").isVisible(), "next step");
  assert.match(await article.locator("h3 .pill").textContent(), /^(green|yellow|red)$/);
  assert.ok(await admin.isVisible("#adoption-level"), "the adoption level");
  assert.ok((await admin.locator("#adoption-features tbody tr").count()) > 0, "features used against entitled");
  assert.ok(await admin.isVisible("#adoption-breadth"));
});

await step("adoption draws the heatmap at a visible size and regroups it", async () => {
  await admin.click("header nav a:text-is('Adoption')");
  assert.equal(path(admin), "/adoption");
  assert.ok((await admin.textContent("#adoption-summary")).trim().startsWith("Of "));
  const heatmap = admin.locator("#heatmap-chart svg.chart-heatmap");
  assert.equal(await heatmap.count(), 1, "one heatmap");
  const box = await heatmap.boundingBox();
  assert.ok(box && box.width > 200 && box.height > 200, `heatmap size ${JSON.stringify(box)}`);
  const cells = admin.locator("#heatmap-chart rect.cell");
  assert.ok((await cells.count()) > 3, "heatmap cells");
  const cellBox = await cells.first().boundingBox();
  assert.ok(cellBox && cellBox.width > 10 && cellBox.height > 5, "cells are drawn");
  // Coloured by the stylesheet: a bucket is not the SVG default black.
  const fills = await admin.$$eval("#heatmap-chart rect.cell", (rects) =>
    [...new Set(rects.map((r) => getComputedStyle(r).fill))],
  );
  assert.ok(!fills.includes("rgb(0, 0, 0)"), `cell colours ${fills.join(", ")}`);
  assert.ok(fills.length > 1, "more than one bucket colour");
  assert.ok((await admin.locator("#attention tbody tr a").count()) > 0, "accounts needing attention");
  assert.ok((await admin.locator("#causes tbody tr[data-cause]").count()) > 0, "low adoption by cause");
  await admin.selectOption("#heatmap-form select[name=by]", "plan_tier");
  await Promise.all([
    admin.waitForURL((url) => url.searchParams.get("by") === "plan_tier"),
    admin.click("#heatmap-form button[type=submit]"),
  ]);
  assert.match(await admin.textContent("#heatmap h2"), /plan tier/);
  assert.equal(await admin.getAttribute("#heatmap-csv", "href"), "/adoption/heatmap.csv?by=plan_tier");
  const csv = await admin.request.get(`${base}${await admin.getAttribute("#heatmap-csv", "href")}`);
  assert.equal(csv.status(), 200);
  assert.match(csv.headers()["content-disposition"], /^attachment; filename="adoption-heatmap-plan_tier-/);
  assert.ok((await csv.text()).startsWith("feature_key,feature_name,group_by,group,"));
  const svg = await admin.request.get(`${base}${await admin.getAttribute("#heatmap-svg", "href")}`);
  assert.equal(svg.headers()["content-type"], "image/svg+xml");
});

/** The rows of a table (by id) as arrays of cell texts. */
async function cells(page, id) {
  return page.$$eval(`#${id} tbody tr`, (rows) =>
    rows.map((row) => [...row.cells].map((cell) => cell.textContent.trim())),
  );
}

/** Asserts an SVG chart inside `selector` is drawn at a visible size, coloured by the stylesheet. */
async function assertChart(page, selector, marks, minimum = 1) {
  const svg = page.locator(`${selector} svg`);
  assert.equal(await svg.count(), 1, `${selector}: one chart`);
  const box = await svg.boundingBox();
  assert.ok(box && box.width > 150 && box.height > 100, `${selector} size ${JSON.stringify(box)}`);
  const count = await page.locator(`${selector} svg ${marks}`).count();
  assert.ok(count >= minimum, `${selector}: ${count} ${marks}`);
  const fills = await page.$$eval(`${selector} svg ${marks}`, (shapes) =>
    [...new Set(shapes.map((s) => getComputedStyle(s).fill))],
  );
  assert.ok(!fills.includes("rgb(0, 0, 0)"), `${selector} colours ${fills.join(", ")}`);
  return count;
}

await step("segments & coverage: the model, the book per tier, misalignment, the matrix, migration", async () => {
  await admin.click("header nav a:text-is('Segments')");
  assert.equal(path(admin), "/segments");
  assert.equal(await admin.getAttribute("p.asof", "data-as-of"), asOf);
  assert.equal((await admin.textContent("h1")).trim(), "Segments & coverage");
  assert.ok((await cells(admin, "factors")).length >= 3, "the model's factors");
  const tiers = await cells(admin, "tiers");
  assert.ok(tiers.length >= 2, "the book per tier");
  await assertChart(admin, "#tier-chart", "rect.bar", tiers.length);
  const api = await (await admin.request.get(`${base}/api/v1/segments/misalignment`)).json();
  assert.equal(Number(await admin.textContent("#misaligned-count")), api.misaligned);
  const rows = admin.locator("#misalignment tbody tr[data-account]");
  assert.ok((await rows.count()) > 0, "misaligned accounts listed");
  assert.equal(await admin.locator("#misalignment tbody tr.top").count(), api.top.length, "the top ones highlighted");
  assert.equal(await rows.first().getAttribute("data-account"), api.top[0].account_id);
  assert.ok((await cells(admin, "coverage-matrix")).length > 0, "the coverage matrix");
  assert.ok(await admin.isVisible("#upgrades") && await admin.isVisible("#downgrades"));
  // An account id opens the account 360 at its tier.
  await Promise.all([admin.waitForURL("**/accounts/**"), rows.first().locator("td a").first().click()]);
  assert.equal(new URL(admin.url()).hash, "#tier");
  assert.ok(await admin.isVisible("#tier-label"), "the tier on the account 360");
  assert.ok((await cells(admin, "tier-factors")).length >= 3, "the factor breakdown");
});

await step("workload: load per CSM as bars, the table, the capacity plan, the rebalancing proposal", async () => {
  await admin.click("header nav a:text-is('Workload')");
  assert.equal(path(admin), "/workload");
  assert.equal(await admin.getAttribute("p.asof", "data-as-of"), asOf);
  const active = Number(await admin.textContent("#active-csms"));
  assert.ok(active > 0, "active CSMs");
  const bars = await assertChart(admin, "#load-chart", "rect.bar", 1);
  assert.equal(bars, active, "one bar per active CSM");
  const overloaded = Number(await admin.textContent("#overloaded"));
  assert.equal(await admin.locator("#load-chart svg rect.bar.red").count(), overloaded, "overloaded CSMs marked red");
  const csms = await cells(admin, "csms");
  assert.ok(csms.length >= active, "every CSM in the table");
  assert.ok(csms.every((row) => /%$/.test(row[7])), "load as a percentage");
  assert.ok((await admin.textContent("#capacity-assumption")).startsWith("Assuming "));
  assert.ok(await admin.isVisible("#rebalance-spread"));
  assert.equal((await cells(admin, "rebalance-spread")).length, 3, "before, after the forced moves, after");
  assert.ok((await cells(admin, "moves")).length > 0, "the moves");
});

await step("journey: stages, the milestone heatmap, churned vs retained, drop-off, the priority list", async () => {
  await admin.click("header nav a:text-is('Journey')");
  assert.equal(path(admin), "/journey");
  assert.equal(await admin.getAttribute("p.asof", "data-as-of"), asOf);
  const stages = await cells(admin, "stages");
  assert.ok(stages.length >= 3, "the stages");
  await assertChart(admin, "#stage-chart", "rect.bar", 2);
  const heatmapCells = await assertChart(admin, "#milestone-heatmap", "rect.cell", 4);
  const milestones = await cells(admin, "milestones");
  assert.ok(milestones.length >= 2, "the milestone table");
  assert.equal(heatmapCells % milestones.length, 0, "milestones × cohorts cells");
  assert.ok((await cells(admin, "variables")).length > 0, "the comparison's variables");
  assert.ok((await cells(admin, "predictability")).length > 0, "AUC by lead");
  await assertChart(admin, "#dropoff-chart", "rect.bar", 1);
  const priority = admin.locator("#priority tbody tr[data-account]");
  assert.equal(await priority.count(), 25, "the first 25 scorecards");
  const api = await (await admin.request.get(`${base}/api/v1/journey/scorecards`)).json();
  assert.equal(await priority.first().getAttribute("data-account"), api.scorecards[0].account_id);
  assert.equal(await priority.first().getAttribute("data-severity"), api.scorecards[0].severity);
  // The first account's scorecard on its 360, with its stage and interactions.
  await Promise.all([admin.waitForURL("**/accounts/**"), priority.first().locator("td a").click()]);
  assert.equal(new URL(admin.url()).hash, "#journey-scorecard");
  assert.equal((await admin.textContent("#journey-severity")).trim(), api.scorecards[0].severity.replace("_", " "));
  assert.equal(Number(await admin.textContent("#journey-score")), Math.round(api.scorecards[0].journey_score));
  assert.ok((await cells(admin, "milestone-checks")).length > 0, "milestone checks");
  assert.ok((await cells(admin, "variable-checks")).length > 0, "variable checks");
  assert.ok(await admin.isVisible("#journey-stage"), "the stage");
  assert.equal((await admin.textContent("#journey-stage")).trim(), api.scorecards[0].stage.stage_label);
  assert.ok(await admin.isVisible("#interactions-summary"), "the interaction timeline");
  assert.ok((await cells(admin, "interaction-events")).length > 0, "interaction events");
  assert.ok(await admin.isVisible("#stakeholders"), "stakeholder coverage");
});

await step("onboarding: counts, the accounts, the cohorts; filtered by status through the form", async () => {
  await admin.click("header nav a:text-is('Onboarding')");
  assert.equal(path(admin), "/onboarding");
  assert.equal(await admin.getAttribute("p.asof", "data-as-of"), asOf);
  const total = Number(await admin.textContent("#onboarding-total"));
  const rows = admin.locator("#onboarding-accounts tbody tr[data-account]");
  assert.equal(await rows.count(), Math.min(total, 200));
  assert.ok(total > 0, "accounts onboarding");
  assert.ok((await cells(admin, "cohorts")).length > 0, "the cohorts");
  const status = await rows.first().getAttribute("data-status");
  await admin.selectOption("#onboarding-filters select[name=status]", status);
  await Promise.all([
    admin.waitForURL((url) => url.searchParams.get("status") === status),
    admin.click("#onboarding-filters button[type=submit]"),
  ]);
  const statuses = await admin.$$eval("#onboarding-accounts tbody tr[data-account]", (trs) => trs.map((tr) => tr.dataset.status));
  assert.ok(statuses.length > 0 && statuses.every((s) => s === status), `only ${status}`);
  const link = admin.locator("#onboarding-accounts tbody tr[data-account] td a").first();
  await Promise.all([admin.waitForURL("**/accounts/**"), link.click()]);
  assert.ok(await admin.isVisible("#journey-stage"), "the onboarding account's stage");
});

await step("an account named with <script> renders as text", async () => {
  await admin.goto(`${base}/accounts/${encodeURIComponent(env("COCO_XSS_ACCOUNT"))}`);
  assert.equal((await admin.textContent("#account-name")).trim(), xssName);
  assert.equal(await admin.locator("script").count(), 0, "no script element on the page");
  // The title carries the name too, as text.
  assert.ok((await admin.title()).startsWith(xssName));
  // Search for it through the table: the link text is the literal payload.
  await admin.goto(`${base}/health?sort=name`);
  const names = (await tableRows(admin)).map((row) => row.Account);
  assert.ok(names.includes(xssName), "the payload is listed, as text, in the health list");
  assert.equal(await admin.locator("script").count(), 0);
});

// --- My day, alerts and tasks --------------------------------------------------------

/** My day's items: rank, kind, task and alert ids, in page order. */
async function todayItems(page) {
  return page.$$eval("#today-items li[data-rank]", (lis) =>
    lis.map((li) => ({
      rank: Number(li.dataset.rank),
      kind: li.dataset.kind,
      task: li.dataset.taskId || null,
      alert: li.dataset.alertId || null,
    })),
  );
}

await step("admin opens My day, picks a CSM and sees their items in rank order", async () => {
  await admin.click("header nav a:text-is('My day')");
  await admin.waitForURL("**/today");
  // The admin is not linked to a CSM: the page asks them to pick one.
  assert.ok(await admin.isVisible("#today-pick"));
  await admin.selectOption("#today-filters select[name=csm]", env("COCO_TODAY_CSM"));
  await Promise.all([
    admin.waitForURL((url) => url.searchParams.get("csm") === env("COCO_TODAY_CSM")),
    admin.click("#today-filters button[type=submit]"),
  ]);
  const items = await todayItems(admin);
  assert.ok(items.length > 0, "items on the list");
  assert.deepEqual(
    items.map((i) => i.rank),
    items.map((_, i) => i + 1),
    "ranks 1, 2, 3 … in page order",
  );
  assert.ok(items.some((i) => i.kind === "task"), "a task on the list");
  assert.ok(items.some((i) => i.kind === "alert"), "an alert on the list");
  assert.ok((await admin.textContent("h1")).startsWith("My day — "));
});

await step("admin clicks Done on a task and it leaves the list", async () => {
  const before = await todayItems(admin);
  const task = before.find((i) => i.kind === "task").task;
  const item = admin.locator(`#today-items li[data-task-id="${task}"]`);
  await item.locator("button.done").click();
  // The form posts and comes back to the same list: the item goes when it reloads.
  await item.waitFor({ state: "detached" });
  await admin.waitForLoadState("load");
  assert.equal(path(admin), `/today?csm=${env("COCO_TODAY_CSM")}`);
  const after = await todayItems(admin);
  assert.equal(after.filter((i) => i.task === task).length, 0, "the task is gone");
  assert.deepEqual(after.map((i) => i.rank), after.map((_, i) => i + 1), "ranked again");
  // The task list says it is done, by the admin.
  await admin.goto(`${base}/tasks?status=done`);
  const row = admin.locator(`#tasks tr[data-task-id="${task}"]`);
  assert.equal(await row.count(), 1);
  assert.ok((await row.textContent()).includes("by admin"));
});

await step("admin opens an alert from My day and sees its evidence, then acknowledges it", async () => {
  await admin.goto(`${base}/today?csm=${encodeURIComponent(env("COCO_TODAY_CSM"))}`);
  const alert = (await todayItems(admin)).find((i) => i.kind === "alert").alert;
  await Promise.all([
    admin.waitForURL(`**/alerts/${alert}`),
    admin.click(`#today-items li[data-alert-id="${alert}"] a[href="/alerts/${alert}"]`),
  ]);
  assert.ok((await admin.textContent("#alert-headline")).trim().length > 0, "the headline");
  const evidence = await admin.$$eval("#alert-evidence .evidence p", (ps) => ps.map((p) => p.textContent.trim()));
  assert.ok(evidence.length > 0 && evidence.every((t) => t.length > 0), "the evidence sentences");
  assert.ok(await admin.isVisible("#alert-facts"));
  assert.ok(await admin.isVisible("#alert-routing"));
  assert.equal(await admin.textContent("#alert-status"), "open");
  await admin.click("#alert-ack button[type=submit]");
  // Back on the same page, reloaded: the status says so.
  await admin.waitForSelector("#alert-status:text-is('acknowledged')");
  assert.equal(path(admin), `/alerts/${alert}`);
  assert.equal(await admin.locator("#alert-ack").count(), 0, "no second acknowledgement");
});

await step("admin filters the alerts inbox by tier and opens an account's alerts and tasks", async () => {
  await admin.click("header nav a:text-is('Alerts')");
  await admin.waitForURL("**/alerts");
  const rows = admin.locator("#alerts tbody tr[data-alert-id]");
  assert.ok((await rows.count()) > 0, "open alerts");
  const tier = await rows.first().getAttribute("data-tier");
  await admin.selectOption("#alert-filters select[name=tier]", tier);
  await Promise.all([
    admin.waitForURL((url) => url.searchParams.get("tier") === tier),
    admin.click("#alert-filters button[type=submit]"),
  ]);
  const tiers = await admin.$$eval("#alerts tbody tr[data-alert-id]", (trs) => trs.map((tr) => tr.dataset.tier));
  assert.ok(tiers.length > 0 && tiers.every((t) => t === tier), `only ${tier} alerts`);
  // The first alert's account: its 360 lists the alert, linked.
  const alert = await rows.first().getAttribute("data-alert-id");
  await Promise.all([
    admin.waitForURL("**/accounts/**"),
    rows.first().locator("td:nth-child(4) a").click(),
  ]);
  assert.ok(await admin.isVisible("#account-actions"));
  assert.equal(await admin.locator(`#account-alerts a[href="/alerts/${alert}"]`).count(), 2);
});

await step("admin sees the ingest page", async () => {
  assert.equal(await admin.locator("header nav a", { hasText: "Ingest" }).count(), 1);
  const response = await admin.goto(`${base}/ingest`);
  assert.equal(response.status(), 200);
  assert.ok(await admin.isVisible("form input[type=file]"));
});

await step("admin scores today and the portfolio moves to that snapshot", async () => {
  await admin.goto(`${base}/`);
  await Promise.all([admin.waitForURL("**/score"), admin.click("#score-now")]);
  const today = new Date().toISOString().slice(0, 10);
  assert.equal(await admin.getAttribute("p.asof", "data-as-of"), today);
  assert.ok((await admin.textContent("h1")).includes(today));
  assert.ok((await admin.locator("#colours li").count()) >= 1);
  await admin.click("text=Open the portfolio");
  await admin.waitForURL((url) => url.pathname === "/");
  assert.equal(await admin.getAttribute("p.asof", "data-as-of"), today);
});

await step("admin adds a user and sees it in the audit log", async () => {
  await admin.click("header nav a >> text=Admin");
  await admin.waitForURL("**/admin");
  await admin.fill("#add-user input[name=username]", "casey");
  await admin.fill("#add-user input[name=display_name]", "Casey <i>CSM</i>");
  await admin.selectOption("#add-user select[name=role]", "csm");
  await Promise.all([admin.waitForLoadState("load"), admin.click("#add-user button[type=submit]")]);
  await admin.waitForSelector("#notice");
  assert.match(await admin.textContent("#notice"), /User casey \(csm\) added\. One-time password, shown once: \S{12,}/);
  assert.equal(await admin.locator("#users tr[data-username=casey]").count(), 1);
  assert.ok((await admin.textContent("#users")).includes("Casey <i>CSM</i>"), "the name is shown as text");
  assert.ok((await admin.textContent("#audit tbody tr:first-child")).includes("user.add"));
  // An admin cannot disable themselves.
  await Promise.all([
    admin.waitForLoadState("load"),
    admin.click("#users tr[data-username=admin] button:text('Disable')"),
  ]);
  assert.ok((await admin.textContent("main")).includes("you cannot disable or demote yourself"));
  const expected = incidents.findIndex((line) => line.includes("status of 400"));
  if (expected >= 0) incidents.splice(expected, 1);
});

await step("logging out ends the session", async () => {
  await admin.goto(`${base}/`);
  await Promise.all([admin.waitForURL("**/login"), admin.click("#logout")]);
  await admin.goto(`${base}/health`);
  assert.equal(path(admin), "/login?next=%2Fhealth", "the old session no longer opens pages");
});

// --- A viewer ----------------------------------------------------------------------

const viewer = await newPage();
current = viewer;

await step("a viewer logs in and sees their book", async () => {
  await firstLogin(viewer, "viewer", env("COCO_VIEWER_PASSWORD"));
  await viewer.click("header nav a >> text=My book");
  await viewer.waitForURL("**/book**");
  const csm = env("COCO_VIEWER_CSM");
  const rows = await tableRows(viewer);
  assert.ok(rows.length > 0, "the viewer's CSM has accounts");
  for (const row of rows) {
    assert.equal(row.CSM, csm);
  }
});

await step("a viewer sees their CSM's day, without buttons to change it", async () => {
  await viewer.click("header nav a:text-is('My day')");
  await viewer.waitForURL("**/today");
  assert.equal(await viewer.locator("#today-pick").count(), 0, "the viewer is linked to a CSM");
  assert.equal(await viewer.locator("#today-filters").count(), 0, "no CSM to pick");
  assert.equal(await viewer.locator("#today-items button").count(), 0, "no Done or Ack");
  await viewer.goto(`${base}/tasks`);
  assert.equal(await viewer.locator("#tasks form").count(), 0);
});

await step("a viewer reads the expansion, adoption, segments, workload, journey and onboarding pages", async () => {
  const expansion = await viewer.goto(`${base}/expansion?type=seats`);
  assert.equal(expansion.status(), 200);
  const types = await viewer.$$eval("#opportunities tbody tr[data-id]", (trs) => trs.map((tr) => tr.dataset.type));
  assert.ok(types.every((t) => t === "seats"), "only seats opportunities");
  const adoption = await viewer.goto(`${base}/adoption`);
  assert.equal(adoption.status(), 200);
  assert.equal(await viewer.locator("#heatmap-chart svg").count(), 1);
  for (const page of ["segments", "workload", "journey", "onboarding"]) {
    const response = await viewer.goto(`${base}/${page}`);
    assert.equal(response.status(), 200, `/${page}`);
  }
  await viewer.goto(`${base}/journey`);
  assert.equal(await viewer.locator("#milestone-heatmap svg").count(), 1);
});

await step("a viewer cannot reach ingest, scoring or admin", async () => {
  assert.equal(await viewer.locator("header nav a", { hasText: "Ingest" }).count(), 0);
  assert.equal(await viewer.locator("header nav a", { hasText: "Admin" }).count(), 0);
  assert.equal(await viewer.locator("#score-now").count(), 0);
  const admin403 = await viewer.goto(`${base}/admin`);
  assert.equal(admin403.status(), 403);
  const seen = incidents.findIndex((line) => line.includes("status of 403"));
  if (seen >= 0) incidents.splice(seen, 1);
  await viewer.goto(`${base}/`);
  const response = await viewer.goto(`${base}/ingest`);
  assert.equal(response.status(), 403);
  // Chromium logs every 4xx document as a console error; this one is the point.
  const expected = incidents.findIndex((line) => line.includes("status of 403"));
  assert.ok(expected >= 0, "Chromium saw the 403");
  incidents.splice(expected, 1);
  assert.equal(await viewer.textContent("h1"), "403 Forbidden");
  assert.equal(await viewer.locator("input[type=file]").count(), 0);
});

await browser.close();
console.log("all browser steps passed");
