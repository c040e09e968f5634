// Drafts in real headless Chromium: an account's Draft menu → the QBR for review (cited
// facts, footnotes, grounding), Copy (the Markdown on the clipboard, "Copied" shown),
// the PPTX download, the locale switch, the motive picker, the Reports page, a report
// and a one-account report through its form.
//
// Started by crates/coco-server/tests/browser.rs (`drafts_are_reviewed_in_chromium`):
//   COCO_URL             base address of the server (http://127.0.0.1:PORT)
//   COCO_CHROMIUM        the Chromium executable
//   COCO_ADMIN_PASSWORD  one-time password of user "admin"
//   COCO_ACCOUNT         the account whose drafts are reviewed
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
    console.error(`drafts.mjs: environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const base = env("COCO_URL");
const account = env("COCO_ACCOUNT");
const artifacts = env("COCO_ARTIFACTS");

const browser = await chromium.launch({
  executablePath: env("COCO_CHROMIUM"),
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
// The Copy button writes to the clipboard; the test reads it back.
const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
const page = await context.newPage();
const incidents = [];
page.on("dialog", async (dialog) => {
  incidents.push(`dialog opened on ${page.url()}: ${dialog.message()}`);
  await dialog.dismiss();
});
page.on("pageerror", (error) => incidents.push(`page error on ${page.url()}: ${error}`));
page.on("console", (message) => {
  if (message.type() === "error") incidents.push(`console error on ${page.url()}: ${message.text()}`);
});

async function step(name, body) {
  process.stdout.write(`- ${name} ... `);
  try {
    await body();
    assert.deepEqual(incidents, [], "the page raised incidents");
    console.log("ok");
  } catch (error) {
    console.log("FAILED");
    console.error(error);
    mkdirSync(artifacts, { recursive: true });
    const stem = join(artifacts, `drafts-${name.replace(/[^a-z0-9]+/gi, "-")}`);
    await page.screenshot({ path: `${stem}.png`, fullPage: true }).catch(() => {});
    writeFileSync(`${stem}.html`, await page.content().catch(() => ""));
    console.error(`screenshot and HTML of the failing page: ${stem}.{png,html}`);
    await browser.close();
    process.exit(1);
  }
}

await step("admin logs in and replaces the one-time password", async () => {
  await page.goto(`${base}/`);
  await page.fill("#login input[name=username]", "admin");
  await page.fill("#login input[name=password]", env("COCO_ADMIN_PASSWORD"));
  await Promise.all([page.waitForURL("**/password"), page.click("#login button[type=submit]")]);
  const chosen = "admin-chose-this-one";
  await page.fill("#password input[name=current]", env("COCO_ADMIN_PASSWORD"));
  await page.fill("#password input[name=password]", chosen);
  await page.fill("#password input[name=confirm]", chosen);
  await Promise.all([
    page.waitForURL((url) => url.pathname === "/"),
    page.click("#password button[type=submit]"),
  ]);
});

await step("the account 360 offers every draft", async () => {
  await page.goto(`${base}/accounts/${encodeURIComponent(account)}`);
  const documents = await page.$$eval("#draft-menu a", (links) => links.map((a) => a.dataset.document));
  for (const document of ["outreach", "sequence", "qbr", "ebr", "plan", "playbook"]) {
    assert.ok(documents.includes(document), `the Draft menu offers ${document}: ${documents}`);
  }
});

await step("Draft → QBR shows the draft with its citations", async () => {
  await Promise.all([
    page.waitForURL((url) => url.pathname.endsWith("/drafts/qbr")),
    page.click("#draft-menu a[data-document=qbr]"),
  ]);
  assert.equal(await page.getAttribute("#draft-review", "data-template"), "qbr");
  assert.ok((await page.locator("#draft-body .fact").count()) > 0, "cited facts in the text");
  assert.ok((await page.locator("#draft-body ol.citations li").count()) > 0, "footnotes");
  const title = await page.getAttribute("#draft-body .fact", "title");
  assert.ok(title && title.length > 0, "a fact's hover names its source");
  assert.match(await page.textContent("#draft-grounding"), /\d+ claims, every number cited/);
  assert.ok(await page.locator("#draft-body h1, #draft-body h2").first().isVisible());
});

await step("Copy puts the Markdown on the clipboard and says Copied", async () => {
  assert.equal(await page.locator("#draft-copied").isVisible(), false);
  await page.click("#draft-copy");
  await page.waitForSelector("#draft-copied:not([hidden])");
  assert.equal((await page.textContent("#draft-copied")).trim(), "Copied");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const markdown = await page.inputValue("#draft-markdown");
  assert.equal(copied, markdown);
  assert.ok(markdown.length > 100, "the whole draft was copied");
});

await step("the PPTX download link answers a deck", async () => {
  const href = await page.getAttribute("a.download[data-format=pptx]", "href");
  assert.ok(href.includes("format=pptx"), href);
  const response = await page.request.get(new URL(href, base).toString());
  assert.equal(response.status(), 200);
  assert.equal(
    response.headers()["content-type"],
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  );
  assert.match(response.headers()["content-disposition"], /^attachment; filename=".+\.pptx"$/);
  const body = await response.body();
  assert.equal(body.subarray(0, 2).toString(), "PK");
  for (const format of ["md", "html"]) {
    const link = await page.getAttribute(`a.download[data-format=${format}]`, "href");
    assert.equal((await page.request.get(new URL(link, base).toString())).status(), 200, format);
  }
});

await step("the locale switch writes it in Chinese", async () => {
  await Promise.all([
    page.waitForURL((url) => url.searchParams.get("locale") === "zh"),
    page.click("#draft-locales a[data-locale=zh]"),
  ]);
  assert.equal(await page.getAttribute("#draft-review", "data-locale"), "zh");
  assert.match(await page.textContent("#draft-body"), /[\u4e00-\u9fff]/);
  assert.ok((await page.locator("#draft-body .fact").count()) > 0);
});

await step("the outreach motive picker rewrites the email", async () => {
  await page.goto(`${base}/accounts/${encodeURIComponent(account)}/drafts/outreach`);
  await page.selectOption("#draft-motive", "expansion");
  await Promise.all([
    page.waitForURL((url) => url.searchParams.get("motive") === "expansion"),
    page.click("#draft-options button[type=submit]"),
  ]);
  assert.equal(await page.getAttribute("#draft-review", "data-template"), "outreach_expansion");
});

await step("Reports lists the reports and opens one", async () => {
  await Promise.all([
    page.waitForURL((url) => url.pathname === "/reports"),
    page.click("header nav a[href='/reports']"),
  ]);
  assert.equal(await page.textContent("h1"), "Reports");
  assert.ok((await page.locator("#reports tr[data-report=portfolio]").count()) === 1);
  assert.ok((await page.locator("#handbook-link").count()) === 1);
  await Promise.all([
    page.waitForURL((url) => url.pathname === "/reports/portfolio"),
    page.click("#reports tr[data-report=portfolio] a"),
  ]);
  assert.equal(await page.getAttribute("#draft-review", "data-template"), "portfolio");
  assert.ok((await page.locator("#draft-body .fact").count()) > 0);
});

await step("a one-account report is asked for through its form", async () => {
  await page.goto(`${base}/reports`);
  await page.fill("#reports tr[data-report=benchmark] input[name=account]", account);
  await Promise.all([
    page.waitForURL((url) => url.pathname === "/reports/benchmark"),
    page.click("#reports tr[data-report=benchmark] button[type=submit]"),
  ]);
  assert.equal(await page.getAttribute("#draft-review", "data-template"), "benchmark");
  assert.equal(await page.inputValue("#draft-options input[name=account]"), account);
  assert.ok((await page.locator("#draft-body .fact").count()) > 0);
});

await browser.close();
console.log("all draft steps passed");
