/**
 * The fulfillment workflow widgets of the plugin in Medusa's admin: the order page's side panel, the
 * orders list summary and "Resend to workflow". The orders are real and prepared by the pytest side,
 * which also checks the engine after a resend; this side checks what a person sees.
 *
 * Environment: MEDUSA_URL, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TEST_ORDERS (JSON, see `Orders`) and
 * optionally ADMIN_SCREENSHOT_DIR (where the pictures for the documentation are written).
 */
import { expect, type Locator, type Page, test } from "@playwright/test"
import { join } from "node:path"

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
}

const orders = JSON.parse(required("ADMIN_TEST_ORDERS")) as Orders

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

test.beforeEach(async ({ page }) => {
  await logIn(page)
})

test("order page: completed order", async ({ page }) => {
  const widget = await openOrder(page, orders.completed)
  const badge = widget.getByTestId("workflow-status")
  await expect(badge).toHaveText("Completed")
  await expect(badge).toHaveAttribute("data-state", "completed")
  await expectSteps(widget, { payment: "done", inventory: "done", notification: "done" })
  await expect(widget.getByTestId("workflow-message")).toHaveText(orders.completed.message ?? "")
  await expect(widget.getByTestId("workflow-updated")).toContainText(/Updated .*ago|Updated now/)
  await expect(widget.getByTestId("workflow-instance")).toHaveText(/^\d+$/)
  await expect(widget.getByTestId("workflow-stalled")).toHaveCount(0)
  await saveScreenshot(page, "admin-order-completed.png")
})

test("order page: failed order", async ({ page }) => {
  const widget = await openOrder(page, orders.failed)
  const badge = widget.getByTestId("workflow-status")
  await expect(badge).toHaveText("Out of stock")
  await expect(badge).toHaveAttribute("data-state", "failed")
  await expectSteps(widget, { payment: "done", inventory: "failed", notification: "pending" })
  await expect(widget.getByTestId("workflow-message")).toHaveText(orders.failed.message ?? "")
  await saveScreenshot(page, "admin-order-failed.png")
})

test("orders list: failed and stalled orders", async ({ page }) => {
  const summary = page.getByTestId("workflow-attention")
  await expect(summary).toBeVisible()
  await expect(summary.getByTestId("workflow-failed-count")).toHaveText(/^[1-9]\d* failed$/)
  await expect(summary.getByTestId("workflow-stalled-count")).toHaveText(/^[1-9]\d* stalled$/)
  const failedRow = summary.locator(`[data-order-id="${orders.failed.id}"]`)
  const stalledRow = summary.locator(`[data-order-id="${orders.unstarted.id}"]`)
  await expect(failedRow).toHaveAttribute("data-attention", "failed")
  await expect(failedRow).toContainText("Out of stock")
  await expect(stalledRow).toHaveAttribute("data-attention", "stalled")
  await expect(stalledRow).toContainText("Stalled: Not started")
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

test("resend: order with a process", async ({ page }) => {
  const resendRequests: string[] = []
  page.on("request", (request) => {
    if (request.method() === "POST" && request.url().endsWith("/resend")) resendRequests.push(request.url())
  })
  const widget = await openOrder(page, orders.completed)
  // Cancelling the prompt sends nothing: one request in all, from the confirmed resend below.
  await widget.getByRole("button", { name: "Resend to workflow" }).click()
  await page.getByRole("alertdialog").getByRole("button", { name: "Cancel" }).click()
  await expect(page.getByRole("alertdialog")).toBeHidden()
  await resend(page, widget, orders.completed)
  await expect(page.getByText("Already in the workflow")).toBeVisible()
  expect(resendRequests).toHaveLength(1)
  await expect(page.getByText('The workflow answered "duplicate"')).toBeVisible()
  await expect(widget.getByTestId("workflow-status")).toHaveText("Completed")
})

test("resend: order without a process", async ({ page }) => {
  const widget = await openOrder(page, orders.unstarted)
  const badge = widget.getByTestId("workflow-status")
  await expect(badge).toHaveText("Not started")
  // Placed two hours ago and never started: stalled.
  await expect(widget.getByTestId("workflow-stalled")).toBeVisible()
  await expectSteps(widget, { payment: "pending", inventory: "pending", notification: "pending" })
  await resend(page, widget, orders.unstarted)
  await expect(page.getByText("Sent to the workflow")).toBeVisible()
  // The widget refreshes itself while the process runs, until the order reaches its end.
  await expect(badge).toHaveText("Completed", { timeout: 120_000 })
  await expectSteps(widget, { payment: "done", inventory: "done", notification: "done" })
  await expect(widget.getByTestId("workflow-stalled")).toHaveCount(0)
})
