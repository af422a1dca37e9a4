export * from "./send-order-placed-webhook"
