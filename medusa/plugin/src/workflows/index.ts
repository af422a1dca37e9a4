export * from "./deliver-order-event"
export * from "./send-order-event"
export type { OrderEventDelivery, OrderEventOutcome } from "./steps/attempt-order-event"
export type { OrderEventInput } from "./steps/build-order-event"
