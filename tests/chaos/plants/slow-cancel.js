/**
 * Widens a window of Medusa's own cancel for the chaos tests: Medusa's cancelOrderWorkflow
 * (@medusajs/core-flows order/workflows/cancel-order.js) deletes the order's reservations and cancels its
 * payments, and only in its last step (cancelOrdersStep -> the order module's `cancel`) marks the order
 * canceled. This waits CHAOS_SLOW_CANCEL_MS before that last step, so a worker reading the order while
 * staff cancel it sees it half canceled for that long, instead of for a few milliseconds.
 *
 * Test-only: tests/chaos loads it into Medusa with NODE_OPTIONS=--require; no shipped code reads it. It
 * changes nothing but the timing: the workflow's steps and their order stay Medusa's.
 */
const Module = require("module")

const delayMs = Number(process.env.CHAOS_SLOW_CANCEL_MS || "0")
const ORDER_SERVICE = /[\\/]@medusajs[\\/]order[\\/]dist[\\/]services[\\/]order-module-service\.js$/
const load = Module._load
let patched = false

Module._load = function (request, parent, isMain) {
  const exported = load.apply(this, arguments)
  if (!patched && delayMs > 0 && ORDER_SERVICE.test(resolved(request, parent, isMain))) {
    slowDownCancel(exported.default)
    patched = true
  }
  return exported
}

function resolved(request, parent, isMain) {
  try {
    return Module._resolveFilename(request, parent, isMain)
  } catch {
    return ""
  }
}

function slowDownCancel(OrderModuleService) {
  const cancel = OrderModuleService.prototype.cancel
  OrderModuleService.prototype.cancel = async function (...args) {
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    return cancel.apply(this, args)
  }
}
