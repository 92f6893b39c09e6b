// The shared input bounds: echo previews, length checks naming field and length, nesting without recursion.
import { describe, expect, it } from "vitest";
import {
  checkDepth,
  checkMessageBounds,
  clip,
  jsonTextDepthExceeds,
  NestingTooDeepError,
  preview,
  type ValueTooLongError,
  wellFormed,
} from "../../lib/domain/bounds";
import { InvalidFieldError } from "../../lib/domain/errors";

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe("bounds", () => {
  it("preview echoes at most 64 characters, marks the cut and never splits a surrogate pair", () => {
    expect(preview("short")).toBe("short");
    expect(preview("x".repeat(100))).toBe(`${"x".repeat(64)}… (100 chars)`);
    const emoji = preview("\u{1F4A5}".repeat(100));
    expect(emoji).toBe(`${"\u{1F4A5}".repeat(32)}… (200 chars)`);
    const odd = preview(`a${"\u{1F4A5}".repeat(100)}`);
    expect(wellFormed(odd)).toBe(odd); // no lone surrogate left by the cut
    expect(preview({ a: 1 })).toBe("object");
    expect(wellFormed("a\uD800b")).toBe("a\uFFFDb");
    expect(clip("y".repeat(300)).length).toBe(256);
  });

  it("InvalidFieldError messages echo at most 64 characters of the value", () => {
    const e = new InvalidFieldError("venue", "v".repeat(100_000), "unknown venue");
    expect(e.message.length).toBeLessThan(120);
    expect(e.message).toContain("(100000 chars)");
  });

  it("checkMessageBounds names the field (snake_case, nested, listed, map key) and the length", () => {
    const bad = (msg: object) => {
      try {
        checkMessageBounds(msg);
      } catch (e) {
        return e as ValueTooLongError;
      }
      throw new Error("accepted");
    };
    expect(bad({ strategyId: "s".repeat(129) })).toMatchObject({ field: "strategy_id", length: 129, max: 128 });
    expect(bad({ reason: "r".repeat(257) })).toMatchObject({ field: "reason", length: 257, max: 256 });
    expect(bad({ limits: { maxNotional: "9".repeat(200) } })).toMatchObject({ field: "limits.max_notional" });
    expect(bad({ symbols: ["BTC-USD", "S".repeat(129)] })).toMatchObject({ field: "symbols[1]" });
    expect(bad({ details: { ["k".repeat(200)]: "v" } }).field).toBe("details.(key)");
    expect(bad({ symbols: Array.from({ length: 65 }, () => "x") }).message).toMatch(/at most 64 items/);
    expect(() => checkMessageBounds({ reason: "r".repeat(256), strategyId: "s".repeat(128) })).not.toThrow();
  });

  it("checkDepth refuses nesting deeper than 32 without recursion (100 000 levels), naming where", () => {
    expect(() => checkDepth(nested(32))).not.toThrow();
    expect(() => checkDepth(nested(33))).toThrow(NestingTooDeepError);
    const deep = nested(100_000);
    let err: unknown;
    try {
      checkDepth(deep, "detail");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NestingTooDeepError);
    expect((err as NestingTooDeepError).field).toMatch(/^detail\.a\.a\.a/);
    expect((err as NestingTooDeepError).field.length).toBeLessThanOrEqual(128);
  });

  it("jsonTextDepthExceeds scans JSON text (strings skipped) before JSON.parse builds it", () => {
    expect(jsonTextDepthExceeds(`${"[".repeat(32)}${"]".repeat(32)}`)).toBe(false);
    expect(jsonTextDepthExceeds(`${"[".repeat(33)}${"]".repeat(33)}`)).toBe(true);
    expect(jsonTextDepthExceeds(JSON.stringify({ s: "[".repeat(100) }))).toBe(false);
    expect(jsonTextDepthExceeds(JSON.stringify({ s: '\\"[[[' }))).toBe(false);
  });
});
