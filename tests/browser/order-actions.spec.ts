/**
 * The admin's actions on an order's process, in a real browser: "Restart workflow" with its reason and
 * confirmation, and "Retry" of an incident the engine raised. tests/e2e/test_admin_order_actions_browser.py
 * prepares the orders (a process canceled as in Operate; a job failed with no retries left) and checks the
 * engine afterwards; this side does what a person does and checks what the person sees.
 *
 * Environment: MEDUSA_URL, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TEST_ORDERS (JSON, see `ActionOrders`).
 */
import { expect, type Locator, type Page, test } from "@playwright/test"

interface ActionOrder {
  id: string
  display_id: number
}

interface ActionOrders {
  /** Its process was canceled in the engine: Camunda runs nothing for it. */
  lost: ActionOrder
  /** Its process waits at an incident raised by the engine (a job with no retries left). */
  incident: ActionOrder & { incident_message: string }
}

const REASON = "Canceled in Operate by mistake during a cleanup."

function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} must be set (tests/e2e/test_admin_order_actions_browser.py sets it)`)
  return value
}

/** Read when a test runs: this file is loaded with the other specs' orders too. */
function actionOrders(): ActionOrders {
  return JSON.parse(required("ADMIN_TEST_ORDERS")) as ActionOrders
}

async function logIn(page: Page): Promise<void> {
  await page.goto("/app/login")
  await page.locator('input[name="email"]').fill(required("ADMIN_EMAIL"))
  await page.locator('input[name="password"]').fill(required("ADMIN_PASSWORD"))
  await page.locator('button[type="submit"]').click()
  await expect(page).toHaveURL(/\/app\/orders/)
}

async function openOrder(page: Page, order: ActionOrder): Promise<Locator> {
  await page.goto(`/app/orders/${order.id}`)
  const widget = page.getByTestId("fulfillment-workflow")
  await expect(widget).toBeVisible()
  await widget.scrollIntoViewIfNeeded()
  return widget
}

test.describe("the order actions", () => {
  test.beforeEach(async ({ page }) => {
    await logIn(page)
  })

  test("order actions: restart a lost process", async ({ page }) => {
    const order = actionOrders().lost
    const widget = await openOrder(page, order)
    const restart = widget.getByTestId("workflow-restart")
    await expect(restart).toBeVisible()
    await expect(widget.getByTestId("workflow-restart-hint")).toContainText("Camunda runs no process for this order")

    // Cancel first: nothing is sent.
    await restart.click()
    let prompt = page.getByRole("alertdialog")
    await expect(prompt).toContainText(`Restart the workflow of order #${order.display_id}?`)
    await prompt.getByRole("button", { name: "Cancel" }).click()
    await expect(prompt).toBeHidden()
    await expect(widget.getByTestId("workflow-last-restart")).toHaveCount(0)

    // The reason is required before the restart can be confirmed.
    await restart.click()
    prompt = page.getByRole("alertdialog")
    const confirm = prompt.getByRole("button", { name: "Restart", exact: true })
    await expect(confirm).toBeDisabled()
    await prompt.getByLabel("Why (required)").fill(REASON)
    await expect(confirm).toBeEnabled()
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith(`/orders/${order.id}/restart`))
    await confirm.click()
    expect((await answer).status()).toBe(200)
    await expect(prompt).toBeHidden()
    await expect(page.getByText("Workflow restarted")).toBeVisible()

    const record = widget.getByTestId("workflow-last-restart")
    await expect(record).toContainText(`by ${required("ADMIN_EMAIL")} (restart 1), because: “${REASON}”.`)
    await expect(record).toHaveText(/^Restarted on \d{1,2} [A-Z][a-z]{2}, \d{2}:\d{2} by /)
    // The new process runs: no restart is offered any more.
    await expect(widget.getByTestId("workflow-restart")).toHaveCount(0)
  })

  test("order actions: retry an incident", async ({ page }) => {
    const order = actionOrders().incident
    const widget = await openOrder(page, order)
    const incident = widget.getByTestId("workflow-incident")
    await expect(incident).toHaveCount(1)
    await expect(incident).toContainText(/^Stopped at Verify payment since \d{1,2} [A-Z][a-z]{2}, \d{2}:\d{2}\./)
    await expect(incident.getByTestId("workflow-incident-message")).toHaveText(order.incident_message)
    // A process runs (it waits at the incident): no restart is offered.
    await expect(widget.getByTestId("workflow-restart")).toHaveCount(0)

    await incident.getByRole("button", { name: "Retry" }).click()
    const prompt = page.getByRole("alertdialog")
    await expect(prompt).toContainText("Retry the incident at Verify payment?")
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname.includes(`/orders/${order.id}/incidents/`))
    await prompt.getByRole("button", { name: "Retry", exact: true }).click()
    expect((await answer).status()).toBe(200)
    await expect(page.getByText("Incident retried")).toBeVisible()
    await expect(widget.getByTestId("workflow-incident")).toHaveCount(0)
    await expect(widget.getByTestId("workflow-last-retry")).toContainText(
      `The incident at Verify payment was retried on `
    )
    await expect(widget.getByTestId("workflow-last-retry")).toContainText(`by ${required("ADMIN_EMAIL")}.`)
  })
})
