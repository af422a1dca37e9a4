export * from "./send-order-placed-webhook"
export * from "./record-workflow-status"
