import { describe, expect, it } from "vitest";
import {
  compileEventPattern,
  compilePatternSet,
  InvalidEventPatternError,
  matchEventPattern,
  validateEventPattern,
} from "../../lib/routing/matchEventPattern";
import { ROUTED_FUNCTIONS, ROUTES, routeFor } from "../../lib/routing/routes";
import { PATTERN_CASES } from "../fixtures/patternCases";

describe("routing table", () => {
  it("has the five functions, unique, each with a valid pattern on source + detail-type", () => {
    expect(ROUTED_FUNCTIONS).toEqual(["signal", "order-placement", "fill-handling", "reporting", "settlement"]);
    for (const r of ROUTES) {
      expect(() => validateEventPattern(r.eventPattern)).not.toThrow();
      expect(r.eventPattern.source).toBeDefined();
      expect(r.eventPattern["detail-type"]).toBeDefined();
    }
    expect(routeFor("fill-handling").eventPattern["detail-type"]).toEqual(["ExecutionReported"]);
    expect(routeFor("settlement").eventPattern["detail-type"]).toEqual(["FillBooked"]);
    expect(() => routeFor("nope")).toThrow(/unknown function 'nope'/);
  });
});

describe("matchEventPattern (EventBridge semantics)", () => {
  for (const c of PATTERN_CASES) {
    describe(c.name, () => {
      it.each(c.samples.map((s) => [s.name, s] as const))("%s", (_name, s) => {
        expect(matchEventPattern(c.pattern, s.event)).toBe(s.expected);
        expect(matchEventPattern(c.pattern, JSON.stringify(s.event))).toBe(s.expected);
      });
    });
  }

  it("wildcard: * matches zero characters, \\* is a literal asterisk", () => {
    const p = { detail: { k: [{ wildcard: "a*b" }] } };
    expect(matchEventPattern(p, { detail: { k: "ab" } })).toBe(true);
    expect(matchEventPattern(p, { detail: { k: "a-x-b" } })).toBe(true);
    const lit = { detail: { k: [{ wildcard: "a\\*b" }] } };
    expect(matchEventPattern(lit, { detail: { k: "a*b" } })).toBe(true);
    expect(matchEventPattern(lit, { detail: { k: "axb" } })).toBe(false);
  });

  it("compilePatternSet (one flattening for many patterns) agrees with per-pattern matching on every sample", () => {
    const compiled = PATTERN_CASES.map((c) => compileEventPattern(c.pattern));
    const route = compilePatternSet(compiled);
    let checked = 0;
    for (const c of PATTERN_CASES)
      for (const s of c.samples) {
        expect(route(s.event)).toEqual(compiled.map((p) => p.matches(s.event)));
        checked++;
      }
    expect(checked).toBeGreaterThan(100);
    expect(route("not an object")).toEqual(compiled.map(() => false));
  });

  it("non-object events never match", () => {
    expect(matchEventPattern({ source: ["x"] }, "not json")).toBe(false);
    expect(matchEventPattern({ source: ["x"] }, 42)).toBe(false);
    expect(matchEventPattern({ source: ["x"] }, null)).toBe(false);
  });

  it("empty pattern matches every object event", () => {
    expect(matchEventPattern({}, { anything: 1 })).toBe(true);
  });

  it("compileEventPattern exposes the dotted paths it reads", () => {
    expect([...compileEventPattern(routeFor("order-placement").eventPattern).paths].sort()).toEqual([
      "detail-type",
      "detail.data.kind",
      "detail.meta.eventId",
      "source",
    ]);
  });

  it.each([
    ["empty array", { source: [] }, "source"],
    ["scalar leaf", { source: "tse.market" }, "source"],
    ["unknown operator", { detail: { x: [{ regex: "a.*" }] } }, "detail.x"],
    ["two keys in one operator", { detail: { x: [{ prefix: "a", suffix: "b" }] } }, "detail.x"],
    ["numeric bad op", { detail: { x: [{ numeric: ["!=", 1] }] } }, "detail.x"],
    ["numeric bottom >= top", { detail: { x: [{ numeric: [">", 5, "<", 5] }] } }, "detail.x"],
    ["numeric non-number", { detail: { x: [{ numeric: [">", "5"] }] } }, "detail.x"],
    ["exists non-boolean", { detail: { x: [{ exists: "yes" }] } }, "detail.x"],
    ["$or with one branch", { $or: [{ source: ["a"] }] }, "$or"],
    ["consecutive wildcards", { detail: { x: [{ wildcard: "a**" }] } }, "detail.x"],
    ["anything-but null", { detail: { x: [{ "anything-but": null }] } }, "detail.x"],
    ["bad cidr", { detail: { x: [{ cidr: "10.0.0.0" }] } }, "detail.x"],
  ])("rejects invalid pattern: %s", (_name, pattern, field) => {
    let err: unknown;
    try {
      validateEventPattern(pattern as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidEventPatternError);
    expect((err as InvalidEventPatternError).field).toBe(field);
  });
});
