// The application shell: asks the server who is logged in, then shows the login page or
// the pages (Build, Process Reporting, Dev Inbox) under one navigation bar.
import { useCallback, useEffect, useState } from "react";
import { BrowserRouter } from "react-router-dom";
import { api, ApiError, errorText, setCsrfToken, setUnauthorizedHandler } from "./api";
import { LoginPage } from "./pages/LoginPage";
import { Shell } from "./pages/Shell";
import type { Session, User } from "./types";

type State =
  | { kind: "loading" }
  | { kind: "login" }
  | { kind: "no-user"; hint: string }
  | { kind: "error"; message: string }
  | { kind: "in"; user: User };

export function App() {
  const [state, setState] = useState<State>({ kind: "loading" });

  const loggedIn = useCallback((session: Session) => {
    setCsrfToken(session.csrf_token);
    setState({ kind: "in", user: session.user });
  }, []);

  useEffect(() => {
    api<Session>("GET", "/session")
      .then(loggedIn)
      .catch((error: unknown) => setState(stateForError(error)));
  }, [loggedIn]);

  const loggedOut = useCallback(() => {
    setCsrfToken("");
    setState({ kind: "login" });
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(loggedOut);
    return () => setUnauthorizedHandler(null);
  }, [loggedOut]);

  return (
    <BrowserRouter>
      <AppBody state={state} onLogin={loggedIn} onLogout={loggedOut} />
    </BrowserRouter>
  );
}

function stateForError(error: unknown): State {
  if (error instanceof ApiError && error.status === 401) return { kind: "login" };
  if (error instanceof ApiError && error.status === 503) return { kind: "no-user", hint: error.message };
  return { kind: "error", message: errorText(error) };
}

interface BodyProps {
  state: State;
  onLogin: (session: Session) => void;
  onLogout: () => void;
}

function AppBody({ state, onLogin, onLogout }: BodyProps) {
  switch (state.kind) {
    case "loading":
      return <p className="loading">Loading…</p>;
    case "login":
      return <LoginPage onLogin={onLogin} />;
    case "no-user":
      return (
        <main className="centered">
          <h1>Postroom</h1>
          <p role="alert">{state.hint}</p>
        </main>
      );
    case "error":
      return (
        <main className="centered">
          <h1>Postroom</h1>
          <p role="alert">The server could not be reached: {state.message}</p>
        </main>
      );
    case "in":
      return <Shell user={state.user} onLogout={onLogout} />;
  }
}
