import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "./App";
import { fakeServer, json } from "./test/fakeServer";

afterEach(() => vi.unstubAllGlobals());

function logIn(name = "ada", password = "wrong") {
  fireEvent.change(screen.getByLabelText("User Name"), { target: { value: name } });
  fireEvent.change(screen.getByLabelText("Password"), { target: { value: password } });
  fireEvent.click(screen.getByRole("button", { name: "Log In" }));
}

describe("login", () => {
  it("shows the login page when not logged in, and the server's message on a wrong password", async () => {
    const { calls } = fakeServer({
      "GET /api/session": json({ detail: "log in first" }, 401),
      "POST /api/login": json({ detail: "wrong user name or password" }, 401),
    });
    render(<App />);
    expect(await screen.findByRole("button", { name: "Log In" })).toBeTruthy();
    logIn();
    expect((await screen.findByRole("alert")).textContent).toBe("wrong user name or password");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ user_name: "ada", password: "wrong" });
    expect(screen.queryByRole("link", { name: "Build" })).toBeNull();
    expect((screen.getByLabelText("Password") as HTMLInputElement).value).toBe("");
  });

  it("shows the rate limit message with the wait", async () => {
    fakeServer({
      "GET /api/session": json({ detail: "log in first" }, 401),
      "POST /api/login": () => ({ status: 429, json: { detail: "too many login attempts" }, headers: { "Retry-After": "30" } }),
    });
    render(<App />);
    await screen.findByRole("button", { name: "Log In" });
    logIn();
    expect((await screen.findByRole("alert")).textContent).toBe("too many login attempts Try again in 30 seconds.");
  });

  it("shows the server's hint when there is no user yet", async () => {
    const hint = "no user yet: create the first with: postroom users add NAME --role admin --password-stdin";
    fakeServer({ "GET /api/session": json({ detail: hint }, 503) });
    render(<App />);
    expect((await screen.findByRole("alert")).textContent).toBe(hint);
    expect(screen.queryByRole("button", { name: "Log In" })).toBeNull();
  });

  it("logs in, shows navigation, the user and role; Log Out goes back with the CSRF token", async () => {
    const { calls } = fakeServer({
      "GET /api/session": json({ detail: "log in first" }, 401),
      "POST /api/login": json({ user: { name: "ada", role: "builder" }, csrf_token: "tok123" }),
      "POST /api/logout": () => ({ status: 204 }),
      "GET /api/components": json([]),
    });
    render(<App />);
    await screen.findByRole("button", { name: "Log In" });
    logIn("ada", "right");
    expect(await screen.findByRole("link", { name: "Build" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Process Reporting" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Dev Inbox" })).toBeTruthy();
    expect(screen.getByText("ada")).toBeTruthy();
    expect(screen.getByText("(builder)")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Log Out" }));
    expect(await screen.findByRole("button", { name: "Log In" })).toBeTruthy();
    expect(calls.find((c) => c.path === "/api/logout")?.headers["X-CSRF-Token"]).toBe("tok123");
  });

  it("goes back to the login page when the session ends", async () => {
    fakeServer({
      "GET /api/session": json({ user: { name: "ada", role: "builder" }, csrf_token: "t" }),
      "GET /api/components": json({ detail: "log in first" }, 401),
    });
    window.history.pushState({}, "", "/build");
    render(<App />);
    expect(await screen.findByRole("button", { name: "Log In" })).toBeTruthy();
  });
});
