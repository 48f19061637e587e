import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { DocumentViewer } from "./DocumentViewer";
import { parseCsv, prettyXml, viewOf } from "./pretty";

afterEach(cleanup);

describe("document data", () => {
  it("parses CSV with quotes, doubled quotes, commas and CRLF", () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\nlast,\n')).toEqual([["a", "b"], ["x, y", 'say "hi"'], ["last", ""]]);
  });

  it("pretty-prints JSON and XML, and leaves other text alone", () => {
    expect(viewOf('{"a":[1,{"b":"<c>"}]}', "application/json")).toEqual({ kind: "json", text: '{\n  "a": [\n    1,\n    {\n      "b": "<c>"\n    }\n  ]\n}' });
    expect(prettyXml('<?xml version="1.0"?><p id="1"><name>Zoë &amp; co</name><e/></p>')).toBe(
      '<?xml version="1.0"?>\n<p id="1">\n  <name>Zoë &amp; co</name>\n  <e/>\n</p>',
    );
    expect(viewOf("<p><q>1</q></p>", "text/xml")).toEqual({ kind: "xml", text: "<p>\n  <q>1</q>\n</p>" });
    expect(viewOf("{not json", "application/json")).toEqual({ kind: "text", text: "{not json" });
    expect(viewOf("<unclosed", "application/xml")).toEqual({ kind: "text", text: "<unclosed" });
    expect(viewOf("Dear {1}", "text/plain")).toEqual({ kind: "text", text: "Dear {1}" });
  });
});

describe("the document viewer", () => {
  it("shows JSON pretty-printed and the properties as a table", () => {
    render(<DocumentViewer position={3} doc={{ index: 3, shape: "s", data: '{"to":"a@b.c"}', content_type: "application/json", properties: { "mail.subject": "Hi", "dynamic.n": 3 }, dynamic: { patient_id: "p-7" } }} />);
    const doc = screen.getByRole("article", { name: "Document 3" });
    expect(within(doc).getByLabelText("Data (JSON)").textContent).toBe('{\n  "to": "a@b.c"\n}');
    expect(within(doc).getByRole("row", { name: "mail.subject Hi" })).toBeTruthy();
    expect(within(doc).getByRole("row", { name: "dynamic.n 3" })).toBeTruthy();
    const dynamic = within(doc).getAllByRole("table")[1];
    expect(dynamic.querySelector("caption")?.textContent).toBe("Dynamic document properties");
    expect(within(dynamic).getByRole("row", { name: "patient_id p-7" })).toBeTruthy();
  });

  it("shows XML pretty-printed, and markup in data as text", () => {
    render(<DocumentViewer position={1} doc={{ index: 1, shape: "s", data: "<a><img src=\"x\" onerror=\"alert(1)\"/></a>", content_type: "application/xml", properties: {} }} />);
    expect(screen.getByLabelText("Data (XML)").textContent).toBe('<a>\n  <img src="x" onerror="alert(1)"/>\n</a>');
    expect(document.querySelector("img")).toBeNull();
    expect(screen.getByText("No properties")).toBeTruthy();
  });

  it("describes binary data instead of showing it", () => {
    render(<DocumentViewer position={1} doc={{ index: 1, shape: "s", data: { base64: "AAECAwQF" }, content_type: "application/zip", properties: {} }} />);
    expect(screen.getByText("Binary data (application/zip, about 6 bytes)")).toBeTruthy();
  });
});
