// The application shell; the pages (Build, Process Reporting, Dev Inbox) come with issue 9.
export function App() {
  return <main><h1>Postroom</h1></main>;
}
