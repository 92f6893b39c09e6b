// The order state machine: which status may follow which.

export const ORDER_STATUSES = [
  "pending-new",
  "submitted",
  "accepted",
  "partially-filled",
  "filled",
  "pending-cancel",
  "canceled",
  "rejected",
  "expired",
  "denied",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set([
  "filled",
  "canceled",
  "rejected",
  "expired",
  "denied",
]);

/**
 * Legal transitions. Exchanges report fills and acks out of order, so a fill may arrive before
 * the ack (submitted → filled) or while a cancel is in flight (pending-cancel → partially-filled/filled);
 * a rejected cancel returns to accepted/partially-filled.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  "pending-new": ["submitted", "denied", "rejected", "canceled"],
  submitted: ["accepted", "rejected", "partially-filled", "filled", "pending-cancel", "canceled", "expired"],
  accepted: ["partially-filled", "filled", "pending-cancel", "canceled", "expired"],
  "partially-filled": ["partially-filled", "filled", "pending-cancel", "canceled", "expired"],
  // rejected: the venue refused the order itself while a cancel requested before its answer was pending.
  "pending-cancel": ["canceled", "partially-filled", "filled", "accepted", "expired", "rejected"],
  filled: [],
  canceled: [],
  rejected: [],
  expired: [],
  denied: [],
};

const LEGAL: ReadonlyMap<OrderStatus, ReadonlySet<OrderStatus>> = new Map(
  ORDER_STATUSES.map((s) => [s, new Set(ORDER_TRANSITIONS[s])]),
);

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return LEGAL.get(from)?.has(to) ?? false;
}

export function isTerminal(s: OrderStatus): boolean {
  return TERMINAL_STATUSES.has(s);
}

/** Statuses in which the order rests or may still receive fills. */
export function isOpen(s: OrderStatus): boolean {
  return s === "submitted" || s === "accepted" || s === "partially-filled" || s === "pending-cancel";
}
