/**
 * The fulfillment workflow widgets of the plugin in Medusa's admin: the order page's side panel, the
 * orders list summary and "Resend to workflow". The orders are real and prepared by the pytest side,
 * which also checks the engine after a resend; this side checks what a person sees, and which requests
 * the widgets make (how often, with which auth).
 *
 * Environment: MEDUSA_URL, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TEST_ORDERS (JSON, see `Orders`), optionally
 * ADMIN_SCREENSHOT_DIR (where the pictures for the documentation are written), and for the JWT test
 * ADMIN_JWT_BUILD_DIR and ADMIN_JWT_TOKEN_STORAGE_KEY (a dashboard built with ADMIN_AUTH_TYPE=jwt).
 */
import { expect, type Locator, type Page, type Request, test } from "@playwright/test"
import { existsSync, statSync } from "node:fs"
import { join, normalize } from "node:path"

interface TestOrder {
  id: string
  display_id: number
  status: string | null
  message: string | null
}

interface Orders {
  completed: TestOrder
  failed: TestOrder
  unstarted: TestOrder
  /** Never reached the workflow, placed two hours ago, then canceled by staff (recorded by the reconciliation). */
  canceled: TestOrder
  /** A draft order (not converted), created two hours ago. */
  draft: TestOrder
  /** A converted draft order the workflow waits to see paid (`awaiting_payment`). */
  awaiting: TestOrder
}

const orders = JSON.parse(required("ADMIN_TEST_ORDERS")) as Orders
const WIDGET_ROUTE = "/admin/fulfillment-workflow"
/**
 * How long a panel is watched for requests it should not make. The panel before this version read every
 * 5 seconds whatever the order's state: 12 seconds covers two such reads.
 */
const QUIET_WINDOW_MS = 12_000

function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} must be set (tests/e2e/test_admin_widgets.py sets it)`)
  return value
}

async function logIn(page: Page): Promise<void> {
  await page.goto("/app/login")
  await page.locator('input[name="email"]').fill(required("ADMIN_EMAIL"))
  await page.locator('input[name="password"]').fill(required("ADMIN_PASSWORD"))
  await page.locator('button[type="submit"]').click()
  await expect(page).toHaveURL(/\/app\/orders/)
}

async function openOrder(page: Page, order: TestOrder): Promise<Locator> {
  await page.goto(`/app/orders/${order.id}`)
  const widget = page.getByTestId("fulfillment-workflow")
  await expect(widget).toBeVisible()
  await widget.scrollIntoViewIfNeeded()
  return widget
}

async function expectSteps(widget: Locator, marks: Record<string, string>): Promise<void> {
  for (const [step, mark] of Object.entries(marks)) {
    const row = widget.locator(`[data-step="${step}"]`)
    await expect(row).toHaveAttribute("data-mark", mark)
    await expect(row).toContainText(mark)
  }
}

async function saveScreenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.ADMIN_SCREENSHOT_DIR
  if (dir) await page.screenshot({ path: join(dir, name) })
}

async function resend(page: Page, widget: Locator, order: TestOrder): Promise<void> {
  await widget.getByRole("button", { name: "Resend to workflow" }).click()
  const prompt = page.getByRole("alertdialog")
  await expect(prompt).toContainText(`Resend order #${order.display_id} to the workflow?`)
  await prompt.getByRole("button", { name: "Resend", exact: true }).click()
  await expect(prompt).toBeHidden()
}

/** The widget's reads of one order's workflow (GET /admin/fulfillment-workflow/orders/{id}), as they start. */
function orderReads(page: Page, order: TestOrder): Request[] {
  const reads: Request[] = []
  const path = `${WIDGET_ROUTE}/orders/${order.id}`
  page.on("request", (request) => {
    if (request.method() === "GET" && new URL(request.url()).pathname === path) reads.push(request)
  })
  return reads
}

/**
 * Watches the page for a window and expects no further reads of the order's workflow. A window, not a
 * condition, on purpose: what is checked is that nothing happens in it.
 */
async function expectNoMoreReads(page: Page, reads: Request[]): Promise<void> {
  const before = reads.length
  await page.waitForTimeout(QUIET_WINDOW_MS)
  expect(reads.length, `reads of the order's workflow within ${QUIET_WINDOW_MS} ms after it loaded`).toBe(before)
}

/** The seconds between consecutive request starts are the expected ones, within the time a request takes. */
function expectGaps(startedAt: number[], expectedSeconds: number[]): void {
  const gaps = startedAt.slice(1).map((at, index) => (at - startedAt[index]) / 1000)
  expectedSeconds.forEach((seconds, index) => {
    const label = `gap ${index + 1} of ${JSON.stringify(gaps)} s`
    expect(gaps[index], label).toBeGreaterThanOrEqual(seconds - 0.5)
    expect(gaps[index], label).toBeLessThan(seconds + 4)
  })
}

/** Who the request says it is: its Authorization header and its cookies, as the browser sent them. */
async function credentials(request: Request): Promise<{ authorization?: string; cookie?: string }> {
  const headers = await request.allHeaders()
  return { authorization: headers.authorization, cookie: headers.cookie }
}

/**
 * The same page with the dashboard's own request for the order and the widget's request for its workflow:
 * both are GETs the admin makes while the order page loads.
 */
async function orderPageRequests(page: Page, order: TestOrder): Promise<{ dashboard: Request; widget: Request }> {
  const dashboard = page.waitForRequest((r) => new URL(r.url()).pathname === `/admin/orders/${order.id}`)
  const widget = page.waitForRequest((r) => new URL(r.url()).pathname === `${WIDGET_ROUTE}/orders/${order.id}`)
  await page.goto(`/app/orders/${order.id}`)
  return { dashboard: await dashboard, widget: await widget }
}

async function expectSameCredentials(page: Page, order: TestOrder): Promise<{ authorization?: string; cookie?: string }> {
  const { dashboard, widget } = await orderPageRequests(page, order)
  const expected = await credentials(dashboard)
  expect(await credentials(widget)).toEqual(expected)
  expect((await widget.response())?.status()).toBe(200)
  await expect(page.getByTestId("workflow-status")).toHaveText("Completed")
  return expected
}

test.describe("with the dashboard's default session auth", () => {
  test.beforeEach(async ({ page }) => {
    await logIn(page)
  })

  test("order page: completed order", async ({ page }) => {
    const reads = orderReads(page, orders.completed)
    const widget = await openOrder(page, orders.completed)
    const badge = widget.getByTestId("workflow-status")
    await expect(badge).toHaveText("Completed")
    await expect(badge).toHaveAttribute("data-state", "completed")
    await expectSteps(widget, { payment: "done", inventory: "done", notification: "done" })
    await expect(widget.getByTestId("workflow-summary")).toHaveText(
      "Done: payment verified, stock reserved, order confirmed to the customer."
    )
    await expect(widget.getByTestId("workflow-message")).toHaveText(orders.completed.message ?? "")
    await expect(widget.getByTestId("workflow-updated")).toContainText(/Updated .*ago|Updated now/)
    await expect(widget.getByTestId("workflow-instance")).toHaveText(/^\d+$/)
    await expect(widget.getByTestId("workflow-stalled")).toHaveCount(0)
    await saveScreenshot(page, "admin-order-completed.png")
    // The process has ended: the panel reads it once and then leaves the shop alone.
    await expectNoMoreReads(page, reads)
    expect(reads).toHaveLength(1)
  })

  test("order page: failed order", async ({ page }) => {
    const widget = await openOrder(page, orders.failed)
    const badge = widget.getByTestId("workflow-status")
    await expect(badge).toHaveText("Out of stock")
    await expect(badge).toHaveAttribute("data-state", "failed")
    await expectSteps(widget, { payment: "done", inventory: "failed", notification: "pending" })
    await expect(widget.getByTestId("workflow-summary")).toHaveText(
      "Some items are not in stock; the order is held for staff to decide."
    )
    await expect(widget.getByTestId("workflow-message")).toHaveText(orders.failed.message ?? "")
    await saveScreenshot(page, "admin-order-failed.png")
  })

  test("order page: canceled order", async ({ page }) => {
    const reads = orderReads(page, orders.canceled)
    const widget = await openOrder(page, orders.canceled)
    const badge = widget.getByTestId("workflow-status")
    await expect(badge).toHaveText("Canceled")
    await expect(badge).toHaveAttribute("data-state", "canceled")
    // Canceled before any step reported: the reconciliation delivered the cancel and recorded it. Nothing
    // to resend, not stalled, and nothing that can change, so the panel reads it once.
    await expect(widget.getByRole("button", { name: "Resend to workflow" })).toHaveCount(0)
    await expect(widget.getByTestId("workflow-stalled")).toHaveCount(0)
    await expectNoMoreReads(page, reads)
    expect(reads).toHaveLength(1)
    await expect(widget.getByTestId("workflow-resend-reason")).toHaveText(
      "This order is canceled, so it gets no fulfillment process. To fulfil its items after all, create a new order."
    )
    await expect(widget.getByTestId("workflow-summary")).toHaveText("The order was canceled in Medusa; its workflow ended there.")
    await expect(widget.getByTestId("workflow-message")).toHaveText(orders.canceled.message ?? "")
  })

  test("order page: awaiting payment", async ({ page }) => {
    const reads = orderReads(page, orders.awaiting)
    const widget = await openOrder(page, orders.awaiting)
    await expect(widget.getByTestId("workflow-status")).toHaveText("Awaiting payment")
    // A payment can take days: one read a minute, not one every 5 seconds.
    await expectNoMoreReads(page, reads)
    expect(reads).toHaveLength(1)
    const summary = widget.getByTestId("workflow-summary")
    // "7 Dec, 22:20": the deadline from the workflow's message, as a person writes a date.
    await expect(summary).toHaveText(
      /^Not paid yet; the workflow checks the payment again until \d{1,2} [A-Z][a-z]{2}( \d{4})?, \d{2}:\d{2} /
    )
    await expect(widget.getByTestId("workflow-message")).not.toContainText(/\d{4}-\d{2}-\d{2}T/)
    await expect(widget.getByTestId("workflow-refresh")).toHaveText("This panel looks again every minute.")
    await expect(widget.getByTestId("workflow-resend-reason")).toContainText("already has this order")
    await saveScreenshot(page, "admin-order-awaiting-payment.png")
  })

  test("order page: backoff after errors", async ({ page }) => {
    const started: number[] = []
    let outage = true
    const path = `${WIDGET_ROUTE}/orders/${orders.completed.id}`
    await page.route(
      (url) => url.pathname === path,
      async (route) => {
        started.push(Date.now())
        if (!outage) return route.continue()
        return route.fulfill({ status: 503, contentType: "application/json", body: '{"message":"test outage"}' })
      }
    )
    const widget = await openOrder(page, orders.completed)
    const refresh = widget.getByTestId("workflow-refresh")
    await expect.poll(() => started.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(3)
    // 5 s after the first failure, 10 s after the second (plus the request's own time).
    expectGaps(started, [5, 10])
    await expect(refresh).toContainText("Could not load the workflow status")
    await expect(refresh).toContainText("trying again in 20 seconds")
    outage = false
    await expect(widget.getByTestId("workflow-status")).toHaveText("Completed", { timeout: 60_000 })
    // The fourth read, 20 s after the third failure, found the shop back; the process has ended: no more.
    expect(started).toHaveLength(4)
    expectGaps(started, [5, 10, 20])
    await expect(refresh).toHaveCount(0)
  })

  test("orders list: failed and stalled orders", async ({ page }) => {
    const summaryRequest = page.waitForRequest((r) => new URL(r.url()).pathname === `${WIDGET_ROUTE}/summary`)
    await page.goto("/app/orders")
    const summary = page.getByTestId("workflow-attention")
    await expect(summary).toBeVisible()
    const failedCount = summary.getByTestId("workflow-failed-count")
    const stalledCount = summary.getByTestId("workflow-stalled-count")
    await expect(failedCount).toHaveText(/^[1-9]\d* failed$/)
    await expect(stalledCount).toHaveText(/^[1-9]\d* stalled$/)
    const failedRow = summary.locator(`[data-order-id="${orders.failed.id}"]`)
    const stalledRow = summary.locator(`[data-order-id="${orders.unstarted.id}"]`)
    await expect(failedRow).toHaveAttribute("data-attention", "failed")
    await expect(failedRow).toContainText("Out of stock")
    await expect(stalledRow).toHaveAttribute("data-attention", "stalled")
    await expect(stalledRow).toContainText("Stalled: Not started")
    // Placed as long ago and never started either, but canceled or a draft: nothing for staff to do.
    await expect(summary.locator(`[data-order-id="${orders.canceled.id}"]`)).toHaveCount(0)
    await expect(summary.locator(`[data-order-id="${orders.draft.id}"]`)).toHaveCount(0)
    await expect(stalledCount).toHaveText(`${await summary.locator('[data-attention="stalled"]').count()} stalled`)
    await expect(failedCount).toHaveText(`${await summary.locator('[data-attention="failed"]').count()} failed`)
    const limit = Number(new URL((await summaryRequest).url()).searchParams.get("limit"))
    expect(limit, "the summary asks for a bounded page").toBeGreaterThan(0)
    expect(limit).toBeLessThanOrEqual(200)
    await expect(summary.getByTestId("workflow-coverage")).toHaveText(
      /^Checked (all \d+|the newest \d+) open orders placed since \d{1,2} [A-Z][a-z]{2}/
    )
    const failed = failedRow.getByRole("link", { name: `Order #${orders.failed.display_id}`, exact: true })
    await expect(failed).toBeVisible()
    await expect(stalledRow.getByRole("link", { name: `Order #${orders.unstarted.display_id}` })).toBeVisible()
    // The picture shows the orders table too: wait until it has loaded.
    await expect(page.getByText(/of \d+ results/)).toBeVisible()
    await saveScreenshot(page, "admin-orders-list.png")
    await failed.click()
    await expect(page).toHaveURL(new RegExp(`/app/orders/${orders.failed.id}$`))
    await expect(page.getByTestId("workflow-status")).toHaveText("Out of stock")
  })

  test("auth: the widgets send the dashboard's session", async ({ page }) => {
    const sent = await expectSameCredentials(page, orders.completed)
    expect(sent.authorization, "the session dashboard sends no token").toBeUndefined()
  })

  test("resend: not offered for an order with a process", async ({ page }) => {
    const resendRequests: string[] = []
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/resend")) resendRequests.push(request.url())
    })
    const widget = await openOrder(page, orders.completed)
    await expect(widget.getByTestId("workflow-status")).toHaveText("Completed")
    await expect(widget.getByTestId("workflow-resend-reason")).toHaveText(
      "The workflow already has this order; sending it again would not start anything new."
    )
    await expect(widget.getByRole("button", { name: "Resend to workflow" })).toHaveCount(0)
    expect(resendRequests).toHaveLength(0)
  })

  test("resend: order without a process", async ({ page }) => {
    const widget = await openOrder(page, orders.unstarted)
    const badge = widget.getByTestId("workflow-status")
    await expect(badge).toHaveText("Not started")
    // Placed two hours ago and never started: stalled.
    await expect(widget.getByTestId("workflow-stalled")).toBeVisible()
    await expectSteps(widget, { payment: "pending", inventory: "pending", notification: "pending" })
    await expect(widget.getByTestId("workflow-resend-reason")).toHaveCount(0)
    // Cancelling the prompt sends nothing: one request in all, from the confirmed resend below.
    const resendRequests: string[] = []
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/resend")) resendRequests.push(request.url())
    })
    await widget.getByRole("button", { name: "Resend to workflow" }).click()
    await page.getByRole("alertdialog").getByRole("button", { name: "Cancel" }).click()
    await expect(page.getByRole("alertdialog")).toBeHidden()
    await resend(page, widget, orders.unstarted)
    await expect(page.getByText("Sent to the workflow")).toBeVisible()
    expect(resendRequests).toHaveLength(1)
    // The widget refreshes itself while the process runs, until the order reaches its end.
    await expect(badge).toHaveText("Completed", { timeout: 120_000 })
    await expectSteps(widget, { payment: "done", inventory: "done", notification: "done" })
    await expect(widget.getByTestId("workflow-stalled")).toHaveCount(0)
    await expect(widget.getByRole("button", { name: "Resend to workflow" })).toHaveCount(0)
  })
})

/**
 * Serves a dashboard built with ADMIN_AUTH_TYPE=jwt at /app in place of the one Medusa serves: same origin,
 * same backend, only the dashboard's auth differs (it keeps a token in localStorage and sends it as a
 * Bearer token; there is no session cookie).
 */
async function serveJwtDashboard(page: Page): Promise<void> {
  const root = required("ADMIN_JWT_BUILD_DIR")
  await page.route(
    (url) => url.pathname === "/app" || url.pathname.startsWith("/app/"),
    async (route) => {
      const relative = normalize(new URL(route.request().url()).pathname.replace(/^\/app\/?/, ""))
      const file = join(root, relative)
      const isFile = relative !== "." && !relative.startsWith("..") && existsSync(file) && statSync(file).isFile()
      await route.fulfill({ path: isFile ? file : join(root, "index.html") })
    }
  )
}

test.describe("with a dashboard built for JWT auth", () => {
  test("auth: the widgets send the dashboard's token", async ({ page }) => {
    await serveJwtDashboard(page)
    await logIn(page)
    const sent = await expectSameCredentials(page, orders.completed)
    expect(sent.authorization).toMatch(/^Bearer \S+$/)
    expect(sent.cookie ?? "", "a JWT dashboard has no session").not.toContain("connect.sid")
    const key = required("ADMIN_JWT_TOKEN_STORAGE_KEY")
    const stored = await page.evaluate((name) => window.localStorage.getItem(name), key)
    expect(`Bearer ${stored}`, `the token kept under the dashboard's key ${key}`).toBe(sent.authorization)
  })
})
