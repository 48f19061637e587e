// The logged-in frame: navigation (Build, Process Reporting, Dev Inbox), who is logged in,
// Log Out, and the routes of the pages.
import { NavLink, Navigate, Route, Routes } from "react-router-dom";
import { api } from "../api";
import type { User } from "../types";
import { BuildPage } from "./builder/BuildPage";
import { DevInbox } from "./inbox/DevInbox";
import { ProcessReporting } from "./reporting/ProcessReporting";

export function Shell({ user, onLogout }: { user: User; onLogout: () => void }) {
  async function logout() {
    try {
      await api("POST", "/logout");
    } finally {
      onLogout();
    }
  }

  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Postroom</span>
        <nav aria-label="Main">
          <NavLink to="/build">Build</NavLink>
          <NavLink to="/reporting">Process Reporting</NavLink>
          <NavLink to="/inbox">Dev Inbox</NavLink>
        </nav>
        <span className="who">
          <span className="user-name">{user.name}</span> <span className="role">({user.role})</span>
        </span>
        <button type="button" onClick={logout}>Log Out</button>
      </header>
      <Routes>
        <Route path="/" element={<Navigate to="/build" replace />} />
        <Route path="/build" element={<BuildPage user={user} />} />
        <Route path="/build/new" element={<BuildPage user={user} />} />
        <Route path="/build/c/:componentId" element={<BuildPage user={user} />} />
        <Route path="/reporting" element={<ProcessReporting user={user} />} />
        <Route path="/reporting/:executionId" element={<ProcessReporting user={user} />} />
        <Route path="/inbox" element={<DevInbox />} />
        <Route path="/inbox/:messageId" element={<DevInbox />} />
        <Route path="*" element={<p className="page">No such page.</p>} />
      </Routes>
    </div>
  );
}
