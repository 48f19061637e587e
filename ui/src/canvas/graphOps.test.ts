import { describe, expect, it } from "vitest";
import { bodyToGraph, graphToBody } from "./convert";
import { addShape, connect, disconnect, handlesOf, removeNodes, updateShape } from "./graphOps";
import { record, redo, undo } from "./history";
import { DEFAULT_OUTLETS } from "./outlets";
import type { ProcessGraph } from "./types";

const empty: ProcessGraph = { meta: { type: "process", name: "p" }, start: undefined, nodes: [], edges: [] };

function build(): ProcessGraph {
  let g = empty;
  for (const type of ["start", "branch", "message", "route", "stop", "stop"]) g = addShape(g, type, { x: 0, y: 0 }).graph;
  return g;
}

describe("graph edits", () => {
  it("names new shapes by type and makes the first start shape the start", () => {
    const g = build();
    expect(g.nodes.map((n) => n.id)).toEqual(["start", "branch", "message", "route", "stop", "stop-2"]);
    expect(g.start).toBe("start");
  });

  it("connects outlets into the body's keys and replaces an outlet's old link", () => {
    let g = build();
    g = connect(g, "start", "next", "message");
    g = connect(g, "start", "next", "branch");
    g = connect(g, "branch", "branch 1", "message");
    g = connect(g, "branch", "branch 2", "stop");
    g = updateShape(g, "route", { type: "route", by: "x", cases: [{ value: "a" }, { value: "b" }] });
    g = connect(g, "route", "case 2", "stop-2");
    g = connect(g, "route", "default", "stop");
    const shapes = graphToBody(g).shapes as Record<string, unknown>;
    expect(shapes.start).toEqual({ type: "start", next: "branch" });
    expect(shapes.branch).toEqual({ type: "branch", branches: ["message", "stop"] });
    expect(shapes.route).toEqual({ type: "route", by: "x", cases: [{ value: "a" }, { value: "b", next: "stop-2" }], default: "stop" });
    expect(handlesOf(g, "branch", DEFAULT_OUTLETS)).toEqual(["branch 1", "branch 2", "branch 3"]);
    expect(handlesOf(g, "route", DEFAULT_OUTLETS)).toEqual(["case 1", "case 2", "default"]);
  });

  it("closes the gap when a branch path is removed, and drops edges of removed cases", () => {
    let g = build();
    g = connect(g, "branch", "branch 1", "message");
    g = connect(g, "branch", "branch 2", "stop");
    g = connect(g, "branch", "branch 3", "stop-2");
    g = disconnect(g, "branch", "branch 2");
    expect((graphToBody(g).shapes as Record<string, unknown>).branch).toEqual({ type: "branch", branches: ["message", "stop-2"] });
    g = updateShape(g, "route", { type: "route", by: "x", cases: [{ value: "a" }, { value: "b" }] });
    g = connect(g, "route", "case 2", "stop");
    g = updateShape(g, "route", { type: "route", by: "x", cases: [{ value: "a" }] });
    expect(g.edges.some((e) => e.source === "route")).toBe(false);
  });

  it("deletes a shape with its edges", () => {
    let g = connect(connect(build(), "start", "next", "message"), "message", "next", "stop");
    g = removeNodes(g, ["message"]);
    expect(g.edges).toEqual([]);
    expect(bodyToGraph(graphToBody(g)).nodes.map((n) => n.id)).toEqual(["start", "branch", "route", "stop", "stop-2"]);
  });

  it("undoes and redoes", () => {
    let h = { past: [] as number[], present: 1, future: [] as number[] };
    h = record(h, 2);
    h = record(h, 3);
    h = undo(undo(h));
    expect(h.present).toBe(1);
    h = redo(h);
    expect(h.present).toBe(2);
    h = record(h, 5);
    expect(redo(h).present).toBe(5);
  });
});

describe("outlet names from the server", () => {
  it("reads cases and branches in either spelling", async () => {
    const { parseOutlet } = await import("./outlets");
    expect(parseOutlet("cases[].next")).toEqual({ kind: "objects", key: "cases", field: "next" });
    expect(parseOutlet("cases")).toEqual({ kind: "objects", key: "cases", field: "next" });
    expect(parseOutlet("branches")).toEqual({ kind: "list", key: "branches" });
    expect(parseOutlet("branches[]")).toEqual({ kind: "list", key: "branches" });
    expect(parseOutlet("catch")).toEqual({ kind: "single", key: "catch" });
  });
});
