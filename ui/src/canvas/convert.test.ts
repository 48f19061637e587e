import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { bodyToGraph, graphToBody } from "./convert";
import { newShapeId } from "./ids";
import type { JsonObject, ProcessBody } from "./types";

// Copied from examples/dr-smith/process-1-announcement.yaml (tests may not read outside ui/).
const DR_SMITH = `
type: process
name: Dr. Smith retirement announcement
id: dr-smith-announcement
folder: Tutorials/Dr Smith
start: start
shapes:
  start:
    type: start
    mode: no_data
    next: patient-list
  patient-list:
    type: message
    label: Patient list
    text: |
      name,email,status
      Alice Walker,alice.walker@example.com,patient
      Bob Nguyen,bob.nguyen@example.org,patient
      José Núñez,jose.nunez@example.net,former patient
      Zoë O''Brien,zoe.obrien@example.com,patient
    next: one-per-patient
  one-per-patient:
    type: data_process
    label: One document per patient
    steps:
      - {type: split, profile_type: flat_file, by: line, headers: retain}
    next: still-a-patient
  still-a-patient:
    type: decision
    label: Still a patient?
    first: {profile_element: status}
    comparison: equals
    second: patient
    true: recipient
    false: not-a-patient
  recipient:
    type: set_properties
    label: Recipient
    properties:
      - property: mail.to_address
        value: [{profile_element: email}]
    next: letter
  letter:
    type: message
    label: Letter
    text: |
      Dear {1},

      After many years of caring for you, Dr. Smith is retiring at the end of the year.
      We''ll make sure your records move to the physician of your choice.

      Kind regards,
      The clinic
    parameters:
      - {profile_element: name}
    next: send
  send:
    type: connector
    label: Send the letter
    connection: local-mail-connection
    operation: gmail-mail-send
    next: sent
  sent: {type: stop}
  not-a-patient:
    type: stop
    continue: false
`;

const EVERY_SHAPE = `
type: process
name: Every shape
id: every-shape
start: begin
shapes:
  begin: {type: start, mode: no_data, next: fork}
  fork: {type: branch, label: Fork, branches: [text, which, guard]}
  text: {type: message, text: "hi {1}", parameters: [{static: x}], combine: false, next: props}
  props: {type: set_properties, properties: [{property: dynamic.a, value: ["b"], persist: false}], next: steps}
  steps: {type: data_process, steps: [{type: base64_encode}], next: check}
  check: {type: decision, first: {document_property: mail.subject}, comparison: regex, second: "^x", true: send, false: log}
  send: {type: connector, connection: c, operation: o, next: end}
  log: {type: notify, level: warning, message: "m {1}", parameters: ["p"], next: end}
  which:
    type: route
    by: {dynamic_document_property: kind}
    cases:
      - {comparison: equals, value: "A", next: end}
      - {comparison: wildcard, value: "B*", next: log}
      - {comparison: equals, value: "C"}
    default: boom
  boom: {type: exception, message: "bad {1}", parameters: ["x"], stop_process: true}
  guard: {type: try_catch, retry_count: 2, failure_trigger: all_errors, try: end, catch: boom}
  end: {type: stop, continue: true}
layout:
  begin: {x: 0, y: 0}
  fork: {x: 240, y: 0}
  text: {x: 480, y: 0}
  props: {x: 720, y: 0}
  steps: {x: 960, y: 0}
  check: {x: 1200, y: 0}
  send: {x: 1440, y: 0}
  log: {x: 1440, y: 120}
  which: {x: 480, y: 120}
  boom: {x: 720, y: 240}
  guard: {x: 480, y: 360}
  end: {x: 1680, y: 0}
`;

function withLayoutFrom(body: ProcessBody, layout: unknown): ProcessBody {
  return { ...body, layout: layout as JsonObject };
}

describe("body ⇄ graph", () => {
  it("round-trips the Dr. Smith process", () => {
    const body = parse(DR_SMITH) as ProcessBody;
    const back = graphToBody(bodyToGraph(body));
    expect(back).toEqual(withLayoutFrom(body, back.layout));
    expect(Object.keys(back.layout as JsonObject).sort()).toEqual(Object.keys(body.shapes as JsonObject).sort());
  });

  it("turns the Dr. Smith links into edges carrying their outlets", () => {
    const graph = bodyToGraph(parse(DR_SMITH) as ProcessBody);
    const links = graph.edges.map((e) => `${e.source} ${e.data?.outlet} ${e.target} ${e.sourceHandle}`).sort();
    expect(links).toContain("still-a-patient true recipient true");
    expect(links).toContain("still-a-patient false not-a-patient false");
    expect(graph.edges).toHaveLength(8);
    const decision = graph.nodes.find((n) => n.id === "still-a-patient");
    expect(decision?.data.shape).toEqual({
      type: "decision", label: "Still a patient?", first: { profile_element: "status" },
      comparison: "equals", second: "patient",
    });
  });

  it("round-trips every shape type and outlet exactly, layout included", () => {
    const body = parse(EVERY_SHAPE) as ProcessBody;
    const graph = bodyToGraph(body);
    expect(graphToBody(graph)).toEqual(body);
    const outlets = graph.edges.map((e) => `${e.source}:${e.data?.outlet}:${e.sourceHandle}`).sort();
    expect(outlets).toEqual([
      "begin:next:next", "check:false:false", "check:true:true",
      "fork:branches[0]:branch 1", "fork:branches[1]:branch 2", "fork:branches[2]:branch 3",
      "guard:catch:catch", "guard:try:try", "log:next:next", "props:next:next",
      "send:next:next", "steps:next:next", "text:next:next",
      "which:cases[0]:case 1", "which:cases[1]:case 2", "which:default:default",
    ]);
    const route = graph.nodes.find((n) => n.id === "which");
    expect(route?.data.shape.cases).toEqual([
      { comparison: "equals", value: "A" }, { comparison: "wildcard", value: "B*" }, { comparison: "equals", value: "C" },
    ]);
    expect(graph.nodes.find((n) => n.id === "log")?.position).toEqual({ x: 1440, y: 120 });
  });

  it("keeps links to missing shapes and null outlets in the node, untouched", () => {
    const body: ProcessBody = {
      type: "process", name: "p", start: "a",
      shapes: { a: { type: "message", text: "x", next: "nowhere" }, b: { type: "branch", branches: ["a", "gone"] }, c: { type: "stop", next: null } },
      layout: { a: { x: 1, y: 2 }, b: { x: 3, y: 4 }, c: { x: 5, y: 6 } },
    };
    const graph = bodyToGraph(body);
    expect(graph.edges).toEqual([]);
    expect(graphToBody(graph)).toEqual(body);
  });

  it("places shapes without a layout in columns from the start", () => {
    const graph = bodyToGraph(parse(DR_SMITH) as ProcessBody);
    const at = (id: string) => graph.nodes.find((n) => n.id === id)?.position;
    expect(at("start")).toEqual({ x: 0, y: 0 });
    expect(at("patient-list")).toEqual({ x: 240, y: 0 });
    expect(at("recipient")?.x).toBe(at("not-a-patient")?.x);
    expect(at("recipient")?.y).not.toBe(at("not-a-patient")?.y);
  });
});

// A small seeded generator (mulberry32) of random valid-looking process bodies.
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ["start", "message", "set_properties", "data_process", "decision", "branch", "route", "connector", "notify", "exception", "try_catch", "stop"];

function randomShape(type: string, pick: () => string | null, random: () => number): JsonObject {
  const shape: JsonObject = { type };
  if (random() < 0.5) shape.label = `Label ${Math.floor(random() * 100)} <b>&`;
  const maybe = (key: string) => {
    const target = pick();
    if (target !== null) shape[key] = target;
  };
  if (type === "decision") { shape.first = { static: "a" }; maybe("true"); maybe("false"); }
  else if (type === "try_catch") { maybe("try"); maybe("catch"); }
  else if (type === "branch") shape.branches = Array.from({ length: 2 + Math.floor(random() * 3) }, () => pick() ?? "missing");
  else if (type === "route") {
    shape.by = "x";
    shape.cases = Array.from({ length: Math.floor(random() * 4) }, (_, i): JsonObject => {
      const target = pick();
      return target === null ? { value: `v${i}` } : { value: `v${i}`, comparison: "equals", next: target };
    });
    maybe("default");
  } else if (type !== "exception" && type !== "stop") { shape.text = "t"; maybe("next"); }
  return shape;
}

function randomBody(seed: number): ProcessBody {
  const random = rng(seed);
  const count = 1 + Math.floor(random() * 12);
  const ids = Array.from({ length: count }, (_, i) => `s${i}-${Math.floor(random() * 1000)}`);
  const pick = () => (random() < 0.2 ? null : random() < 0.05 ? "dangling" : ids[Math.floor(random() * ids.length)]);
  const shapes: JsonObject = {};
  const layout: JsonObject = {};
  for (const id of ids) {
    shapes[id] = randomShape(TYPES[Math.floor(random() * TYPES.length)], pick, random);
    layout[id] = { x: Math.round(random() * 2000), y: Math.round(random() * 2000) };
  }
  return { type: "process", name: `generated ${seed}`, start: ids[0], shapes, layout };
}

describe("generated graphs", () => {
  it("round-trip exactly for 300 seeded random processes", () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const body = randomBody(seed);
      expect(graphToBody(bodyToGraph(body)), `seed ${seed}`).toEqual(body);
    }
  });

  it("round-trip twice to the same graph", () => {
    for (let seed = 301; seed <= 350; seed += 1) {
      const graph = bodyToGraph(randomBody(seed));
      expect(bodyToGraph(graphToBody(graph))).toEqual(graph);
    }
  });
});

describe("new shape ids", () => {
  it("slug the type and count up", () => {
    expect(newShapeId("message", [])).toBe("message");
    expect(newShapeId("message", ["message"])).toBe("message-2");
    expect(newShapeId("message", ["message", "message-2"])).toBe("message-3");
    expect(newShapeId("set_properties", ["start"])).toBe("set-properties");
  });
});
