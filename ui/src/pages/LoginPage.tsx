// The login page: User Name, Password, Log In; the server's message on failure.
import { useState, type FormEvent } from "react";
import { api, ApiError, errorText } from "../api";
import type { Session } from "../types";

export function LoginPage({ onLogin }: { onLogin: (session: Session) => void }) {
  const [userName, setUserName] = useState("");
  const [password, setPassword] = useState("");
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setMessage("");
    try {
      const session = await api<Session>("POST", "/login", { user_name: userName, password });
      setPassword("");
      onLogin(session);
    } catch (error) {
      setPassword(""); // typed again, never kept in the page
      setMessage(loginMessage(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="centered login">
      <h1>Postroom</h1>
      <form onSubmit={submit} aria-label="Log in">
        <label htmlFor="login-user">User Name</label>
        <input id="login-user" value={userName} autoComplete="username" autoFocus
               onChange={(e) => setUserName(e.target.value)} />
        <label htmlFor="login-password">Password</label>
        <input id="login-password" type="password" value={password} autoComplete="current-password"
               onChange={(e) => setPassword(e.target.value)} />
        {message && <p role="alert" className="error">{message}</p>}
        <button type="submit" disabled={busy}>Log In</button>
      </form>
    </main>
  );
}

function loginMessage(error: unknown): string {
  if (error instanceof ApiError && error.status === 429) {
    const wait = error.retryAfter ? ` Try again in ${error.retryAfter} seconds.` : "";
    return `${error.message}${wait}`;
  }
  return errorText(error);
}
