// EventBridge event-pattern types (the JSON that PutRule / CfnRule / TestEventPattern take).
// Kept in its own module so the CDK app, the LocalStack function host and the embedded bus share it.

/** A content-filter operator object inside a pattern's value array. */
export type PatternOperator =
  | { readonly prefix: string | { readonly "equals-ignore-case": string } }
  | { readonly suffix: string | { readonly "equals-ignore-case": string } }
  | {
      readonly "anything-but":
        | string
        | number
        | readonly (string | number)[]
        | { readonly prefix: string }
        | { readonly suffix: string }
        | { readonly "equals-ignore-case": string | readonly string[] }
        | { readonly wildcard: string | readonly string[] };
    }
  | { readonly numeric: readonly (string | number)[] }
  | { readonly exists: boolean }
  | { readonly "equals-ignore-case": string }
  | { readonly wildcard: string }
  | { readonly cidr: string };

/** One entry of a leaf's value array: an exact value or an operator. */
export type PatternValue = string | number | boolean | null | PatternOperator;

/** A (possibly nested) event pattern. Leaves are arrays; `$or` holds alternative sub-patterns. */
export interface EventPattern {
  readonly [field: string]: EventPattern | readonly PatternValue[] | readonly EventPattern[];
}
